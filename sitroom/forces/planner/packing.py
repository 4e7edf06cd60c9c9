"""Sortie counts as one-dimensional bin packing, with proven lower bounds.

Items are loads (a vehicle, a pallet, a stick of passengers) with a positive integer weight
in one planning unit (kilograms of allowable cabin load, seats, ...); a bin is one sortie of
one aircraft type with an integer capacity in the same unit. The question is how many
sorties carry everything, and how sure we are that fewer cannot.

What is here, cheapest first:

- `l1_bound`: the continuous bound, ceil(total weight / capacity).
- `l2_bound`: Martello and Toth's L2, which also counts items that cannot share a sortie.
- `arcflow_lp_bound`: the linear relaxation of Valério de Carvalho's arc-flow model solved
  with HiGHS, rounded up; on the classic benchmarks it equals the optimum almost always.
- `best_lower_bound`: the largest of the three and the name of the one that binds.
- `first_fit_decreasing`: the textbook heuristic, kept as the baseline.
- `solve`: FFD, the bounds, then the arc-flow model as an integer programme on OR-Tools
  CP-SAT, asked for a packing with as many bins as the best bound, then one more, ...

Why arc-flow: the airlift research notes (section 2.2, measured on the 20 Falkenauer u120
instances) found that an assignment model (item i in bin b, FFD as upper bound) left 9 of
them one bin above the optimum after 10 s, while the arc-flow model proved all 20 optimal.
The arc-flow graph has one node per reachable load level (at most capacity + 1), so its
size grows with the capacity and the number of distinct weights: express weights in the
coarsest unit the planning allows (e.g. 100 kg rather than 1 kg). Above MAX_ARCS arcs the
graph is not built and `solve` returns FFD with the L1/L2 bound.

No Django here: the planner's services call this with plain lists.
"""

from __future__ import annotations

import bisect
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from .common import cp_solver, solve_stoppable

__all__ = [
    "ArcFlowGraph",
    "Bound",
    "Packing",
    "PackingInputError",
    "Progress",
    "arcflow_lp_bound",
    "best_lower_bound",
    "first_fit_decreasing",
    "l1_bound",
    "l2_bound",
    "solve",
]

# Graphs larger than this are not built: the LP and the CP-SAT model would not fit the
# few seconds a planner waits. The caller then gets L2 and the FFD packing.
MAX_ARCS = 400_000

# The LP optimum comes back in floating point; round up only what exceeds an integer by
# more than this. Erring low keeps the bound valid (a smaller lower bound is still one).
LP_TOLERANCE = 1e-6


class PackingInputError(ValueError):
    """Bad input; `item` is the index of the offending item, or None for the capacity."""

    def __init__(self, message: str, item: int | None = None):
        super().__init__(message)
        self.item = item


class Bound(NamedTuple):
    """A proven lower bound on the number of bins and the name of the bound that gave it."""

    value: int
    name: str


class Progress(NamedTuple):
    """What a long solve has so far: the best packing's bin count and the best bound."""

    bins: int
    lower_bound: int
    seconds: float


@dataclass
class Packing:
    """A packing: `bins[b]` lists the indices of the items in bin b.

    `lower_bound` is the largest proven bound known at the end (named by `bound_name`);
    `optimal` is true when the packing meets it. `stopped` says the solve was cut short by
    `stop` (the packing is then the best one found until that moment).
    """

    bins: list[list[int]]
    lower_bound: int
    bound_name: str
    optimal: bool
    seconds: float
    stopped: bool = False
    status: str = ""

    @property
    def bin_count(self) -> int:
        return len(self.bins)


# --- input ------------------------------------------------------------------------------


def _checked(weights: Sequence[int], capacity: int) -> list[int]:
    """Return the weights as a list of ints, or raise PackingInputError naming the bad item."""
    if isinstance(capacity, bool) or not isinstance(capacity, int):
        raise PackingInputError(f"capacity must be an integer, got {capacity!r}")
    if capacity <= 0:
        raise PackingInputError(f"capacity must be positive, got {capacity}")
    out = []
    for i, w in enumerate(weights):
        if isinstance(w, bool) or not isinstance(w, int):
            raise PackingInputError(f"item {i}: weight must be an integer, got {w!r}", item=i)
        if w <= 0:
            raise PackingInputError(f"item {i}: weight must be positive, got {w}", item=i)
        if w > capacity:
            raise PackingInputError(
                f"item {i}: weight {w} exceeds the capacity {capacity}; it fits no bin", item=i
            )
        out.append(w)
    return out


# --- bounds -----------------------------------------------------------------------------


def l1_bound(weights: Sequence[int], capacity: int) -> int:
    """Continuous bound: ceil(sum of weights / capacity)."""
    ws = _checked(weights, capacity)
    return -(-sum(ws) // capacity)


def l2_bound(weights: Sequence[int], capacity: int) -> int:
    """Martello–Toth L2 (Knapsack Problems, 1990, ch. 8); always >= L1.

    For 0 <= a <= c/2 split the items into J1 (w > c - a), J2 (c - a >= w > c/2) and
    J3 (c/2 >= w >= a). Items of J1 and J2 each need their own bin; J1 bins have no room
    for any J3 item, J2 bins have their residual room, and what of J3 does not fit there
    needs further bins:
        L(a) = |J1| + |J2| + max(0, ceil((sum J3 - (|J2| c - sum J2)) / c)).
    L2 = max over a. Between two consecutive weights <= c/2, raising `a` keeps J3 and only
    moves items from J2 to J1, which cannot lower L(a); so a = 0 and a = each weight <= c/2
    are the only candidates. The comparisons with c/2 are done as 2w > c, exact for odd c.
    """
    ws = sorted(_checked(weights, capacity))
    if not ws:
        return 0
    c = capacity
    prefix = [0]
    for w in ws:
        prefix.append(prefix[-1] + w)

    def count_le(x: int) -> int:  # number of items with weight <= x
        return bisect.bisect_right(ws, x)

    half = c // 2  # w <= c/2  <=>  w <= c // 2 for integers
    n_small = count_le(half)  # J3 candidates: w <= c/2
    candidates = {0, *ws[:n_small]}
    best = 0
    for a in candidates:
        first_j3 = bisect.bisect_left(ws, a, 0, n_small)  # w >= a among the small ones
        j3_sum = prefix[n_small] - prefix[first_j3]
        n_j2_or_less = count_le(c - a)  # items with w <= c - a
        n_j2 = max(0, n_j2_or_less - n_small)
        j2_sum = prefix[n_small + n_j2] - prefix[n_small]
        n_j1 = len(ws) - n_small - n_j2
        residual = n_j2 * c - j2_sum
        extra = max(0, -(-(j3_sum - residual) // c))
        best = max(best, n_j1 + n_j2 + extra)
    return best


@dataclass
class ArcFlowGraph:
    """Valério de Carvalho's arc-flow graph for one instance.

    Nodes are load levels 0..capacity. An arc (u, u + s) means "put an item of size s on a
    bin already loaded to u". A bin is a path from 0; it may end at any node (a partly
    filled bin), so no loss arcs are needed. Arcs are built size by size in decreasing
    order, from the levels reachable with larger sizes only, each size repeated up to its
    demand: every packing, its bins' items sorted by decreasing size, is a set of paths
    in this graph, and each arc of size s carries at most demand(s) paths.
    """

    capacity: int
    sizes: list[int]  # distinct item sizes, decreasing
    demand: list[int]  # demand[k] = number of items of size sizes[k]
    tails: list[int] = field(default_factory=list)
    heads: list[int] = field(default_factory=list)
    kinds: list[int] = field(default_factory=list)  # index into sizes

    @classmethod
    def build(cls, weights: Sequence[int], capacity: int, max_arcs: int = MAX_ARCS):
        counts = Counter(weights)
        sizes = sorted(counts, reverse=True)
        g = cls(capacity, sizes, [counts[s] for s in sizes])
        reachable = {0}
        seen: set[tuple[int, int]] = set()
        for k, s in enumerate(sizes):
            new = set()
            for start in sorted(reachable):
                u = start
                for _ in range(g.demand[k]):
                    v = u + s
                    if v > capacity:
                        break
                    # An arc already made from another start is walked on, not
                    # stopped at: the chain from this start may go further.
                    if (u, k) not in seen:
                        seen.add((u, k))
                        g.tails.append(u)
                        g.heads.append(v)
                        g.kinds.append(k)
                        new.add(v)
                    u = v
                if len(g.tails) > max_arcs:
                    raise OverflowError(
                        f"arc-flow graph over {max_arcs} arcs (capacity {capacity}, "
                        f"{len(sizes)} distinct sizes)"
                    )
            reachable |= new
        return g

    @property
    def nodes(self) -> list[int]:
        return sorted({0, *self.heads})

    def paths(self, flow: Sequence[int]) -> list[list[int]]:
        """Split an integer flow into bins, each a list of sizes."""
        remaining = list(flow)
        out_arcs: dict[int, list[int]] = {}
        for a, u in enumerate(self.tails):
            out_arcs.setdefault(u, []).append(a)
        bins = []
        while True:
            starts = [a for a in out_arcs.get(0, []) if remaining[a] > 0]
            if not starts:
                return bins
            u, sizes = 0, []
            while True:
                nxt = next((a for a in out_arcs.get(u, []) if remaining[a] > 0), None)
                if nxt is None:
                    break
                remaining[nxt] -= 1
                sizes.append(self.sizes[self.kinds[nxt]])
                u = self.heads[nxt]
            bins.append(sizes)


def _rows(graph: ArcFlowGraph):
    """Flow rows (node -> arcs in, arcs out) and demand rows (size -> arcs)."""
    into: dict[int, list[int]] = {}
    out: dict[int, list[int]] = {}
    by_kind: list[list[int]] = [[] for _ in graph.sizes]
    for a, (u, v, k) in enumerate(zip(graph.tails, graph.heads, graph.kinds, strict=True)):
        out.setdefault(u, []).append(a)
        into.setdefault(v, []).append(a)
        by_kind[k].append(a)
    return into, out, by_kind


def _lp_value(graph: ArcFlowGraph, time_limit: float | None = None) -> float | None:
    """Optimal value of the arc-flow LP: min flow out of 0 such that every node other than
    0 passes on at most what it receives and each size is carried exactly demand times."""
    import highspy

    into, out, by_kind = _rows(graph)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("solver", "ipm")  # 4-6 times faster than simplex on these graphs
    if time_limit is not None:
        h.setOptionValue("time_limit", max(0.01, time_limit))
    n = len(graph.tails)
    cost = [1.0 if u == 0 else 0.0 for u in graph.tails]
    upper = [float(graph.demand[k]) for k in graph.kinds]
    h.addVars(n, [0.0] * n, upper)
    h.changeColsCost(n, list(range(n)), cost)
    for node in graph.nodes:
        if node == 0 or node not in out:
            continue
        idx = into.get(node, []) + out[node]
        val = [1.0] * len(into.get(node, [])) + [-1.0] * len(out[node])
        h.addRow(0.0, highspy.kHighsInf, len(idx), idx, val)
    for k, arcs in enumerate(by_kind):
        d = float(graph.demand[k])
        h.addRow(d, d, len(arcs), arcs, [1.0] * len(arcs))
    h.run()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kTimeLimit:
        return None
    if status != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"HiGHS ended the arc-flow LP with {h.modelStatusToString(status)}")
    return h.getInfo().objective_function_value


def _lp_bound(graph: ArcFlowGraph, time_limit: float | None = None) -> int | None:
    value = _lp_value(graph, time_limit)
    return None if value is None else math.ceil(value - LP_TOLERANCE)


def arcflow_lp_bound(weights: Sequence[int], capacity: int) -> int:
    """Ceil of the LP relaxation of the arc-flow model (see ArcFlowGraph), solved by HiGHS.

    It equals the Gilmore–Gomory bound and is never below L1; on the classic benchmarks
    it is at least L2 and almost always the optimum. The LP
    value is a float; anything within 1e-6 above an integer is taken as that integer, which
    can only make the bound weaker, never invalid. Raises OverflowError when the graph
    would exceed MAX_ARCS arcs (large capacities with many distinct weights).
    """
    ws = _checked(weights, capacity)
    if not ws:
        return 0
    return _lp_bound(ArcFlowGraph.build(ws, capacity))


def best_lower_bound(weights: Sequence[int], capacity: int, *, arcflow: bool = True) -> Bound:
    """The largest of L1, L2 and (if `arcflow`) the arc-flow LP bound, and which one binds.

    Ties go to the cheaper bound, so "L1" means the weight alone already forces the count.
    The arc-flow bound is skipped silently when its graph would be too large.
    """
    ws = _checked(weights, capacity)
    bound = Bound(l1_bound(ws, capacity), "L1")
    l2 = l2_bound(ws, capacity)
    if l2 > bound.value:
        bound = Bound(l2, "L2")
    if arcflow and ws:
        try:
            lp = arcflow_lp_bound(ws, capacity)
        except OverflowError:
            return bound
        if lp > bound.value:
            bound = Bound(lp, "arc-flow LP")
    return bound


# --- packings ---------------------------------------------------------------------------


def first_fit_decreasing(weights: Sequence[int], capacity: int) -> list[list[int]]:
    """Items by decreasing weight, each into the first bin with room, else a new bin.

    Ties keep the input order, so the result is deterministic. O(n * bins).
    """
    ws = _checked(weights, capacity)
    order = sorted(range(len(ws)), key=lambda i: -ws[i])
    bins: list[list[int]] = []
    room: list[int] = []
    for i in order:
        w = ws[i]
        for b, r in enumerate(room):
            if w <= r:
                bins[b].append(i)
                room[b] = r - w
                break
        else:
            bins.append([i])
            room.append(capacity - w)
    return bins


def _as_indices(bins_sizes: list[list[int]], weights: list[int]) -> list[list[int]]:
    """Turn bins of sizes back into bins of item indices (items of equal size are alike)."""
    pool: dict[int, list[int]] = {}
    for i in range(len(weights) - 1, -1, -1):
        pool.setdefault(weights[i], []).append(i)
    bins = [[pool[s].pop() for s in sizes] for sizes in bins_sizes]
    bins = [sorted(b) for b in bins if b]
    bins.sort()
    return bins


def _should_stop(stop) -> bool:
    if stop is None:
        return False
    if hasattr(stop, "is_set"):
        return bool(stop.is_set())
    return bool(stop())


def solve(
    weights: Sequence[int],
    capacity: int,
    time_limit: float = 30.0,
    workers: int = 2,
    stop: threading.Event | Callable[[], bool] | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> Packing:
    """Pack the items into as few bins as possible and prove how close that is.

    1. FFD gives a first packing; L1 and L2 may already prove it optimal.
    2. The arc-flow graph is built and its LP bound computed with HiGHS.
    3. CP-SAT (`workers` threads) looks for a packing with exactly k bins in that graph,
       for k = the best bound, then k + 1, ... up to one bin fewer than the best packing.
       Fixing k tells the model how much room the bins may leave empty in total, and
       paths may then end only at load levels whose free room fits in it (on triplet
       instances: only at full capacity), which is what makes CP-SAT fast here; the
       objective form of the same model, seeded with FFD, missed 1 of the 20 Falkenauer
       t60 optima in 30 s, the fixed-k form proves all of them in under a second.
       A k proven infeasible raises the bound ("CP-SAT"). Each k gets half of the time
       left (the last one all of it), so a k that cannot be settled does not use up
       the time of the next.

    `time_limit` covers the whole call. `progress` gets a Progress at the start, whenever
    the packing or the bound improves, and about once a second during a CP-SAT search
    (then from a helper thread). `stop` (a threading.Event, or a callable returning true)
    ends the solve within about 50 ms; the best packing so far is returned with
    `stopped=True`. Whatever happens, the packing returned holds every item exactly once
    and no bin is over capacity.
    """
    started = time.monotonic()
    deadline = started + time_limit
    ws = _checked(weights, capacity)
    if not ws:
        return Packing([], 0, "L1", True, 0.0, status="optimal")

    def elapsed() -> float:
        return time.monotonic() - started

    best = first_fit_decreasing(ws, capacity)
    bound = Bound(l1_bound(ws, capacity), "L1")
    l2 = l2_bound(ws, capacity)
    if l2 > bound.value:
        bound = Bound(l2, "L2")

    def report() -> None:
        if progress is not None:
            progress(Progress(len(best), bound.value, elapsed()))

    def finish(status: str, stopped: bool = False) -> Packing:
        optimal = len(best) <= bound.value
        return Packing(
            best,
            bound.value,
            bound.name,
            optimal,
            elapsed(),
            stopped,
            "optimal" if optimal else status,
        )

    report()
    if len(best) <= bound.value:
        return finish("optimal")
    if _should_stop(stop):
        return finish("stopped", stopped=True)
    try:
        graph = ArcFlowGraph.build(ws, capacity)
    except OverflowError:
        return finish("graph too large")
    lp = _lp_bound(graph, time_limit=deadline - time.monotonic())
    if lp is not None and lp > bound.value:
        bound = Bound(lp, "arc-flow LP")
        report()

    for target in range(bound.value, len(best)):
        if _should_stop(stop):
            return finish("stopped", stopped=True)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return finish("time limit")
        budget = remaining if target == len(best) - 1 else remaining / 2
        flow, verdict = _pack_into(graph, target, budget, workers, stop, report)
        if verdict == "feasible":
            best = _as_indices(graph.paths(flow), ws)
            report()
            return finish("feasible")
        if verdict == "infeasible":
            bound = Bound(max(bound.value, target + 1), "CP-SAT")
            report()
        elif verdict == "stopped":
            return finish("stopped", stopped=True)
        # "time limit": k is unsettled; try k + 1 with what is left.
    return finish("time limit")


def _pack_into(
    graph: ArcFlowGraph,
    bins: int,
    time_limit: float,
    workers: int,
    stop,
    heartbeat: Callable[[], None],
) -> tuple[list[int] | None, str]:
    """Look for a packing with exactly `bins` bins: a flow of `bins` paths from node 0
    that carries each size exactly its demand. Returns (flow or None, verdict), verdict
    one of "feasible", "infeasible", "time limit", "stopped".
    """
    from ortools.sat.python import cp_model

    into, out, by_kind = _rows(graph)
    c = graph.capacity
    waste = bins * c - sum(s * d for s, d in zip(graph.sizes, graph.demand, strict=True))
    m = cp_model.CpModel()
    x = [m.new_int_var(0, min(graph.demand[k], bins), f"x{a}") for a, k in enumerate(graph.kinds)]
    m.add(sum(x[a] for a in out.get(0, [])) == bins)
    for node in graph.nodes:
        if node in (0, c):
            continue
        inflow = sum(x[a] for a in into.get(node, []))
        outflow = sum(x[a] for a in out.get(node, []))
        if c - node > waste:
            m.add(inflow == outflow)  # a bin ending at this load would leave too much room
        else:
            m.add(inflow >= outflow)
    for k, arcs in enumerate(by_kind):
        m.add(sum(x[a] for a in arcs) == graph.demand[k])

    solver = cp_solver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = max(1, workers)
    code, asked_to_stop = solve_stoppable(solver, m, lambda: _should_stop(stop),
                                          heartbeat=heartbeat)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return [int(solver.value(v)) for v in x], "feasible"
    if code == cp_model.INFEASIBLE:
        return None, "infeasible"
    return None, "stopped" if asked_to_stop else "time limit"
