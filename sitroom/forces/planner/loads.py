"""Layer 1: how many sorties of which type carry the force, and what goes on each.

Loads are grouped by (APOE, APOD): loads of different destinations never share a sortie
and a sortie flies from one airfield. A unit that may go by road gets a group of its own,
so that layer 2 can drop its sorties when the unit drives home.
For the plan (not for the bounds) a group at an APOE with working hours is cut into
waves by the working day in which its units can first load (`waves_of`): a sortie waits
for the last unit aboard, so a unit ready after today's last loading would otherwise
hold units ready today until the morning (scenario-size benchmark: the closure of two
seeds of three fell from 5,859 to 4,430 min).

Per group the packing is a heterogeneous vector bin packing: a sortie of type k carries
vehicles and personnel within its allowable cabin load (personnel at `person_kg` each),
its floor length (vehicle length plus a lashing gap) and its seats (personnel plus the
floor seats the vehicles stand on, see model.py). Vehicles too wide, high, long or heavy
for a type are excluded from it (outsize -> An-124).

It is solved as a set-cover model over explicit sortie loads: columns.py enumerates every
feasible load per group and type (vehicle classes are few, so the enumeration is complete
and small: column generation run to the end, with nothing left to price), and master.py
chooses integer counts of them on HiGHS for all groups at once, minimising the closure the
airframes allow (busiest airframe's cycles, fleet time, MOG, and the loadings an APOE
with working hours holds per day) and then the sorties. The
loads use each class's heaviest vehicle, so the chosen counts always pack; the actual
vehicles are then put in the chosen loads and the personnel in the seats left
(`_realize`). When the enumeration is too large or HiGHS finds nothing in time, the
first-fit-decreasing packing (the baseline) is used. Personnel of a group are
interchangeable for the count, and are given to units afterwards (`_assign_personnel`).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .bounds import ARCFLOW_TIME, SortieBounds, group_sortie_bounds, handover_path_bound
from .columns import ItemClass, Pattern, classes_of, enumerate_patterns
from .common import Capacity, usable_types, vehicle_misfit
from .model import Problem, Unit, Vehicle

# Of layer 1's time after the sortie bounds: the share of the fleet master's bound (the
# "fleet-cycle" closure bound); its packing has the rest.
FLEET_BOUND_SHARE = 0.5

GroupKey = tuple[str, str, str]  # (APOE, APOD, unit id of a road-allowed unit or "")


@dataclass
class Load:
    """The content of one sortie, before it is scheduled."""

    aircraft_type: str
    origin: str
    destination: str
    group: GroupKey
    vehicles: list[Vehicle] = field(default_factory=list)
    personnel: int = 0
    by_unit: dict[str, int] = field(default_factory=dict)  # unit -> personnel
    weight: int = 0
    floor: int = 0  # cm
    seats_lost: int = 0
    # the minute the load is meant to start at (time-indexed loads), the order the
    # greedy schedule follows; None: its ready time
    hint: int | None = None

    @property
    def seats_used(self) -> int:
        return self.personnel + self.seats_lost

    @property
    def units(self) -> list[str]:
        seen = dict.fromkeys(self.by_unit)
        for v in self.vehicles:
            seen.setdefault(v.unit, None)
        return list(seen)


@dataclass
class Group:
    key: GroupKey
    units: list[Unit]
    vehicles: list[Vehicle]
    personnel: int
    compat: dict[str, list[str]]  # vehicle id -> type codes it fits

    @property
    def optional_unit(self) -> str:
        return self.key[2]

    def part(self, units: list[Unit]) -> Group:
        """The same group with only `units` (and their vehicles)."""
        ids = {u.id for u in units}
        vs = [v for v in self.vehicles if v.unit in ids]
        people = sum(u.personnel for u in units)
        return Group(self.key, list(units), vs, people, {v.id: self.compat[v.id] for v in vs})


@dataclass
class Layer1:
    loads: list[Load]
    bounds: dict[GroupKey, SortieBounds]
    seconds: float
    # lower bound on closure over every packing and schedule (master.py, bound mode);
    # 0 when it could not be computed
    fleet_bound: int = 0
    method: str = "FFD"


def groups_of(problem: Problem) -> list[Group]:
    types = usable_types(problem)
    groups: dict[GroupKey, Group] = {}
    for u in problem.units:
        key = (u.airfield, u.destination, u.id if u.road_allowed else "")
        g = groups.setdefault(key, Group(key, [], [], 0, {}))
        g.units.append(u)
        g.personnel += u.personnel
        for v in u.vehicles:
            g.vehicles.append(v)
            g.compat[v.id] = [k.code for k in types if not vehicle_misfit(v, k)]
    return [g for g in groups.values() if g.personnel or g.vehicles]


def waves_of(problem: Problem, groups: list[Group]) -> list[Group]:
    """The groups split for packing by the working day in which their units can first
    load: a sortie waits for the last unit aboard, so a unit ready too late for today's
    hours at its APOE would hold back the units ready today. Groups at airfields open
    day and night stay whole. The parts keep their group's key."""
    from .schedule import open_windows, unit_ready

    ready = unit_ready(problem)
    apoes = {a.code: a for a in problem.airfields}
    turn = min((k.turnaround_min for k in usable_types(problem)), default=0)
    horizon = max(ready.values(), default=0) + 3 * 24 * 60
    out: list[Group] = []
    for g in groups:
        field = apoes.get(g.key[0])
        windows = open_windows(field, problem, horizon) if field is not None else None
        if windows is None:
            out.append(g)
            continue
        fits = [(lo, hi - turn) for lo, hi in windows if hi - turn >= lo]
        by_day: dict[int, list[Unit]] = {}
        for u in g.units:
            day = next((i for i, (_lo, last) in enumerate(fits) if ready[u.id] <= last), -1)
            by_day.setdefault(day, []).append(u)
        if len(by_day) == 1:
            out.append(g)
            continue
        out.extend(g.part(units) for _day, units in sorted(by_day.items()))
    return out


def _fleet_counts(problem: Problem) -> dict[str, int]:
    counts: dict[str, int] = {}
    for f in problem.fleet:
        counts[f.aircraft_type] = counts.get(f.aircraft_type, 0) + max(0, f.count)
    return counts


def first_fit_decreasing(
    problem: Problem, group: Group, personnel: dict[str, int] | None = None
) -> list[Load]:
    """The baseline: vehicles that fit fewer types first, then by decreasing weight, each
    into the first open sortie with room, else a new sortie of the type with most airframes
    that takes it; then personnel into the seats left, then new sorties of the type carrying
    most people. `personnel`: the people of each unit to carry, when not all of them."""
    types = {k.code: k for k in usable_types(problem)}
    caps = {c: Capacity.of(k, problem) for c, k in types.items()}
    counts = _fleet_counts(problem)
    origin, dest, _ = group.key
    loads: list[Load] = []
    order = sorted(group.vehicles, key=lambda v: (len(group.compat[v.id]), -v.weight_kg, v.id))
    for v in order:
        for load in loads:
            cap = caps[load.aircraft_type]
            if load.aircraft_type not in group.compat[v.id]:
                continue
            if (
                load.weight + v.weight_kg <= cap.weight
                and load.floor + cap.floor_of(v) <= cap.floor
                and load.seats_lost + cap.seats_lost(v) <= cap.seats
            ):
                _add_vehicle(load, v, cap)
                break
        else:
            code = max(group.compat[v.id], key=lambda c: (counts[c], caps[c].weight))
            load = Load(code, origin, dest, group.key)
            _add_vehicle(load, v, caps[code])
            loads.append(load)
    left = group.personnel
    for load in loads:
        room = _person_room(load, caps[load.aircraft_type])
        take = min(room, left)
        load.personnel += take
        load.weight += take * problem.person_kg
        left -= take
    if left > 0:
        code = max(caps, key=lambda c: (_person_room(Load(c, "", "", group.key), caps[c]), c))
        per = _person_room(Load(code, "", "", group.key), caps[code])
        while left > 0:
            take = min(per, left)
            loads.append(
                Load(
                    code,
                    origin,
                    dest,
                    group.key,
                    personnel=take,
                    weight=take * problem.person_kg,
                )
            )
            left -= take
    _assign_personnel(loads, group, personnel)
    return loads


def _add_vehicle(load: Load, v: Vehicle, cap: Capacity) -> None:
    load.vehicles.append(v)
    load.weight += v.weight_kg
    load.floor += cap.floor_of(v)
    load.seats_lost += cap.seats_lost(v)


def _person_room(load: Load, cap: Capacity) -> int:
    by_seats = cap.seats - load.seats_lost - load.personnel
    by_weight = (cap.weight - load.weight) // cap.person_kg
    return max(0, min(by_seats, by_weight))


def _seat_people(load: Load, cap: Capacity, units: list[str], left: dict[str, int],
                 person_kg: int) -> None:
    """Seat the personnel still `left` of `units`, in that order, in the room the load
    has (seats and weight), and add their weight; `left` is counted down."""
    room = _person_room(load, cap)
    for uid in units:
        if room <= 0:
            break
        take = min(room, left[uid])
        if take:
            load.by_unit[uid] = load.by_unit.get(uid, 0) + take
            left[uid] -= take
            room -= take
    load.personnel = sum(load.by_unit.values())
    load.weight += load.personnel * person_kg


def _assign_personnel(
    loads: list[Load], group: Group, personnel: dict[str, int] | None = None
) -> None:
    """Give each sortie's personnel seats to units: first to the units whose vehicles it
    carries (crews with their vehicles), then to the others in the group's order."""
    left = {u.id: (u.personnel if personnel is None else personnel.get(u.id, 0))
            for u in group.units}
    for load in loads:
        load.by_unit = {}
    for load in loads:
        free = load.personnel
        for v in load.vehicles:
            take = min(free, left.get(v.unit, 0))
            if take:
                load.by_unit[v.unit] = load.by_unit.get(v.unit, 0) + take
                left[v.unit] -= take
                free -= take
    for load in loads:
        free = load.personnel - sum(load.by_unit.values())
        for u in group.units:
            if free <= 0:
                break
            take = min(free, left[u.id])
            if take:
                load.by_unit[u.id] = load.by_unit.get(u.id, 0) + take
                left[u.id] -= take
                free -= take


def _realize(
    problem: Problem,
    group: Group,
    classes: list[ItemClass],
    pats: list[Pattern],
    counts: list[int],
    caps: dict[str, Capacity],
) -> list[Load]:
    """The loads of one group from integer pattern counts. A sortie waits for the last
    unit aboard, so units are kept together by ready time: the vehicles of each class go,
    earliest-ready unit first, into the loads in turn; then the personnel, earliest-ready
    unit first, into the seats the actual weights leave (at least the pattern's, since
    patterns use the heaviest vehicle of each class), loads in order of their vehicles'
    ready time."""
    from .schedule import unit_ready

    ready = unit_ready(problem)
    origin, dest, _ = group.key
    left = [sorted(c.vehicles, key=lambda v: (ready[v.unit], v.unit, v.id)) for c in classes]
    loads: list[Load] = []
    instances = [p for p, n in zip(pats, counts, strict=True) for _ in range(n)]
    instances.sort(key=lambda p: -p.vehicles)
    for p in instances:
        load = Load(p.code, origin, dest, group.key)
        for ci, c in enumerate(p.counts):
            for _ in range(c):
                if left[ci]:
                    _add_vehicle(load, left[ci].pop(0), caps[p.code])
        loads.append(load)
    if any(left):  # cannot happen: the covering rows count every vehicle
        raise RuntimeError("pattern counts do not cover the group's vehicles")

    def load_ready(ld: Load) -> int:
        return max((ready[v.unit] for v in ld.vehicles), default=0)

    loads.sort(key=lambda ld: (load_ready(ld) if ld.vehicles else 10**9, ld.aircraft_type))
    people = {u.id: u.personnel for u in group.units}
    for load in loads:
        load.by_unit = {}
        # crews of the vehicles aboard first, then the earliest-ready units
        mine = {v.unit for v in load.vehicles}
        order = sorted(people, key=lambda uid: (uid not in mine, ready[uid], uid))
        _seat_people(load, caps[load.aircraft_type], order, people, problem.person_kg)
    if any(n > 0 for n in people.values()):
        raise RuntimeError("pattern counts do not seat the group's personnel")
    return [ld for ld in loads if ld.vehicles or ld.personnel]


def _pack(
    problem: Problem,
    groups: list[Group],
    caps: dict[str, Capacity],
    lb0: int,
    *,
    hours: bool,
    time_limit: float,
    workers: int,
    stop: threading.Event | None,
    give_up: float | None = None,
    seed: int = 0,
) -> tuple[list[Load], str] | None:
    """The loads of the fleet master in plan mode (with the working hours' rows, `hours`)
    over the groups cut by `waves_of`, and the method's name; None when the enumeration
    is too large or HiGHS finds nothing in time."""
    from .master import solve_master

    started = time.monotonic()
    parts = waves_of(problem, groups)
    part_classes = [classes_of(g, caps) for g in parts]
    heavy = [
        enumerate_patterns(g, c, caps, heavy=True)
        for g, c in zip(parts, part_classes, strict=True)
    ]
    if any(p is None for p in heavy):
        return None
    res = solve_master(
        problem,
        parts,
        part_classes,
        heavy,
        integer=True,
        lb0=lb0,
        time_limit=max(0.5, time_limit - (time.monotonic() - started)),
        stop=stop,
        threads=workers,
        hours=hours,
        give_up=give_up,
        seed=seed,
    )
    if not res.ok:
        return None
    loads: list[Load] = []
    for g, cls, pats, x in zip(parts, part_classes, heavy, res.x, strict=True):
        counts = [round(v) for v in x]
        if not any(counts):  # a unit the estimate sends by road: layer 2 decides
            loads.extend(first_fit_decreasing(problem, g))
            continue
        loads.extend(_realize(problem, g, cls, pats, counts, caps))
    return loads, ("pattern MIP" + (" with working hours" if hours else "")
                   + (" (optimal)" if res.optimal else ""))


def _has_hours(problem: Problem) -> bool:
    return any(a.opens is not None and a.closes is not None for a in problem.airfields)


def _best_packing(
    problem: Problem,
    groups: list[Group],
    caps: dict[str, Capacity],
    lb0: int,
    *,
    workers: int,
    stop: threading.Event | None,
    until: float,
) -> tuple[list[Load], str]:
    """The master's packing with the working hours' rows and without them, each on half
    the time left, the one whose greedy schedule closes first (([], "FFD") if neither).
    With the hours the master sees that a field open 16 hours a day loads only so many
    sorties a day, and prefers fewer, fuller loads there; on a large force HiGHS finds no
    solution of it, or a poor one, in the time: the master without them is the other
    candidate. The hours' run is given up after a quarter of the time without one."""
    from .schedule import best_greedy, slots_of

    candidates = []
    if _has_hours(problem):
        half = max(0.5, (until - time.monotonic()) / 2)
        packed = _pack(problem, groups, caps, lb0, hours=True, workers=workers, stop=stop,
                       time_limit=half, give_up=half / 2)
        if packed is not None:
            candidates.append(packed)
    if not (stop is not None and stop.is_set()):
        packed = _pack(problem, groups, caps, lb0, hours=False, workers=workers, stop=stop,
                       time_limit=max(0.5, until - time.monotonic()))
        if packed is not None:
            candidates.append(packed)
    if not candidates:
        return [], "FFD"
    scored = sorted(
        ((best_greedy(problem, slots_of(problem, loads)).closure, n, loads, method)
         for n, (loads, method) in enumerate(candidates)),
        key=lambda c: c[:2],
    )
    closure, _n, loads, method = scored[0]
    others = "; ".join(f"{m}: {c} min" for c, _n, _l, m in scored[1:])
    return loads, f"{method} (greedy closure {closure} min{'; ' + others if others else ''})"


def repack(
    problem: Problem,
    *,
    time_limit: float,
    workers: int = 2,
    stop: threading.Event | None = None,
) -> tuple[list[Load], str] | None:
    """Another packing, for the time a solve has left once layer 2 has proved the best
    schedule of the first: the master (with the working hours' rows when an APOE has
    hours) searched with another random seed. None when it finds nothing in time."""
    caps = {k.code: Capacity.of(k, problem) for k in usable_types(problem)}
    return _pack(problem, groups_of(problem), caps, handover_path_bound(problem),
                 hours=_has_hours(problem), workers=workers, stop=stop,
                 time_limit=time_limit, seed=1)


def plan_loads(
    problem: Problem,
    *,
    time_limit: float = 20.0,
    workers: int = 2,
    stop: threading.Event | None = None,
    baseline: bool = False,
    note: Callable[[str], None] | None = None,
) -> Layer1:
    """Layer 1 for the whole force. `baseline=True` gives the FFD packing only (and the
    same bounds). Half the time goes to the closure bound, half to the plan."""
    from .master import solve_master

    started = time.monotonic()
    groups = groups_of(problem)
    caps = {k.code: Capacity.of(k, problem) for k in usable_types(problem)}
    classes = [classes_of(g, caps) for g in groups]
    pairs = list(zip(groups, classes, strict=True))
    light = [enumerate_patterns(g, c, caps, heavy=False) for g, c in pairs]
    complete = all(p is not None for p in light)
    # The arc-flow LPs (never stronger than the pattern LP here, but the slowest of the
    # sortie bounds: seconds for a large group) share a quarter of layer 1's time,
    # smallest group first, each at most ARCFLOW_TIME: the time limit holds.
    arcflow_until = started + 0.25 * time_limit
    bounds = {}
    for g, c, p in sorted(zip(groups, classes, light, strict=True),
                          key=lambda gcp: gcp[0].personnel + len(gcp[0].vehicles)):
        left = arcflow_until - time.monotonic()
        bounds[g.key] = group_sortie_bounds(
            problem, g, classes=c, patterns=p, arcflow_time=min(ARCFLOW_TIME, left)
        )
    lb0 = handover_path_bound(problem)
    fleet_bound = 0
    if complete and not (stop is not None and stop.is_set()):
        spent = time.monotonic() - started
        share = max(0.2, (time_limit - spent) * FLEET_BOUND_SHARE) if not baseline else 10.0
        res = solve_master(
            problem,
            groups,
            classes,
            light,
            integer=False,
            lb0=lb0,
            time_limit=share,
            stop=stop,
            threads=workers,
        )
        fleet_bound = max(lb0, math.ceil(res.bound - 1e-6))
        if note is not None:
            note(
                f"fleet bound {fleet_bound} min ({'optimal' if res.optimal else 'dual bound'}), "
                f"{time.monotonic() - started:.1f} s"
            )
    loads: list[Load] = []
    method = "FFD"
    if not baseline and complete and not (stop is not None and stop.is_set()):
        loads, method = _best_packing(problem, groups, caps, lb0, workers=workers, stop=stop,
                                      until=started + time_limit)
    if not loads:
        for g in groups:
            loads.extend(first_fit_decreasing(problem, g))
    if note is not None:
        for g in groups:
            n = sum(1 for ld in loads if ld.group == g.key)
            note(f"{g.key[0]}->{g.key[1]}: {n} sorties, bound {bounds[g.key].best}")
    return Layer1(loads, bounds, time.monotonic() - started, fleet_bound, method)
