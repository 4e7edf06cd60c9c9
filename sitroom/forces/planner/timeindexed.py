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
loads built from it leave what does not fit to extra sorties at the end. With integer
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


def bucket_width(least: int, turns: list[int]) -> int:
    """The bucket width from `least` to half as much again whose boundaries best count a
    turn on the ground. A MOG row counts a sortie at the boundaries it surely spans, so
    of a turn T it sees (ceil(T / d) - 1) d minutes: with 15-minute buckets, 105 of an
    Il-76's 120 and the MOG looks an eighth larger than it is; with 17, 119 of 120 and
    170 of an An-124's 180. On the benchmark's seed 0, whose plans are held by
    Zhetygen's four places on the ground, 15-minute buckets let integer timetables close
    by 4,300 min and 17-minute ones prove that none does. The worst turn decides; among
    equals, the narrowest width."""
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
    stop: threading.Event | None = None,
) -> tuple[list[Load], str] | None:
    """Loads from the integer programme (PLAN_BUCKETS buckets) at the deadline
    PLAN_DEADLINE x `best_bound`, or failing that at `upper` (the closure of a plan
    already found), and the method's name; None when HiGHS solves neither in the time.
    Each sortie of bucket b carries, largest first, the vehicles of its group ready by the
    end of the bucket that fit it, then personnel ready by then (crews of the vehicles
    aboard first); what is left goes on first-fit-decreasing sorties after the rest. Each
    load's `hint` is its bucket, the order the greedy schedule follows."""
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
            loads = _realize_timetable(problem, groups, model, deadline)
            return loads, f"time-indexed MIP (deadline {deadline} min)"
    return None


def _realize_timetable(
    problem: Problem, groups: list[Group], model: TimeIndexed, deadline: int
) -> list[Load]:
    from .loads import Load, _add_vehicle, _seat_people, first_fit_decreasing

    caps = {k.code: Capacity.of(k, problem) for k in usable_types(problem)}
    ready, d = model.ready, model.d
    loads: list[Load] = []
    for gi, g in enumerate(groups):
        origin, dest, _ = g.key
        sorties = sorted(
            (b, -caps[rt.code].floor, rt.code)
            for rt, b, count in model.solution if rt.group == gi for _ in range(count)
        )
        vehicles = sorted(g.vehicles, key=lambda v: (ready[v.unit], v.id))
        people = {u.id: u.personnel for u in g.units}
        for b, _floor, code in sorties:
            cap = caps[code]
            by = b + d - 1  # ready by the end of the bucket
            load = Load(code, origin, dest, g.key, hint=b)
            fits = [v for v in vehicles if ready[v.unit] <= by and code in g.compat[v.id]]
            for v in sorted(fits, key=lambda v: (-cap.floor_of(v), -v.weight_kg, v.id)):
                if (
                    load.weight + v.weight_kg <= cap.weight
                    and load.floor + cap.floor_of(v) <= cap.floor
                    and load.seats_lost + cap.seats_lost(v) <= cap.seats
                ):
                    _add_vehicle(load, v, cap)
                    vehicles.remove(v)
            aboard = {v.unit for v in load.vehicles}
            order = sorted((u.id for u in g.units if ready[u.id] <= by),
                           key=lambda uid: (uid not in aboard, ready[uid], uid))
            _seat_people(load, cap, order, people, problem.person_kg)
            if load.vehicles or load.personnel:
                loads.append(load)
        if vehicles or any(people.values()):
            rest = g.part([u for u in g.units
                           if people[u.id] or any(v.unit == u.id for v in vehicles)])
            rest.vehicles = list(vehicles)
            rest.personnel = sum(people.values())
            extra = first_fit_decreasing(problem, rest, personnel=people)
            # a unit that may drive: layer 2 decides, in its ready order; the others after
            # the timetable's sorties
            for ld in extra:
                ld.hint = None if g.optional_unit else deadline
            loads.extend(extra)
    return loads
