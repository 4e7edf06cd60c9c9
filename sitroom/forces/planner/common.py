"""Shared pieces of the planner: distances and flight times, vehicle fit, input checks.

Times inside the planner are whole minutes from `Problem.start`; weights are kilograms;
floor lengths are centimetres (integers, so the packing models stay exact).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .model import AircraftType, Airfield, Problem, Vehicle

# Why a problem cannot be planned: a reason code and the English sentence the planner
# writes for it (logs, the plan's JSON). Readers see the reason in their own language from
# its code and parameters (`sitroom.forces.render.reason_text`), never this English.
REASONS = {
    "start-without-offset": "the start time has no UTC offset",
    "fleet-unknown-type": "fleet: aircraft type {aircraft!r} is not in the aircraft list",
    "airfield-no-ground": "airfield {airfield}: maximum on ground must be at least 1",
    "airfield-half-hours": "airfield {airfield}: give both opening and closing time, "
                           "or neither",
    "unit-road-time-zero": "unit {unit_name} ({unit}): road move allowed but its road "
                           "time is 0",
    "unit-airfield-not-apoe": "unit {unit_name} ({unit}): its airfield {airfield!r} is "
                              "not among the APOEs",
    "unit-destination-not-apod": "unit {unit_name} ({unit}): its destination "
                                 "{destination!r} is not among the home airfields",
    "unit-no-seats": "unit {unit_name} ({unit}): no available aircraft type has seats",
    "vehicle-fits-no-aircraft": "vehicle {vehicle} ({kind}) of unit {unit_name} ({unit}) "
                                "fits no available aircraft type: {why}",
    "site-unknown-unit": "site {site_name} ({site}): guarded by unknown unit {unit!r}",
    "site-without-relief": "site {site_name} ({site}): no national relief is planned, so "
                           "unit {unit_name} can never hand it over and leave",
}

MISFIT_TEXT = {
    "width": "width {value:g} m > {aircraft} floor width {limit:g} m",
    "height": "height {value:g} m > {aircraft} hold height {limit:g} m",
    "length": "length {value:g} m > {aircraft} floor length {limit:g} m",
    "weight": "weight {value} kg > {aircraft} allowable cabin load {limit} kg",
}


def misfit_english(m: dict) -> str:
    return MISFIT_TEXT[m["dimension"]].format(**m)


def reason_english(code: str, params: dict) -> str:
    """The planner's own English sentence for a reason (see REASONS)."""
    values = dict(params)
    if code == "vehicle-fits-no-aircraft":
        values["why"] = "; ".join(map(misfit_english, params.get("misfits") or ())) or \
            "the fleet has no airframes"
    return REASONS[code].format(**values)


class Infeasible(Exception):
    """The input cannot be planned: a reason `code` (see REASONS) and its `params`, which
    name the unit/site/vehicle/aircraft and the figures of the rule broken."""

    def __init__(self, code: str, **params):
        self.code, self.params = code, params
        super().__init__(reason_english(code, params))

    @property
    def reason(self) -> dict:
        return {"code": self.code, "params": self.params}


def great_circle_km(a: Airfield, b: Airfield) -> float:
    """Haversine distance on a 6,371 km sphere."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def flight_min(a: Airfield, b: Airfield, aircraft: AircraftType) -> int:
    """Block time in whole minutes (rounded up): great-circle distance at cruise speed."""
    if a.code == b.code:
        return 0
    return math.ceil(great_circle_km(a, b) / aircraft.cruise_kmh * 60)


def misfit(v: Vehicle, k: AircraftType) -> dict | None:
    """Why `v` cannot go on type `k` (None if it can): the first of width, height, length
    or weight over the aircraft's figure, with the vehicle's value and the limit."""
    for dimension, value, limit in (("width", v.width_m, k.floor_width_m),
                                    ("height", v.height_m, k.height_m),
                                    ("length", v.length_m, k.floor_length_m),
                                    ("weight", v.weight_kg, k.acl_kg)):
        if value > limit:
            return {"aircraft": k.code, "dimension": dimension, "value": value,
                    "limit": limit}
    return None


def vehicle_misfit(v: Vehicle, k: AircraftType) -> str:
    """Why `v` cannot go on type `k` ("" if it can), in the planner's English."""
    found = misfit(v, k)
    return misfit_english(found) if found else ""


@dataclass(frozen=True)
class Capacity:
    """What one sortie of an aircraft type holds, in the planner's integer units."""

    code: str
    weight: int  # kg (ACL)
    floor: int  # cm, floor length plus one lashing gap (n vehicles need n - 1 gaps)
    seats: int  # seats with the floor fully seated
    side_seats: int  # seats left with the floor full of vehicles
    person_kg: int
    gap_cm: int

    @classmethod
    def of(cls, k: AircraftType, problem: Problem) -> Capacity:
        gap = round(problem.vehicle_gap_m * 100)
        return cls(
            k.code,
            k.acl_kg,
            math.floor(k.floor_length_m * 100) + gap,
            k.full_seats,
            min(k.seats, k.full_seats),
            problem.person_kg,
            gap,
        )

    def floor_of(self, v: Vehicle) -> int:
        return self.floor_of_length(v.length_m)

    def floor_of_length(self, length_m: float) -> int:
        return math.ceil(length_m * 100) + self.gap_cm

    def seats_lost(self, v: Vehicle) -> int:
        """Floor seats the vehicle stands on: (seats - side seats) x its share of the floor."""
        lost = self.seats - self.side_seats
        return -(-lost * self.floor_of(v) // self.floor) if lost > 0 else 0


def usable_types(problem: Problem) -> list[AircraftType]:
    """Aircraft types with at least one airframe in the fleet, in the problem's order."""
    counts: dict[str, int] = {}
    for f in problem.fleet:
        counts[f.aircraft_type] = counts.get(f.aircraft_type, 0) + max(0, f.count)
    return [k for k in problem.aircraft if counts.get(k.code, 0) > 0]


def validate(problem: Problem) -> None:
    """Raise Infeasible naming the first thing that makes the problem impossible to plan."""
    if problem.start.tzinfo is None:
        raise Infeasible("start-without-offset")
    codes = {k.code for k in problem.aircraft}
    for f in problem.fleet:
        if f.aircraft_type not in codes:
            raise Infeasible("fleet-unknown-type", aircraft=f.aircraft_type)
    apoe = {a.code for a in problem.airfields}
    apod = {a.code for a in problem.destinations}
    for a in (*problem.airfields, *problem.destinations):
        if a.max_on_ground < 1:
            raise Infeasible("airfield-no-ground", airfield=a.code)
        if (a.opens is None) != (a.closes is None):
            raise Infeasible("airfield-half-hours", airfield=a.code)
    units = {u.id: u for u in problem.units}
    types = usable_types(problem)
    for u in problem.units:
        who = {"unit": u.id, "unit_name": u.name}
        if u.road_allowed and u.road_min <= 0:
            raise Infeasible("unit-road-time-zero", **who)
        needs_air = not u.road_allowed
        if needs_air and u.airfield not in apoe:
            raise Infeasible("unit-airfield-not-apoe", airfield=u.airfield, **who)
        if needs_air and u.destination not in apod:
            raise Infeasible("unit-destination-not-apod", destination=u.destination, **who)
        if not needs_air:
            continue
        if u.personnel > 0 and not any(k.full_seats > 0 for k in types):
            raise Infeasible("unit-no-seats", **who)
        for v in u.vehicles:
            misfits = [misfit(v, k) for k in types]
            if all(misfits):
                raise Infeasible("vehicle-fits-no-aircraft", vehicle=v.id, kind=v.kind,
                                 misfits=misfits, **who)
    for s in problem.sites:
        if s.guarded_by not in units:
            raise Infeasible("site-unknown-unit", site=s.id, site_name=s.name,
                             unit=s.guarded_by)
        if s.relief_from is None:
            raise Infeasible("site-without-relief", site=s.id, site_name=s.name,
                             unit=s.guarded_by, unit_name=units[s.guarded_by].name)


@dataclass
class Aboard:
    """CP-SAT's choice of what each sortie carries (`add_aboard`)."""

    x: dict[tuple[str, int], Any] = field(default_factory=dict)  # (vehicle, sortie): aboard
    y: dict[tuple[Any, int], Any] = field(default_factory=dict)  # (people, sortie): how many
    on: dict[int, list[tuple[Vehicle, Any]]] = field(default_factory=dict)  # sortie: vehicles


def add_aboard(model, caps: dict[int, Capacity], vehicles: list[tuple[Vehicle, list[int]]],
               people: list[tuple[Any, int, list[int]]], *, everyone: bool) -> Aboard:
    """Add to the CP-SAT `model` the choice of what the sorties `caps` (sortie: its type's
    capacity) carry, within each one's allowable cabin load (personnel at person_kg),
    floor length and seats (loads.py's rules). `vehicles`: (a vehicle, the sorties it may
    take); `people`: (a key, how many, the sorties they may take). `everyone`: all of
    them aboard; otherwise each vehicle on at most one sortie and at most that many
    people, the rest left to the caller."""
    a = Aboard(on={i: [] for i in caps})
    seated: dict[int, list[Any]] = {i: [] for i in caps}
    for v, cands in vehicles:
        for i in cands:
            a.x[v.id, i] = var = model.new_bool_var(f"x{v.id}_{i}")
            a.on[i].append((v, var))
        aboard = [a.x[v.id, i] for i in cands]
        if everyone:
            model.add_exactly_one(aboard)
        else:
            model.add_at_most_one(aboard)
    for key, n, cands in people:
        for i in cands:
            a.y[key, i] = var = model.new_int_var(0, min(n, caps[i].seats), f"y{key}_{i}")
            seated[i].append(var)
        total = sum(a.y[key, i] for i in cands)
        model.add(total == n if everyone else total <= n)
    for i, cap in caps.items():
        vs, ps = a.on[i], seated[i]
        model.add(sum(v.weight_kg * b for v, b in vs) + cap.person_kg * sum(ps) <= cap.weight)
        model.add(sum(cap.floor_of(v) * b for v, b in vs) <= cap.floor)
        model.add(sum(cap.seats_lost(v) * b for v, b in vs) + sum(ps) <= cap.seats)
    return a


def cp_solver():
    """A CP-SAT solver that leaves Ctrl-C to the caller: by default CP-SAT catches SIGINT
    itself while it searches, which replaces the command's own handler (the one that
    stops the planner keeping the best plan) and, from a thread, aborts the process."""
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    solver.parameters.catch_sigint_signal = False
    return solver


def solve_found(model, time_limit: float, workers: int, stop: threading.Event | None):
    """CP-SAT on `model` for `time_limit` s on `workers`, ended early when `stop` is set:
    the solver, to read the values from, when it found a solution; else None."""
    from ortools.sat.python import cp_model

    solver = cp_solver()
    solver.parameters.max_time_in_seconds = max(0.05, time_limit)
    solver.parameters.num_workers = max(1, workers)
    code, _stopped = solve_stoppable(solver, model, lambda: stop is not None and stop.is_set())
    return solver if code in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None


def solve_stoppable(solver, model, stop: Callable[[], bool], callback=None,
                    heartbeat: Callable[[], None] | None = None) -> tuple[int, bool]:
    """`solver.solve(model, callback)` while a watcher thread ends the search as soon as
    `stop()` is true (a Stop on the page, Ctrl-C) and calls `heartbeat` about once a
    second; CP-SAT's status and whether it was stopped."""
    done, stopped = threading.Event(), threading.Event()

    def watch() -> None:
        ticks = 0
        while not done.wait(0.05):
            if stop():
                stopped.set()
                solver.stop_search()
                return
            ticks += 1
            if heartbeat is not None and ticks % 20 == 0:
                heartbeat()

    watcher = threading.Thread(target=watch, name="planner-stop", daemon=True)
    watcher.start()
    try:
        code = solver.solve(model, callback) if callback is not None else solver.solve(model)
    finally:
        done.set()
        watcher.join()
    return code, stopped.is_set()
