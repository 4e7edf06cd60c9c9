"""Layer 2: when each sortie flies, on which airframe, and when the last unit is home.

CP-SAT model over the layer-1 sorties, minutes from the start:

- a sortie s of type k from APOE a to APOD d has a start S (boarding = loading begins)
  no earlier than the ready time of every unit aboard; loading takes turnaround_k, the
  flight flight(a, d, k), unloading turnaround_k, the flight back and, when there are
  several APOEs, the longest hop between two APOEs (the airframe may be wanted at the
  other one next: a conservative allowance instead of a transition matrix);
- airframes: per type a cumulative of capacity = airframes over the sortie cycles, with
  fixed blocks for airframes not available yet (airlift-notes §6: equivalent to one
  NoOverlap per airframe; airframes are numbered afterwards by interval colouring, which
  succeeds because interval graphs are perfect);
- MOG: a cumulative of capacity max_on_ground over the loading intervals at each APOE and
  over the unloading intervals at each APOD;
- working hours: S is restricted to the minutes at which the loading (at the APOE) and the
  unloading (at the APOD) fall wholly inside opening hours, day by day in local time;
- ready time of a unit: max over its sites of relief_from + overlap (the earliest guard end
  the handover rule allows; nothing in the model gains from a later one) + travel_min;
- road: a unit allowed to drive has an air/road choice; its sorties are optional intervals
  present iff it flies, its convoy an optional interval present iff it drives;
- objective: the closure time C >= every landing and every convoy arrival.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .common import cp_solver, flight_min, solve_stoppable
from .loads import Load
from .model import Airfield, Problem


@dataclass
class Slot:
    """A sortie with its times in minutes, the data the scheduler needs."""

    load: Load
    ready: int
    turn: int
    flight: int
    back: int  # flight back + repositioning allowance
    optional_unit: str = ""

    @property
    def cycle(self) -> int:
        return 2 * self.turn + self.flight + self.back

    @property
    def landing_offset(self) -> int:
        return self.turn + self.flight


@dataclass
class Schedule:
    starts: list[int | None]  # per slot (None: not flown, the unit drives)
    airframes: list[int]
    road: dict[str, int] = field(default_factory=dict)  # unit -> convoy departure minute
    closure: int = 0
    bound: int = 0
    status: str = "feasible"


def unit_ready(problem: Problem) -> dict[str, int]:
    """Minute each unit can board: its sites' earliest guard end plus travel."""
    ready = {u.id: 0 for u in problem.units}
    for s in problem.sites:
        end = s.relief_from + timedelta(minutes=_overlap(problem, s))
        at = _minutes(problem, end) + s.travel_min
        ready[s.guarded_by] = max(ready.get(s.guarded_by, 0), at)
    return ready


def _overlap(problem: Problem, site) -> int:
    return site.overlap_min if site.overlap_min is not None else problem.overlap_min


def _minutes(problem: Problem, moment: datetime) -> int:
    return math.ceil((moment - problem.start).total_seconds() / 60)


def slots_of(problem: Problem, loads: list[Load]) -> list[Slot]:
    kinds = {k.code: k for k in problem.aircraft}
    apoes = {a.code: a for a in problem.airfields}
    apods = {a.code: a for a in problem.destinations}
    ready = unit_ready(problem)
    road_units = {u.id for u in problem.units if u.road_allowed}
    slots = []
    for load in loads:
        k = kinds[load.aircraft_type]
        a, d = apoes[load.origin], apods[load.destination]
        hop = max(
            (flight_min(x, y, k) for x in problem.airfields for y in problem.airfields),
            default=0,
        )
        fl = flight_min(a, d, k)
        unit_ready_at = max((ready[u] for u in load.units), default=0)
        opt = load.group[2] if load.group[2] in road_units else ""
        slots.append(Slot(load, unit_ready_at, k.turnaround_min, fl, fl + hop, opt))
    return slots


def open_windows(a: Airfield, problem: Problem, horizon: int) -> list[tuple[int, int]] | None:
    """Open periods of `a` in minutes from the start, up to `horizon`; None: always open."""
    if a.opens is None or a.closes is None:
        return None
    tz = ZoneInfo(a.tz)
    local0 = problem.start.astimezone(tz)
    out = []
    day = local0.date() - timedelta(days=1)
    end = problem.start + timedelta(minutes=horizon)
    while True:
        o = datetime.combine(day, a.opens, tz)
        c = datetime.combine(day, a.closes, tz)
        if c <= o:
            c += timedelta(days=1)
        if o > end:
            break
        lo, hi = _minutes(problem, o), _minutes(problem, c)
        if hi > 0:
            out.append((max(0, lo), hi))
        day += timedelta(days=1)
    return out


def _allowed(windows, offset: int, length: int) -> list[tuple[int, int]] | None:
    """Start values S such that [S + offset, S + offset + length] lies in one window."""
    if windows is None:
        return None
    out = []
    for lo, hi in windows:
        a, b = lo - offset, hi - offset - length
        if b >= a:
            out.append((a, b))
    return out


def _fits(windows, t: int) -> bool:
    return windows is None or any(a <= t <= b for a, b in windows)


def _next_fit(windows, t: int) -> int | None:
    if windows is None:
        return t
    for a, b in windows:
        if t <= b:
            return max(t, a)
    return None


@dataclass
class _Context:
    slots: list[Slot]
    fleet: dict[str, list[int]]  # type -> per airframe, minute it becomes available
    mog: dict[str, int]
    allowed: list[list[tuple[int, int]] | None]
    road: dict[str, tuple[int, int]]  # road-allowed unit -> (ready, road_min)
    horizon: int


def _context(problem: Problem, slots: list[Slot], horizon: int) -> _Context:
    fleet: dict[str, list[int]] = {}
    for f in problem.fleet:
        avail = 0 if f.available_from is None else max(0, _minutes(problem, f.available_from))
        fleet.setdefault(f.aircraft_type, []).extend([avail] * max(0, f.count))
    mog = {a.code: a.max_on_ground for a in (*problem.airfields, *problem.destinations)}
    by_code = {a.code: a for a in (*problem.airfields, *problem.destinations)}
    win = {code: open_windows(a, problem, horizon) for code, a in by_code.items()}
    allowed = []
    for s in slots:
        at_apoe = _allowed(win[s.load.origin], 0, s.turn)
        at_apod = _allowed(win[s.load.destination], s.landing_offset, s.turn)
        allowed.append(_intersect(at_apoe, at_apod))
    ready = unit_ready(problem)
    road = {u.id: (ready[u.id], u.road_min) for u in problem.units if u.road_allowed}
    return _Context(slots, fleet, mog, allowed, road, horizon)


def _intersect(a, b):
    if a is None:
        return b
    if b is None:
        return a
    out = []
    for x0, x1 in a:
        for y0, y1 in b:
            lo, hi = max(x0, y0), min(x1, y1)
            if lo <= hi:
                out.append((lo, hi))
    return sorted(out)


def _priority(s: Slot) -> tuple[int, int]:
    return (s.ready if s.load.hint is None else max(s.ready, s.load.hint), s.ready)


def greedy(problem: Problem, slots: list[Slot], *, drive_if_allowed: bool = True) -> Schedule:
    """List scheduling: sorties by ready time (by the time the load is meant to start at,
    when it has one: `Load.hint`), each at the earliest minute an airframe of
    its type, a loading slot at its APOE and an unloading slot at its APOD are free inside
    working hours. Road-allowed units drive. Also the warm start and horizon of CP-SAT."""
    horizon = 60 * 24 * 60
    ctx = _context(problem, slots, horizon)
    free = {k: sorted(v) for k, v in ctx.fleet.items()}
    frames: dict[str, list[int]] = {k: list(v) for k, v in ctx.fleet.items()}
    ground: dict[str, list[tuple[int, int]]] = {}
    starts: list[int | None] = [None] * len(slots)
    airframes = [-1] * len(slots)
    road: dict[str, int] = {}
    for u, (r, _) in ctx.road.items():
        if drive_if_allowed:
            road[u] = r
    order = sorted(range(len(slots)), key=lambda i: (_priority(slots[i]), -slots[i].flight))
    for i in order:
        s = slots[i]
        if s.optional_unit and s.optional_unit in road:
            continue
        k = s.load.aircraft_type
        j = min(range(len(frames[k])), key=lambda j: frames[k][j])
        t = max(s.ready, frames[k][j])
        while True:
            t2 = _next_fit(ctx.allowed[i], t)
            if t2 is None:
                raise RuntimeError("no working hours left within the horizon")
            t = t2
            a0, a1 = t, t + s.turn
            d0, d1 = t + s.landing_offset, t + s.landing_offset + s.turn
            busy_a = [e for b, e in ground.get(s.load.origin, []) if b < a1 and e > a0]
            busy_d = [e for b, e in ground.get("@" + s.load.destination, []) if b < d1 and e > d0]
            if len(busy_a) >= ctx.mog[s.load.origin]:
                t = min(busy_a)
                continue
            if len(busy_d) >= ctx.mog[s.load.destination]:
                t = min(busy_d) - s.landing_offset
                continue
            break
        starts[i] = t
        airframes[i] = j
        frames[k][j] = t + s.cycle
        ground.setdefault(s.load.origin, []).append((t, t + s.turn))
        ground.setdefault("@" + s.load.destination, []).append(
            (t + s.landing_offset, t + s.landing_offset + s.turn)
        )
    del free
    closure = closure_of(slots, starts, road, {u: m for u, (_r, m) in ctx.road.items()})
    return Schedule(starts, airframes, road, closure, 0, "feasible")


def closure_of(slots: list[Slot], starts: list[int | None], road: dict[str, int],
               road_min: dict[str, int]) -> int:
    """The last landing of the flown sorties and the last arrival of the units that
    drive (`road`: unit -> departure, `road_min`: unit -> minutes on the road)."""
    ends = [st + s.landing_offset for s, st in zip(slots, starts, strict=True) if st is not None]
    ends += [r + road_min[u] for u, r in road.items()]
    return max(ends, default=0)


def colour_airframes(problem: Problem, slots: list[Slot], starts: list[int | None]) -> list[int]:
    """Airframe index per sortie, by interval colouring per type (by start time, any
    airframe free at the start)."""
    ctx_fleet: dict[str, list[int]] = {}
    for f in problem.fleet:
        avail = 0 if f.available_from is None else max(0, _minutes(problem, f.available_from))
        ctx_fleet.setdefault(f.aircraft_type, []).extend([avail] * max(0, f.count))
    free = {k: list(v) for k, v in ctx_fleet.items()}
    out = [-1] * len(slots)
    order = sorted((st, i) for i, st in enumerate(starts) if st is not None)
    for st, i in order:
        k = slots[i].load.aircraft_type
        cands = [j for j, t in enumerate(free[k]) if t <= st]
        if not cands:  # cannot happen for a schedule within the cumulative; be safe
            cands = [min(range(len(free[k])), key=lambda j: free[k][j])]
        j = max(cands, key=lambda j: free[k][j])
        out[i] = j
        free[k][j] = st + slots[i].cycle
    return out


def best_greedy(problem: Problem, slots: list[Slot]) -> Schedule:
    """The better of the two greedy schedules: road-allowed units driving, or flying."""
    drive = greedy(problem, slots)
    fly = greedy(problem, slots, drive_if_allowed=False)
    return fly if fly.closure < drive.closure else drive


def cp_schedule(
    problem: Problem,
    slots: list[Slot],
    warm: Schedule,
    *,
    time_limit: float,
    workers: int,
    stop: threading.Event | None,
    progress: Callable[[float, int, int], None] | None,
    lower: int = 0,
) -> Schedule:
    """The CP-SAT model of the module docstring, warm-started from `warm`."""
    from ortools.sat.python import cp_model

    horizon = max(warm.closure, 1) + max((s.cycle for s in slots), default=0) + 1
    ctx = _context(problem, slots, horizon)
    m = cp_model.CpModel()
    closure = m.new_int_var(0, warm.closure, "closure")
    m.add(closure >= lower)
    starts, present = [], []
    air: dict[str, cp_model.IntVar] = {}
    for u in ctx.road:
        air[u] = m.new_bool_var(f"air_{u}")
    by_type: dict[str, list] = {}
    at_apoe: dict[str, list] = {}
    at_apod: dict[str, list] = {}
    for i, s in enumerate(slots):
        lo, hi = s.ready, max(s.ready, warm.closure - s.landing_offset)
        dom = cp_model.Domain(lo, hi)
        if ctx.allowed[i] is not None:
            pieces = [[a, b] for a, b in ctx.allowed[i] if b >= lo and a <= hi]
            dom = dom.intersection_with(cp_model.Domain.from_intervals(pieces or [[lo, lo]]))
        if dom.is_empty():
            dom = cp_model.Domain(lo, lo)
        st = m.new_int_var_from_domain(dom, f"s{i}")
        starts.append(st)
        lit = air[s.optional_unit] if s.optional_unit else None
        present.append(lit)
        k, a, d = s.load.aircraft_type, s.load.origin, s.load.destination
        land = st + s.landing_offset
        if lit is None:
            cyc = m.new_fixed_size_interval_var(st, s.cycle, f"c{i}")
            ga = m.new_fixed_size_interval_var(st, s.turn, f"ga{i}")
            gd = m.new_fixed_size_interval_var(land, s.turn, f"gd{i}")
            m.add(closure >= land)
        else:
            cyc = m.new_optional_fixed_size_interval_var(st, s.cycle, lit, f"c{i}")
            ga = m.new_optional_fixed_size_interval_var(st, s.turn, lit, f"ga{i}")
            gd = m.new_optional_fixed_size_interval_var(land, s.turn, lit, f"gd{i}")
            m.add(closure >= land).only_enforce_if(lit)
        by_type.setdefault(k, []).append(cyc)
        at_apoe.setdefault(a, []).append(ga)
        at_apod.setdefault(d, []).append(gd)
    road_dep = {}
    for u, (r, dur) in ctx.road.items():
        road_dep[u] = m.new_int_var(r, max(r, warm.closure), f"road_{u}")
        m.add(closure >= road_dep[u] + dur).only_enforce_if(~air[u])
    for k, ivs in by_type.items():
        avail = ctx.fleet.get(k, [])
        blocks = [
            m.new_fixed_size_interval_var(0, t, f"block_{k}_{j}") for j, t in enumerate(avail) if t
        ]
        m.add_cumulative(ivs + blocks, [1] * (len(ivs) + len(blocks)), len(avail))
    for code, ivs in at_apoe.items():
        m.add_cumulative(ivs, [1] * len(ivs), ctx.mog[code])
    for code, ivs in at_apod.items():
        m.add_cumulative(ivs, [1] * len(ivs), ctx.mog[code])
    # identical sorties in a fixed order (symmetry)
    same: dict[tuple, list[int]] = {}
    for i, s in enumerate(slots):
        key = (s.load.aircraft_type, s.load.origin, s.load.destination, s.ready, s.optional_unit)
        same.setdefault(key, []).append(i)
    for idx in same.values():
        for a, b in zip(idx, idx[1:], strict=False):
            m.add(starts[a] <= starts[b])
    m.minimize(closure)
    for i, st in enumerate(warm.starts):
        if st is not None:
            m.add_hint(starts[i], st)
    for u in ctx.road:
        m.add_hint(air[u], 0 if u in warm.road else 1)

    solver = cp_solver()
    solver.parameters.max_time_in_seconds = max(0.1, time_limit)
    solver.parameters.num_workers = max(1, workers)
    began = time.monotonic()
    best = {"obj": warm.closure, "bound": lower}

    class _Callback(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            best["obj"] = int(self.objective_value)
            best["bound"] = max(best["bound"], int(math.ceil(self.best_objective_bound)))
            if progress is not None:
                progress(time.monotonic() - began, best["obj"], best["bound"])

    def on_bound(value: float) -> None:
        best["bound"] = max(best["bound"], int(math.ceil(value - 1e-6)))
        if progress is not None:
            progress(time.monotonic() - began, best["obj"], best["bound"])

    solver.best_bound_callback = on_bound
    code, stopped = solve_stoppable(solver, m, lambda: stop is not None and stop.is_set(),
                                    _Callback())
    bound = max(lower, int(math.ceil(solver.best_objective_bound - 1e-6)))
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        warm.bound = max(warm.bound, bound if code != cp_model.UNKNOWN else lower)
        warm.status = "stopped" if stopped else "feasible"
        return warm
    out_starts: list[int | None] = []
    for i in range(len(slots)):
        lit = present[i]
        if lit is not None and not solver.value(lit):
            out_starts.append(None)
        else:
            out_starts.append(int(solver.value(starts[i])))
    road = {u: int(solver.value(road_dep[u])) for u in ctx.road if not solver.value(air[u])}
    value = int(solver.value(closure))
    status = "optimal" if code == cp_model.OPTIMAL else "feasible"
    if stopped:
        status = "stopped"
    sched = Schedule(out_starts, colour_airframes(problem, slots, out_starts), road, value)
    sched.bound = bound
    sched.status = status
    return sched


def closure_bounds(problem: Problem, slots: list[Slot]) -> dict[str, int]:
    """fleet-cycle, airfield-throughput and handover critical path of THESE sorties (see
    bounds.py): bounds for the schedule of the chosen packing only."""
    mandatory = [s for s in slots if not s.optional_unit]
    fleet: dict[str, list[int]] = {}
    for f in problem.fleet:
        avail = 0 if f.available_from is None else max(0, _minutes(problem, f.available_from))
        fleet.setdefault(f.aircraft_type, []).extend([avail] * max(0, f.count))
    fc = 0
    for k, frames in fleet.items():
        ss = [s for s in mandatory if s.load.aircraft_type == k]
        if not ss or not frames:
            continue
        per = -(-len(ss) // len(frames))
        first = max(min(s.ready for s in ss), min(frames))
        fc = max(
            fc, first + (per - 1) * min(s.cycle for s in ss) + min(s.landing_offset for s in ss)
        )
    mog = {a.code: a.max_on_ground for a in (*problem.airfields, *problem.destinations)}
    at = 0
    for code in {s.load.origin for s in mandatory}:
        ss = [s for s in mandatory if s.load.origin == code]
        load_time = -(-sum(s.turn for s in ss) // mog[code])
        at = max(at, min(s.ready for s in ss) + load_time + min(s.flight for s in ss))
    for code in {s.load.destination for s in mandatory}:
        ss = [s for s in mandatory if s.load.destination == code]
        first_land = min(s.ready + s.landing_offset for s in ss)
        work = -(-sum(s.turn for s in ss) // mog[code])
        at = max(at, first_land + work - max(s.turn for s in ss))
    ready = unit_ready(problem)
    hc = 0
    for u in problem.units:
        mine = [s for s in slots if u.id in s.load.units]
        options = [s.landing_offset for s in mine]
        if u.road_allowed:
            options.append(u.road_min)
        if options:
            hc = max(hc, ready[u.id] + min(options))
    return {
        "fleet-cycle (this packing)": fc,
        "airfield-throughput (this packing)": at,
        "handover critical path (this packing)": hc,
    }
