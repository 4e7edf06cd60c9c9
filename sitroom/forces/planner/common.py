"""Shared pieces of the planner: distances and flight times, vehicle fit, input checks.

Times inside the planner are whole minutes from `Problem.start`; weights are kilograms;
floor lengths are centimetres (integers, so the packing models stay exact).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .model import AircraftType, Airfield, Problem, Vehicle


class Infeasible(Exception):
    """The input cannot be planned; the message names the unit/site/vehicle and the rule."""


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


def vehicle_misfit(v: Vehicle, k: AircraftType) -> str:
    """Why `v` cannot go on type `k` ("" if it can): width, height, length or weight."""
    if v.width_m > k.floor_width_m:
        return f"width {v.width_m:g} m > {k.code} floor width {k.floor_width_m:g} m"
    if v.height_m > k.height_m:
        return f"height {v.height_m:g} m > {k.code} hold height {k.height_m:g} m"
    if v.length_m > k.floor_length_m:
        return f"length {v.length_m:g} m > {k.code} floor length {k.floor_length_m:g} m"
    if v.weight_kg > k.acl_kg:
        return f"weight {v.weight_kg} kg > {k.code} allowable cabin load {k.acl_kg} kg"
    return ""


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
        return math.ceil(v.length_m * 100) + self.gap_cm

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
        raise Infeasible("the start time has no UTC offset")
    codes = {k.code for k in problem.aircraft}
    for f in problem.fleet:
        if f.aircraft_type not in codes:
            raise Infeasible(
                f"fleet: aircraft type {f.aircraft_type!r} is not in the aircraft list"
            )
    apoe = {a.code for a in problem.airfields}
    apod = {a.code for a in problem.destinations}
    for a in (*problem.airfields, *problem.destinations):
        if a.max_on_ground < 1:
            raise Infeasible(f"airfield {a.code}: maximum on ground must be at least 1")
        if (a.opens is None) != (a.closes is None):
            raise Infeasible(f"airfield {a.code}: give both opening and closing time, or neither")
    units = {u.id: u for u in problem.units}
    types = usable_types(problem)
    for u in problem.units:
        if u.road_allowed and u.road_min <= 0:
            raise Infeasible(f"unit {u.name} ({u.id}): road move allowed but its road time is 0")
        needs_air = not u.road_allowed
        if needs_air and u.airfield not in apoe:
            raise Infeasible(
                f"unit {u.name} ({u.id}): its airfield {u.airfield!r} is not among the APOEs"
            )
        if needs_air and u.destination not in apod:
            raise Infeasible(
                f"unit {u.name} ({u.id}): its destination {u.destination!r} is not among "
                "the home airfields"
            )
        if not needs_air:
            continue
        if u.personnel > 0 and not any(k.full_seats > 0 for k in types):
            raise Infeasible(f"unit {u.name} ({u.id}): no available aircraft type has seats")
        for v in u.vehicles:
            reasons = [vehicle_misfit(v, k) for k in types]
            if all(reasons):
                why = "; ".join(reasons) if reasons else "the fleet has no airframes"
                raise Infeasible(
                    f"vehicle {v.id} ({v.kind}) of unit {u.name} ({u.id}) fits no available "
                    f"aircraft type: {why}"
                )
    for s in problem.sites:
        if s.guarded_by not in units:
            raise Infeasible(f"site {s.name} ({s.id}): guarded by unknown unit {s.guarded_by!r}")
        if s.relief_from is None:
            raise Infeasible(
                f"site {s.name} ({s.id}): no national relief is planned, so unit "
                f"{units[s.guarded_by].name} can never hand it over and leave"
            )


def cp_solver():
    """A CP-SAT solver that leaves Ctrl-C to the caller: by default CP-SAT catches SIGINT
    itself while it searches, which replaces the command's own handler (the one that
    stops the planner keeping the best plan) and, from a thread, aborts the process."""
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    solver.parameters.catch_sigint_signal = False
    return solver
