"""The time-indexed programme: sorties per group, aircraft type and start bucket.

One model, two uses:
- as a linear programme it proves deadlines no plan meets (`bounds.time_indexed_bound`);
- with integer sortie counts its solution is a timetable of sorties that the airframes,
  the MOG and the working hours allow, from which `time_indexed_loads` builds the loads
  of a plan: each sortie carries what is ready by its bucket. Layer 2 then schedules
  them exactly. It sees what the fleet master of layer 1 does not (when each unit is
  ready, when an airfield with working hours is open, how many airframes are out at each
  moment), so its loads suit the clock: on the scenario-size benchmark's seed 1 the
  closure fell from 4,430 to under 3,900 min (docs/performance.md §6).

Time is cut into buckets of d minutes from the start. y(g, k, b) >= 0 counts the sorties
of type k of group g whose loading starts S in the bucket [b, b + d). A real plan that
closes by D maps to a solution: put each sortie in its bucket. Every row holds for it:
- a bucket exists only where some S in it is allowed: S no earlier than the group's
  first ready unit and the type's first airframe, loading and unloading wholly inside
  the working hours, landing S + turn + flight <= D;
- airframes of k: at every bucket boundary t < D, the sorties in progress (a sortie of
  bucket b is surely in progress at t in [b + d, b + cycle), cycle with the shortest
  return) are at most the airframes available by t;
- MOG: the same for the loadings at each APOE ([b + d, b + turn)) and the unloadings at
  each APOD ([b + d + landing, b + landing + turn): on the ground after landing, as
  layer 2 has them);
- covering, per group g and per ready time r of one of its units: the items of the units
  ready at r or later fly on sorties starting at r or later, i.e. in buckets
  b >= floor(r / d) d. Those sorties are at least L2 of these items (bounds.py), their
  ACLs hold the items' weight (personnel at person_kg), their seats the personnel, their
  floors the vehicles' floor length; and for each set of types that the outsize vehicles
  fit, the sorties of those types are at least the L2 bound of those vehicles (by weight
  and by floor length) and hold their weight and floor. A unit allowed to drive
  that can be home by D drops its group's rows.
The rows are single dimensions, so a solution may carry a fraction of a vehicle: the
loads built from it (largest first, or by CP-SAT, `_realize_timetable`) leave what does
not fit to extra sorties at the end. With integer
counts the model is still a relaxation of every plan (a plan's sorties counted per
bucket are integers), so a deadline with no integer solution is one no plan meets.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .common import Capacity, flight_min, usable_types
from .model import Problem

if TYPE_CHECKING:
    from .loads import Group, Load

BUCKETS = 400  # buckets over the horizon for the bound: at least 15 minutes each
# For a plan: fewer, longer buckets (HiGHS finds integer timetables in a few seconds
# where 400 buckets took it ten or more), at a deadline a little above the best closure
# bound, given most of the time; failing that, at the closure of a plan already found.
# 4 % above: since the bound counts whole sorties its deadline is close to what a plan
# can reach (1.12 suited the linear bound; with the integer one, seeds 0-2 of the
# benchmark closed at 4,604 / 3,653 / 3,751 min with 1.12, 4,502 / 3,650 / 3,465 with
# 1.04 and 4,604 / 3,740 / 3,600 at the bound itself, single runs).
PLAN_BUCKETS = 200
PLAN_DEADLINE = 1.04
PLAN_FIRST_SHARE = 0.75
PLAN_GAP = 0.1  # relative gap at which HiGHS stops with a timetable
FILL_LEAST = 1.0  # seconds for CP-SAT to fill the timetable's sorties, at least


def bucket_width(least: int, turns: list[int]) -> int:
    """The bucket width from `least` to half as much again whose boundaries best count a
    turn on the ground. A MOG row counts a sortie at the boundaries it surely spans, so
    of a turn T it sees (ceil(T / d) - 1) d minutes: with 15-minute buckets, 105 of an
    Il-76's 120 and the MOG looks an eighth larger than it is; with 17, 119 of 120 and
    170 of an An-124's 180. On the benchmark's seed 0, whose plans are held by
    Zhetygen's four places on the ground, 15-minute buckets let integer timetables close
    by 4,300 min and 17-minute ones prove that none does. The worst turn decides; among
    equals, the narrowest width: with both turns, 19 minutes (114 of 120, 171 of 180)."""
    if not turns:
        return least

    def seen(d: int) -> float:
        return min((-(-t // d) - 1) * d / t for t in turns)

    return max(range(least, least + least // 2 + 1), key=lambda d: (seen(d), -d))


@dataclass
class _Route:
    group: int
    code: str  # aircraft type
    turn: int
    landing: int  # load-and-fly: loading starts at S, landing at S + landing
    cycle: int  # with the shortest return to any APOE
    starts: list[tuple[int, int]] | None  # allowed S by working hours (None: any)
    first: int  # earliest S: the group's first ready unit and the type's first airframe


class TimeIndexed:
    """The programme's routes and covering rows for `groups`, buckets sized for deadlines
    up to about `upper`; `solve(deadline)` builds and solves it for one deadline."""

    def __init__(self, problem: Problem, groups: list[Group], upper: int,
                 buckets: int = BUCKETS) -> None:
        from .bounds import _l2, _restricted, _restricted_l2
        from .schedule import _allowed, _intersect, _minutes, open_windows, unit_ready

        self.problem, self.groups = problem, groups
        self.ready = ready = unit_ready(problem)
        caps = {k.code: Capacity.of(k, problem) for k in usable_types(problem)}
        kinds = {k.code: k for k in usable_types(problem)}
        apoes = {a.code: a for a in problem.airfields}
        apods = {a.code: a for a in problem.destinations}
        fields = {**apoes, **apods}
        self.mog = {a.code: a.max_on_ground for a in fields.values()}
        frames: dict[str, list[int]] = {}
        for f in problem.fleet:
            if f.aircraft_type in kinds and f.count > 0:
                avail = 0 if f.available_from is None else _minutes(problem, f.available_from)
                frames.setdefault(f.aircraft_type, []).extend([max(0, avail)] * f.count)
        self.frames = frames
        self.d = bucket_width(max(15, -(-upper // buckets)),
                              [k.turnaround_min for code, k in kinds.items() if code in frames])
        longest = max((k.turnaround_min * 2 for k in kinds.values()), default=0)
        horizon = upper + longest + 24 * 60
        windows = {code: open_windows(a, problem, horizon) for code, a in fields.items()}
        self.routes: list[_Route] = []
        for gi, g in enumerate(groups):
            a, dest = apoes.get(g.key[0]), apods.get(g.key[1])
            if a is None or dest is None:
                continue
            first_ready = min(ready[u.id] for u in g.units)
            for code, k in kinds.items():
                if code not in frames:
                    continue
                fl = flight_min(a, dest, k)
                back = min(flight_min(dest, x, k) for x in problem.airfields)
                turn = k.turnaround_min
                landing = turn + fl
                starts = _intersect(
                    _allowed(windows[a.code], 0, turn),
                    _allowed(windows[dest.code], landing, turn),
                )
                first = max(first_ready, min(frames[code]))
                self.routes.append(
                    _Route(gi, code, turn, landing, 2 * turn + fl + back, starts, first)
                )
        # covering rows per (group, ready time): (coefficient per type, demand)
        any_cap = next(iter(caps.values()), None)
        self.covers: list[tuple[int, int, list[tuple[dict[str, float], float]]]] = []
        for gi, g in enumerate(groups):
            for r in sorted({ready[u.id] for u in g.units}):
                part = g.part([u for u in g.units if ready[u.id] >= r])
                vs, people = part.vehicles, part.personnel
                rows: list[tuple[dict[str, float], float]] = [
                    ({c: 1.0 for c in caps}, float(_l2(problem, part, caps))),
                    (
                        {c: cap.weight / 1000 for c, cap in caps.items()},
                        (sum(v.weight_kg for v in vs) + problem.person_kg * people) / 1000,
                    ),
                    ({c: float(cap.seats) for c, cap in caps.items()}, float(people)),
                ]
                if any_cap is not None and vs:
                    floor = sum(any_cap.floor_of(v) for v in vs)
                    rows.append(({c: cap.floor / 100 for c, cap in caps.items()}, floor / 100))
                for t, rv in _restricted(part, caps).items():
                    rows.append(({c: 1.0 for c in t}, float(_restricted_l2(rv, t, caps))))
                    rows.append(({c: caps[c].weight / 1000 for c in t},
                                 sum(v.weight_kg for v in rv) / 1000))
                    rows.append(({c: caps[c].floor / 100 for c in t},
                                 sum(any_cap.floor_of(v) for v in rv) / 100))
                self.covers.append((gi, r, [(coef, rhs) for coef, rhs in rows if rhs > 0]))
        self.road = {u.id: ready[u.id] + u.road_min for u in problem.units if u.road_allowed}
        # the last integer solution: (route, bucket start, sorties)
        self.solution: list[tuple[_Route, int, int]] = []

    def solve(self, deadline: int, limit: float, *, integer: bool = False,
              proof: bool = False) -> str:
        """"infeasible" (proved), "feasible" (with integer=True: `self.solution` holds the
        sorties found) or "unknown" (time limit without either). By default the linear
        programme; `integer`: integer sortie counts, the fewest and earliest, stopped at
        PLAN_GAP (a timetable for a plan); `proof`: integer counts, no objective, solved
        to the end (whether any integer timetable exists: when none does, the deadline is
        one no plan meets, a stronger proof than the linear programme's)."""
        import highspy

        d, groups = self.d, self.groups
        cols: list[tuple[_Route, int]] = []
        for rt in self.routes:
            b = (rt.first // d) * d
            while b + rt.landing <= deadline:
                lo, hi = max(b, rt.first), min(b + d - 1, deadline - rt.landing)
                if lo <= hi and (
                    rt.starts is None or any(x <= hi and y >= lo for x, y in rt.starts)
                ):
                    cols.append((rt, b))
                b += d
        rows: dict[tuple[str, str, int], list[int]] = {}
        for j, (rt, b) in enumerate(cols):
            key = groups[rt.group].key
            for t in range(b + d, min(b + rt.cycle, deadline), d):
                rows.setdefault(("fleet", rt.code, t), []).append(j)
            for t in range(b + d, b + rt.turn, d):
                rows.setdefault(("apoe", key[0], t), []).append(j)
            lo = b + d + rt.landing  # unloading: [S + landing, S + landing + turn)
            for t in range(-(-lo // d) * d, b + rt.landing + rt.turn, d):
                rows.setdefault(("apod", key[1], t), []).append(j)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", max(0.1, limit))
        # no "threads" option: HiGHS refuses to run once it differs from its scheduler's
        inf = highspy.kHighsInf
        n = len(cols)
        timetable = integer and not proof
        if n:
            # with integer counts: the fewest sorties, then the earliest
            late = 100.0 * max(1, deadline)
            cost = [1.0 + b / late for _rt, b in cols] if timetable else [0.0] * n
            h.addVars(n, [0.0] * n, [inf] * n)
            h.changeColsCost(n, list(range(n)), cost)
            if integer or proof:
                h.changeColsIntegrality(n, list(range(n)), [highspy.HighsVarType.kInteger] * n)
            if timetable:
                # a good timetable soon matters more than the fewest sorties proved;
                # HiGHS's presolve took seconds on a four-unit force where the search
                # without it takes a tenth of one (about the same on the benchmark's)
                h.setOptionValue("mip_rel_gap", PLAN_GAP)
                h.setOptionValue("presolve", "off")
        for (kind, code, t), idx in rows.items():
            cap = sum(1 for a in self.frames[code] if a <= t) if kind == "fleet" else self.mog[code]
            h.addRow(-inf, float(cap), len(idx), idx, [1.0] * len(idx))
        by_group: dict[int, list[int]] = {}
        for j, (rt, _b) in enumerate(cols):
            by_group.setdefault(rt.group, []).append(j)
        for gi, r, cover in self.covers:
            opt = groups[gi].optional_unit
            if opt and self.road.get(opt, deadline + 1) <= deadline:
                continue
            first = (r // d) * d
            mine = [j for j in by_group.get(gi, []) if cols[j][1] >= first]
            for coef, rhs in cover:
                idx = [j for j in mine if cols[j][0].code in coef]
                if not idx:
                    return "infeasible"  # nothing can carry these items by the deadline
                h.addRow(rhs, inf, len(idx), idx, [coef[cols[j][0].code] for j in idx])
        h.run()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            return "infeasible"
        if not timetable:
            return "feasible" if status == highspy.HighsModelStatus.kOptimal else "unknown"
        if h.getInfo().primal_solution_status != 2:  # no feasible point found
            return "unknown"
        x = h.getSolution().col_value
        self.solution = [(cols[j][0], cols[j][1], round(x[j])) for j in range(n)
                         if round(x[j]) > 0]
        return "feasible"


def time_indexed_loads(
    problem: Problem,
    groups: list[Group],
    best_bound: int,
    upper: int,
    *,
    time_limit: float,
    workers: int = 2,
    stop: threading.Event | None = None,
) -> tuple[list[Load], str] | None:
    """Loads from the integer programme (PLAN_BUCKETS buckets) at the deadline
    PLAN_DEADLINE x `best_bound`, or failing that at `upper` (the closure of a plan
    already found), and the method's name; None when HiGHS solves neither in the time.
    Each sortie of bucket b carries items of its group ready by the end of the bucket,
    chosen either largest first or by CP-SAT in the time left (at least FILL_LEAST s),
    whichever's greedy schedule closes first (`_realize_timetable`). Each load's `hint`
    is its bucket, the order the greedy schedule follows."""
    from .schedule import best_greedy, slots_of

    started = time.monotonic()
    if best_bound <= 0 or upper <= best_bound or not groups:
        return None
    deadlines = [upper]
    if best_bound * PLAN_DEADLINE < upper:
        deadlines.insert(0, int(best_bound * PLAN_DEADLINE))
    model = TimeIndexed(problem, groups, upper, PLAN_BUCKETS)
    for i, deadline in enumerate(deadlines):
        left = time_limit - (time.monotonic() - started)
        if left <= 0.2 or (stop is not None and stop.is_set()):
            return None
        share = left * PLAN_FIRST_SHARE if i < len(deadlines) - 1 else left
        if model.solve(deadline, share, integer=True) == "feasible":
            left = time_limit - (time.monotonic() - started)
            # two fills of the timetable's sorties: largest first, and CP-SAT's, which
            # leaves less to extra sorties; the one whose greedy schedule closes first
            # (the benchmark's seed 1: 3,652 min against 4,426; seed 0: 5,859 against
            # 4,676, where the fuller sorties wait for Zhetygen's next morning)
            fills = []
            for how, limit in (("largest first", 0.0), ("CP-SAT", max(FILL_LEAST, left))):
                loads = _realize_timetable(problem, groups, model, deadline,
                                           time_limit=limit, workers=workers, stop=stop)
                closure = best_greedy(problem, slots_of(problem, loads)).closure
                fills.append((closure, len(fills), loads, how))
            _closure, _n, loads, how = min(fills)
            return loads, f"time-indexed MIP (deadline {deadline} min, filled {how})"
    return None


def _realize_timetable(
    problem: Problem, groups: list[Group], model: TimeIndexed, deadline: int, *,
    time_limit: float, workers: int = 2, stop: threading.Event | None = None,
) -> list[Load]:
    """The loads of the timetable in `model`: each sortie of bucket b carries items of its
    group ready by the end of the bucket. First, largest first, the vehicles that fit,
    then personnel (crews of the vehicles aboard first); then, with `time_limit`, CP-SAT
    group by group (`_fill`), kept for a group when it carries more by `_worth`; not for
    a group of more than refill.MAX_PAIRS vehicle-sortie pairs (ten times the benchmark's
    force has groups of 100,000 and more, which take longer to build than to solve). What is
    left goes on first-fit-decreasing sorties after the timetable's (`hint` = deadline;
    None for a unit that may drive, whose sorties layer 2 may drop)."""
    from .loads import Load, _add_vehicle, _seat_people, first_fit_decreasing
    from .refill import MAX_PAIRS

    caps = {k.code: Capacity.of(k, problem) for k in usable_types(problem)}
    ready, d = model.ready, model.d
    # the timetable's sorties: (group, bucket, type), larger floors first in a bucket
    sorties = sorted(
        ((rt.group, b, rt.code) for rt, b, count in model.solution for _ in range(count)),
        key=lambda s: (s[0], s[1], -caps[s[2]].floor, s[2]),
    )
    loads = [Load(code, *groups[gi].key[:2], groups[gi].key, hint=b) for gi, b, code in sorties]
    by = [b + d - 1 for _gi, b, _code in sorties]  # aboard: ready by the end of the bucket
    vehicles = {gi: sorted(g.vehicles, key=lambda v: (ready[v.unit], v.id))
                for gi, g in enumerate(groups)}
    people = {u.id: u.personnel for g in groups for u in g.units}
    # first, largest first: the vehicles ready that fit, then personnel (crews aboard first)
    for i, (gi, _b, code) in enumerate(sorties):
        cap, load, g = caps[code], loads[i], groups[gi]
        fits = [v for v in vehicles[gi] if ready[v.unit] <= by[i] and code in g.compat[v.id]]
        for v in sorted(fits, key=lambda v: (-cap.floor_of(v), -v.weight_kg, v.id)):
            if (
                load.weight + v.weight_kg <= cap.weight
                and load.floor + cap.floor_of(v) <= cap.floor
                and load.seats_lost + cap.seats_lost(v) <= cap.seats
            ):
                _add_vehicle(load, v, cap)
                vehicles[gi].remove(v)
        aboard = {v.unit for v in load.vehicles}
        order = sorted((u.id for u in g.units if ready[u.id] <= by[i]),
                       key=lambda uid: (uid not in aboard, ready[uid], uid))
        _seat_people(load, cap, order, people, problem.person_kg)
    if sorties and time_limit > 0.1 and not (stop is not None and stop.is_set()):
        # then CP-SAT, group by group, keeping what leaves less for extra sorties
        worth = _worth(problem, caps)
        mine: dict[int, list[int]] = {}
        for i, (gi, _b, _code) in enumerate(sorties):
            mine.setdefault(gi, []).append(i)
        size = {gi: len(idx) * (len(groups[gi].vehicles) + len(groups[gi].units))
                for gi, idx in mine.items()
                if len(idx) * len(groups[gi].vehicles) <= MAX_PAIRS}
        ends = time.monotonic() + time_limit
        for gi in sorted(size, key=lambda gi: size[gi]):
            g, idx = groups[gi], mine[gi]
            left = ends - time.monotonic()
            if left <= 0.05 or (stop is not None and stop.is_set()):
                break
            share = left * size[gi] / sum(size.values())
            size.pop(gi)
            got = _fill(problem, g, [sorties[i][2] for i in idx], [by[i] for i in idx],
                        ready, caps, worth, share, workers, stop)
            if got is None:
                continue

            def carried(lds: list[Load], g=g) -> int:
                return (sum(worth(v.weight_kg, v.length_m, 0, g.compat[v.id])
                            for ld in lds for v in ld.vehicles)
                        + worth(problem.person_kg, 0, 1, caps) * sum(ld.personnel for ld in lds))

            if carried(got) > carried([loads[i] for i in idx]):
                for i, load in zip(idx, got, strict=True):
                    load.hint = loads[i].hint
                    loads[i] = load
                taken = {v.id for load in got for v in load.vehicles}
                vehicles[gi] = [v for v in g.vehicles if v.id not in taken]
                for u in g.units:
                    people[u.id] = u.personnel - sum(load.by_unit.get(u.id, 0) for load in got)
    loads = [ld for ld in loads if ld.vehicles or ld.personnel]
    for gi, g in enumerate(groups):
        left = {u.id: people[u.id] for u in g.units}
        if vehicles[gi] or any(left.values()):
            rest = g.part([u for u in g.units
                           if left[u.id] or any(v.unit == u.id for v in vehicles[gi])])
            rest.vehicles = list(vehicles[gi])
            rest.personnel = sum(left.values())
            extra = first_fit_decreasing(problem, rest, personnel=left)
            # a unit that may drive: layer 2 decides, in its ready order; the others after
            # the timetable's sorties
            for ld in extra:
                ld.hint = None if g.optional_unit else deadline
            loads.extend(extra)
    return loads


def _worth(problem: Problem, caps: dict[str, Capacity]):
    """What carrying an item is worth: the share of a sortie it takes (in thousandths)
    times how scarce the type is (the largest fleet's airframes over the type's), on the
    type where that is least: `worth(kg, length in m, seats, types it fits)`. An item
    left over takes an extra sortie after the timetable's, and one that only an An-124
    takes waits for one of three airframes (seed 1 of the benchmark: the next morning
    at Zhetygen, 4,419 min, where extra Il-76 sorties closed by 3,524)."""
    any_cap = next(iter(caps.values()))
    share = 1000
    frames: dict[str, int] = {}
    for f in problem.fleet:
        frames[f.aircraft_type] = frames.get(f.aircraft_type, 0) + max(0, f.count)
    most = max(frames.values(), default=1)

    def worth(kg: int, length_m: float, seats: int, types) -> int:
        floor = any_cap.floor_of_length(length_m) if length_m else 0
        return min(max(-(-share * kg // caps[c].weight), -(-share * floor // caps[c].floor),
                       -(-share * seats // max(1, caps[c].seats)))
                   * most // max(1, frames.get(c, 0)) for c in types)

    return worth


def _fill(problem: Problem, group: Group, types: list[str], by: list[int],
          ready: dict[str, int], caps: dict[str, Capacity], worth, time_limit: float,
          workers: int, stop: threading.Event | None) -> list[Load] | None:
    """Loads for sorties of `group` of `types`, each taking what is ready by `by`, that
    carry as much as CP-SAT finds in `time_limit` s, by `worth`; None if it found none."""
    from ortools.sat.python import cp_model

    from .common import add_aboard, solve_found
    from .loads import Load, _add_vehicle

    crowd: dict[int, list] = {}  # ready time: units with personnel
    for u in group.units:
        if u.personnel:
            crowd.setdefault(ready[u.id], []).append(u)
    n = len(types)
    m = cp_model.CpModel()
    a = add_aboard(
        m,
        {i: caps[code] for i, code in enumerate(types)},
        [(v, [i for i in range(n) if ready[v.unit] <= by[i] and types[i] in group.compat[v.id]])
         for v in group.vehicles],
        [(r, sum(u.personnel for u in us), [i for i in range(n) if r <= by[i]])
         for r, us in crowd.items()],
        everyone=False,
    )
    weight = {v.id: worth(v.weight_kg, v.length_m, 0, group.compat[v.id])
              for v in group.vehicles}
    m.maximize(sum(weight[vid] * var for (vid, _i), var in a.x.items())
               + worth(problem.person_kg, 0, 1, caps) * sum(a.y.values()))
    solver = solve_found(m, time_limit, workers, stop)
    if solver is None:
        return None
    origin, dest, _ = group.key
    loads = [Load(code, origin, dest, group.key) for code in types]
    for i, load in enumerate(loads):
        for v, var in a.on[i]:
            if solver.value(var):
                _add_vehicle(load, v, caps[types[i]])
    left = {r: [[u.id, u.personnel] for u in us] for r, us in crowd.items()}
    for (r, i), var in a.y.items():
        want = solver.value(var)
        for unit in left[r]:  # the units ready at that time, in turn
            take = min(want, unit[1])
            if take:
                loads[i].by_unit[unit[0]] = loads[i].by_unit.get(unit[0], 0) + take
                unit[1] -= take
                want -= take
    for load in loads:
        load.personnel = sum(load.by_unit.values())
        load.weight += load.personnel * problem.person_kg
    return loads
