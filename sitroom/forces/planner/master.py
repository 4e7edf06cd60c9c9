"""The fleet master: sortie loads of every group against the airframes, on HiGHS.

One model over all (APOE, APOD) groups, minutes from the start (airlift-notes §6, the
two layers joined at the level of counts):

- x_p >= 0 for every pattern p (columns.py) of every group: how many sorties fly that
  load. Covering rows per group: vehicles of each class and personnel. A road-allowed
  unit's group has a binary "flies" f_g that switches its covering on (f_g = 0: the unit
  drives, T >= ready + road time).
- N_gk integer >= sum of x_p of type k in group g: the sorties of type k of the group.
- T: closure. For every type k and every cycle threshold c among the routes of k, the
  sorties with a cycle of at least c are shared by the airframes (per availability
  class a: n_a Y_a >= M_a, Y_a integer): the busiest airframe of the class flies Y_a of
  them and lands its last no earlier than t0_a + (Y_a - 1) c + L_c (L_c the shortest
  load-and-fly of those routes). Per class, the total cycle time B_a of its airframes is
  at most n_a (T - t0_a + s_k), s_k the longest unload-and-return of type k (the last
  sortie of an airframe needs no return); the same for the sorties of the groups whose
  first unit is ready at r or later, from r on (tails). At each APOE the loadings, at each APOD the
  unloadings, fit MOG at a time: T >= first ready + total loading / MOG + shortest flight,
  and the same for the unloadings. Each group lands no earlier than its first unit's
  ready time plus the shortest load-and-fly.

Two uses:

- bound (``integer=False``, light patterns, true minimal cycles): the x_p are continuous,
  so together with the complete light enumeration this is a relaxation of every feasible
  packing and schedule: working hours, per-sortie ready times and the order of the MOG
  use are dropped, t0 uses the earliest ready time of any group, and every term that an
  unused airframe would make invalid is capped by a known lower bound LB0 (t0 is replaced
  by min(t0, LB0 + slack)). HiGHS' dual bound of this MIP is a lower bound on the
  closure of EVERY plan, not only of the chosen packing.
- plan (``integer=True``, heavy patterns, the cycles layer 2 uses): integer x_p give the
  loads; the objective is T plus one minute per sortie (fewest sorties among equal T).
  With ``hours=True`` it also knows the working hours of the APOEs (`_hours_rows`): the
  loadings there fit the open minutes of the days the plan uses, so it prefers fewer,
  fuller sorties from a field open 16 hours a day to a day more. These rows are a
  heuristic of the plan, never part of the bound.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .columns import ItemClass, Pattern
from .common import flight_min
from .model import Problem

if TYPE_CHECKING:
    from .loads import Group


@dataclass
class MasterResult:
    ok: bool
    value: float | None  # objective of the best solution (None: none found)
    bound: float  # HiGHS' dual bound on the objective
    x: list[list[float]] = field(default_factory=list)  # per group, per pattern
    optimal: bool = False


class _Model:
    def __init__(self) -> None:
        self.lb: list[float] = []
        self.ub: list[float] = []
        self.cost: list[float] = []
        self.integer: list[int] = []
        self.rows: list[tuple[float, float, dict[int, float]]] = []

    def var(self, lb=0.0, ub=math.inf, cost=0.0, integer=False) -> int:
        self.lb.append(lb)
        self.ub.append(ub)
        self.cost.append(cost)
        if integer:
            self.integer.append(len(self.lb) - 1)
        return len(self.lb) - 1

    def row(self, coefs: dict[int, float], lo=-math.inf, hi=math.inf) -> None:
        self.rows.append((lo, hi, coefs))


def route_times(problem: Problem, group_key, code: str, *, exact: bool) -> tuple[int, int, int]:
    """(cycle, landing offset, slack) of one sortie of type `code` on the group's route.
    exact: the return goes to the nearest APOE (the true minimum); else layer 2's cycle
    (back to the same APOE plus the longest hop between APOEs)."""
    k = {t.code: t for t in problem.aircraft}[code]
    apoes = {a.code: a for a in problem.airfields}
    apods = {a.code: a for a in problem.destinations}
    a, d = apoes[group_key[0]], apods[group_key[1]]
    fl = flight_min(a, d, k)
    if exact:
        back = min(flight_min(d, x, k) for x in problem.airfields)
    else:
        hop = max(
            (flight_min(x, y, k) for x in problem.airfields for y in problem.airfields),
            default=0,
        )
        back = fl + hop
    turn = k.turnaround_min
    return 2 * turn + fl + back, turn + fl, turn + back


def solve_master(
    problem: Problem,
    groups: list[Group],
    classes: list[list[ItemClass]],
    patterns: list[list[Pattern]],
    *,
    integer: bool,
    lb0: int,
    time_limit: float,
    stop: threading.Event | None = None,
    threads: int = 1,
    hours: bool = False,
    give_up: float | None = None,
    seed: int = 0,
) -> MasterResult:
    """The model of the module docstring on HiGHS. `hours`: with the working hours' rows
    (plan mode). `give_up`: seconds after which the run is abandoned if it has found no
    solution yet (the caller then has the rest of `time_limit` for something else).
    `seed`: HiGHS' random seed (another seed, another search and often another packing)."""
    import highspy

    from .schedule import unit_ready

    ready_u = unit_ready(problem)
    units = {u.id: u for u in problem.units}
    m = _Model()
    T = m.var(lb=float(lb0), cost=1.0)
    ready_g = [min(ready_u[u.id] for u in g.units) for g in groups]
    rmin = min(ready_g, default=0)
    xs: list[list[int]] = []
    N: dict[tuple[int, str], int] = {}
    routes: dict[tuple[int, str], tuple[int, int, int]] = {}
    for gi, (g, cls, pats) in enumerate(zip(groups, classes, patterns, strict=True)):
        eps = 1.0 if integer else 0.0
        cols = [m.var(cost=eps, integer=integer) for _ in pats]
        xs.append(cols)
        unit = units.get(g.optional_unit)
        flies = None
        if unit is not None and unit.road_allowed:
            flies = m.var(0.0, 1.0, integer=True)
            # drives: T >= ready + road time
            m.row({T: 1.0, flies: float(unit.road_min)}, lo=ready_u[unit.id] + unit.road_min)
        for ci, c in enumerate(cls):
            coefs = {col: float(p.counts[ci]) for col, p in zip(cols, pats, strict=True)}
            coefs = {k: v for k, v in coefs.items() if v}
            if flies is None:
                m.row(coefs, lo=float(c.count))
            else:
                coefs[flies] = -float(c.count)
                m.row(coefs, lo=0.0)
        if g.personnel:
            coefs = {col: float(p.personnel) for col, p in zip(cols, pats, strict=True)}
            coefs = {k: v for k, v in coefs.items() if v}
            if flies is None:
                m.row(coefs, lo=float(g.personnel))
            else:
                coefs[flies] = -float(g.personnel)
                m.row(coefs, lo=0.0)
        land_min = math.inf
        for code in sorted({p.code for p in pats}):
            n = m.var(integer=True)
            N[gi, code] = n
            coefs = {n: 1.0}
            for col, p in zip(cols, pats, strict=True):
                if p.code == code:
                    coefs[col] = -1.0
            m.row(coefs, lo=0.0)
            routes[gi, code] = route_times(problem, g.key, code, exact=not integer)
            land_min = min(land_min, routes[gi, code][1])
        if land_min < math.inf:
            if flies is None:
                m.row({T: 1.0}, lo=float(ready_g[gi] + land_min))
            else:
                m.row({T: 1.0, flies: -float(ready_g[gi] + land_min)}, lo=0.0)
    # airframes per type and availability class
    fleet: dict[str, dict[int, int]] = {}
    for f in problem.fleet:
        avail = 0
        if f.available_from is not None:
            avail = max(0, math.ceil((f.available_from - problem.start).total_seconds() / 60))
        by = fleet.setdefault(f.aircraft_type, {})
        by[avail] = by.get(avail, 0) + max(0, f.count)
    for code, by_avail in fleet.items():
        mine = [(gi, routes[gi, code]) for gi in range(len(groups)) if (gi, code) in N]
        if not mine:
            continue
        classes_a = [(max(a, rmin), n) for a, n in sorted(by_avail.items()) if n > 0]
        if not classes_a:
            continue
        for c in sorted({r[0] for _, r in mine}):
            over = [(gi, r) for gi, r in mine if r[0] >= c]
            lc = min(r[1] for _, r in over)
            parts = []
            for t0, n in classes_a:
                ma = m.var(integer=True)
                ya = m.var(integer=True)
                parts.append(ma)
                m.row({ya: float(n), ma: -1.0}, lo=0.0)
                t0c = min(t0, lb0 + c - lc)
                m.row({T: 1.0, ya: -float(c)}, lo=float(t0c - c + lc))
            coefs = {p: 1.0 for p in parts}
            for gi, _ in over:
                coefs[N[gi, code]] = -1.0
            m.row(coefs, lo=0.0)
        slack = max(r[2] for _, r in mine)
        parts = []
        for t0, n in classes_a:
            b = m.var()
            parts.append(b)
            t0s = min(t0, lb0 + slack)
            m.row({T: 1.0, b: -1.0 / n}, lo=float(t0s - slack))
        coefs = {p: 1.0 for p in parts}
        for gi, r in mine:
            coefs[N[gi, code]] = -float(r[0])
        m.row(coefs, lo=0.0)
        # tails: the sorties of groups ready at r or later start at r or later
        for r in sorted({ready_g[gi] for gi, _ in mine}):
            late = [(gi, rt) for gi, rt in mine if ready_g[gi] >= r]
            if r <= rmin or not late:
                continue
            parts = []
            for avail, n in sorted(by_avail.items()):
                if n <= 0:
                    continue
                b = m.var()
                parts.append(b)
                t0s = min(max(avail, r), lb0 + slack)
                m.row({T: 1.0, b: -1.0 / n}, lo=float(t0s - slack))
            coefs = {p: 1.0 for p in parts}
            for gi, rt in late:
                coefs[N[gi, code]] = -float(rt[0])
            m.row(coefs, lo=0.0)
    # MOG at the APOEs (loading) and APODs (unloading)
    kinds = {k.code: k for k in problem.aircraft}
    mog = {a.code: a.max_on_ground for a in (*problem.airfields, *problem.destinations)}
    for side in (0, 1):
        for code in sorted({g.key[side] for g in groups}):
            here = [gi for gi, g in enumerate(groups) if g.key[side] == code]
            coefs = {T: 1.0}
            turns, lands, flights = [], [], []
            for gi in here:
                for (gj, k), n in N.items():
                    if gj == gi:
                        coefs[n] = -kinds[k].turnaround_min / mog[code]
                        turns.append(kinds[k].turnaround_min)
                        lands.append(ready_g[gi] + routes[gi, k][1])
                        flights.append(routes[gi, k][1] - kinds[k].turnaround_min)
            if not turns:
                continue
            if side == 0:
                lo = min(ready_g[gi] for gi in here) + min(flights)
            else:
                lo = min(lands) - max(turns)
            m.row(coefs, lo=float(lo))

    if hours:
        _hours_rows(m, problem, groups, N, routes, ready_g, T)

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", max(0.1, float(time_limit)))
    # no "threads" option: HiGHS refuses to change it once its scheduler has started
    h.setOptionValue("mip_rel_gap", 1e-4)
    h.setOptionValue("random_seed", int(seed))
    n = len(m.lb)
    inf = highspy.kHighsInf
    h.addVars(n, [v for v in m.lb], [inf if v == math.inf else v for v in m.ub])
    h.changeColsCost(n, list(range(n)), m.cost)
    if m.integer:
        h.changeColsIntegrality(
            len(m.integer), m.integer, [highspy.HighsVarType.kInteger] * len(m.integer)
        )
    starts, index, value, lower, upper = [], [], [], [], []
    for lo, hi, coefs in m.rows:
        starts.append(len(index))
        index.extend(coefs.keys())
        value.extend(coefs.values())
        lower.append(-inf if lo == -math.inf else lo)
        upper.append(inf if hi == math.inf else hi)
    h.addRows(len(m.rows), lower, upper, len(index), starts, index, value)
    done, found = threading.Event(), threading.Event()
    if give_up is not None:
        h.cbMipImprovingSolution.subscribe(lambda _event: found.set())
    until = time.monotonic() + give_up if give_up is not None else math.inf

    def watch() -> None:
        while not done.wait(0.05):
            if (stop is not None and stop.is_set()) or (
                time.monotonic() > until and not found.is_set()
            ):
                h.cancelSolve()
                return

    watcher = None
    if stop is not None or give_up is not None:
        watcher = threading.Thread(target=watch, name="planner-stop", daemon=True)
        watcher.start()
    try:
        h.run()
    finally:
        done.set()
        if watcher is not None:
            watcher.join()
    info = h.getInfo()
    status = h.getModelStatus()
    bound = float(info.mip_dual_bound) if m.integer else float(info.objective_function_value)
    if not math.isfinite(bound):
        bound = float(lb0)
    has = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if not has:
        return MasterResult(False, None, bound)
    sol = h.getSolution().col_value
    x = [[sol[c] for c in cols] for cols in xs]
    optimal = status == highspy.HighsModelStatus.kOptimal
    return MasterResult(True, float(info.objective_function_value), bound, x, optimal)


def _hours_rows(m: _Model, problem: Problem, groups, N, routes, ready_g, T) -> None:
    """Plan mode only (a heuristic, not a bound): at an APOE with working hours, the
    loadings of the groups ready at r or later fit the open minutes after r of the
    windows the plan uses, MOG at a time; a binary per window says it is used (used
    windows come in order), and using it puts the closure no earlier than its opening
    plus the shortest load-and-fly from there."""
    from .schedule import open_windows

    kinds = {k.code: k for k in problem.aircraft}
    horizon = max(ready_g, default=0) + 30 * 24 * 60
    for apoe in problem.airfields:
        here = [gi for gi, g in enumerate(groups) if g.key[0] == apoe.code]
        windows = open_windows(apoe, problem, horizon) if here else None
        if not windows:
            continue
        first = min(ready_g[gi] for gi in here)
        windows = [(max(lo, first), hi) for lo, hi in windows if hi > first]
        used = [m.var(0.0, 1.0, integer=True) for _ in windows]
        for a, b in zip(used, used[1:], strict=False):
            m.row({a: 1.0, b: -1.0}, lo=0.0)
        lands = [routes[gi, k][1] for (gi, k) in N if gi in here]
        if not lands:
            continue
        land = min(lands)
        for (lo, _hi), z in zip(windows, used, strict=True):
            m.row({T: 1.0, z: -float(lo + land)}, lo=0.0)
        for r in sorted({ready_g[gi] for gi in here}):
            coefs = {z: -float(apoe.max_on_ground * max(0, hi - max(lo, r)))
                     for (lo, hi), z in zip(windows, used, strict=True) if hi > r}
            for (gi, k), n in N.items():
                if gi in here and ready_g[gi] >= r:
                    coefs[n] = float(kinds[k].turnaround_min)
            m.row(coefs, hi=0.0)
