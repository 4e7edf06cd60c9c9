"""Layer 1 again, at the times layer 2 found: the scheduled sorties refilled.

Layer 1 packs blind to the clock (or to buckets of it) and layer 2 only moves the sorties
it is given, so a plan can end with part-empty sorties whose cargo would have fitted in
part-empty sorties flown days earlier (seed 0 of the scenario-size benchmark: eight
fourth-morning sorties carrying vehicles of units ready on the first and second day,
while third-day sorties flew 44-64 % of their allowable cabin load).

`refill` keeps every scheduled sortie where it is (airframe, start, type, route) and asks
CP-SAT to put every vehicle and person of the groups flown by air back on them: each on a
sortie of its group (APOE, APOD) that starts no earlier than its unit is ready, within
each sortie's allowable cabin load, floor length and seats (the rules of loads.py),
minimising the last landing of a sortie that still carries anything, then the number of
such sorties. The current loads are its hint, so it never returns worse. Sorties left
empty are dropped; the others keep their times, which stay a valid schedule (fewer
intervals on the same airframes, loading and unloading places and hours), and layer 2
restarts from it to pull the rest earlier. Sorties of a unit that may drive are kept as
they are.
"""

from __future__ import annotations

import threading

from .common import Capacity, add_aboard, misfit, solve_found
from .loads import Load, _add_vehicle
from .model import Problem
from .schedule import Schedule, Slot, closure_of, colour_airframes, slots_of, unit_ready

# The model has a boolean per vehicle and sortie of its route: about 4,000 on the
# scenario-size benchmark, built in a fraction of a second. Ten times the force is a
# hundred times that, more than a round of the time limit builds and solves.
MAX_PAIRS = 50_000


def refillable(slots: list[Slot]) -> bool:
    """Whether `refill` would take these sorties (at most MAX_PAIRS vehicle-sortie pairs
    of one route, counted before the ready times cut them)."""
    vehicles: dict[tuple, int] = {}
    sorties: dict[tuple, int] = {}
    for s in slots:
        if not s.optional_unit:
            key = s.load.group
            vehicles[key] = vehicles.get(key, 0) + len(s.load.vehicles)
            sorties[key] = sorties.get(key, 0) + 1
    return sum(vehicles[k] * sorties[k] for k in vehicles) <= MAX_PAIRS


def refill(
    problem: Problem,
    slots: list[Slot],
    sched: Schedule,
    *,
    time_limit: float,
    workers: int,
    stop: threading.Event | None = None,
) -> tuple[list[Load], list[Slot], Schedule] | None:
    """The loads refilled at their scheduled times, their sorties and their schedule (the
    same starts, empty sorties gone, the airframes coloured again and the closure
    recomputed), or None when CP-SAT found nothing better in `time_limit` s."""
    from ortools.sat.python import cp_model

    ready = unit_ready(problem)
    kinds = {k.code: k for k in problem.aircraft}
    caps = {code: Capacity.of(k, problem) for code, k in kinds.items()}
    flown = [i for i, st in enumerate(sched.starts) if st is not None]
    free = [i for i in flown if not slots[i].optional_unit]
    if not free or not refillable([slots[i] for i in free]):
        return None
    m = cp_model.CpModel()
    used = {i: m.new_bool_var(f"used{i}") for i in free}
    by_group: dict[tuple, list[int]] = {}
    for i in free:
        by_group.setdefault(slots[i].load.group, []).append(i)
    vehicles, people = {}, {}
    for group, idx in by_group.items():
        for i in idx:
            load = slots[i].load
            for v in load.vehicles:
                vehicles[v.id] = (v, group)
            for u, n in load.by_unit.items():
                people[(u, group)] = people.get((u, group), 0) + n
    a = add_aboard(
        m,
        {i: caps[slots[i].load.aircraft_type] for i in free},
        [(v, [i for i in by_group[group] if sched.starts[i] >= ready[v.unit]
               and misfit(v, kinds[slots[i].load.aircraft_type]) is None])
         for v, group in vehicles.values()],
        [(u, n, [i for i in by_group[group] if sched.starts[i] >= ready[u]])
         for (u, group), n in people.items()],
        everyone=True,
    )
    x, y = a.x, a.y
    seated: dict[int, list] = {i: [] for i in free}
    for (_u, i), var in y.items():
        seated[i].append(var)
    for i in free:
        for _v, b in a.on[i]:
            m.add_implication(b, used[i])
        if seated[i]:
            m.add(sum(seated[i]) <= caps[slots[i].load.aircraft_type].seats * used[i])
    lands = {i: sched.starts[i] + slots[i].landing_offset for i in free}
    # what stays as it is (sorties of a unit that may drive, convoys) has landed by then
    road_min = {u.id: u.road_min for u in problem.units}
    as_is = [i for i in flown if i not in used]
    settled = closure_of([slots[i] for i in as_is], [sched.starts[i] for i in as_is],
                         sched.road, road_min)
    closure = m.new_int_var(settled, max(settled, *lands.values()), "closure")
    for i in free:
        m.add(closure >= lands[i]).only_enforce_if(used[i])
    # then the airframe time the sorties take, scarce types dearer (an An-124 cycle
    # freed lets layer 2 pull a later An-124 sortie earlier); then the later sorties
    # emptied first (when a convoy sets the closure, too)
    frames: dict[str, int] = {}
    for f in problem.fleet:
        frames[f.aircraft_type] = frames.get(f.aircraft_type, 0) + max(0, f.count)
    latest = max(lands.values())
    cost = {i: -(-slots[i].cycle // max(1, frames.get(slots[i].load.aircraft_type, 1)))
            * (latest + 1) + lands[i] for i in free}
    m.minimize(closure * (sum(cost.values()) + 1) + sum(cost[i] * used[i] for i in free))
    for i in free:
        load = slots[i].load
        m.add_hint(used[i], 1)
        for v in load.vehicles:
            m.add_hint(x[v.id, i], 1)
        for u, n in load.by_unit.items():
            m.add_hint(y[u, i], n)
    for (vid, i), var in x.items():
        if vehicles[vid][0] not in slots[i].load.vehicles:
            m.add_hint(var, 0)
    for (u, i), var in y.items():
        if u not in slots[i].load.by_unit:
            m.add_hint(var, 0)

    solver = solve_found(m, time_limit, workers, stop)
    if solver is None:
        return None
    before = max(lands.values())
    kept = [i for i in free if solver.value(used[i])]
    if len(kept) == len(free) and solver.value(closure) >= before:
        return None
    loads: list[Load] = []
    starts: list[int | None] = []
    for i in flown:
        old = slots[i].load
        if i not in used:
            loads.append(old)
            starts.append(sched.starts[i])
            continue
        if i not in kept:
            continue
        cap = caps[old.aircraft_type]
        load = Load(old.aircraft_type, old.origin, old.destination, old.group,
                    hint=sched.starts[i])
        for vid, (v, group) in vehicles.items():
            if group == old.group and (vid, i) in x and solver.value(x[vid, i]):
                _add_vehicle(load, v, cap)
        for (u, group), _n in people.items():
            if group == old.group and (u, i) in y and (n := solver.value(y[u, i])):
                load.by_unit[u] = n
        load.personnel = sum(load.by_unit.values())
        load.weight += load.personnel * problem.person_kg
        loads.append(load)
        starts.append(sched.starts[i])
    # in time order, so that the hint keeps layer 2's order among identical sorties
    order = sorted(range(len(loads)), key=lambda n: starts[n])
    loads, starts = [loads[n] for n in order], [starts[n] for n in order]
    # unflown sorties of units that drive stay in the plan's loads, unscheduled
    for i, st in enumerate(sched.starts):
        if st is None:
            loads.append(slots[i].load)
            starts.append(None)
    new_slots = slots_of(problem, loads)
    return loads, new_slots, Schedule(
        starts, colour_airframes(problem, new_slots, starts), dict(sched.road),
        closure_of(new_slots, starts, sched.road, road_min), sched.bound, sched.status)
