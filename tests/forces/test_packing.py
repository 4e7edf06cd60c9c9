"""The sortie-count core: bounds, the FFD baseline and the exact solver (no database)."""

import random
import threading

import pytest

from sitroom.forces.planner.packing import (
    Bound,
    PackingInputError,
    arcflow_lp_bound,
    best_lower_bound,
    first_fit_decreasing,
    l1_bound,
    l2_bound,
    solve,
)
from sitroom.forces.planner.triplets import CAPACITY, triplet_instance


def brute_force_optimum(weights, capacity):
    """Fewest bins, by trying every placement (items largest first, bins kept canonical)."""
    ws = sorted(weights, reverse=True)
    best = len(ws)

    def place(i, loads):
        nonlocal best
        if len(loads) >= best:
            return
        if i == len(ws):
            best = len(loads)
            return
        tried = set()
        for b, load in enumerate(loads):
            if load + ws[i] <= capacity and load not in tried:
                tried.add(load)
                loads[b] += ws[i]
                place(i + 1, loads)
                loads[b] -= ws[i]
        loads.append(ws[i])
        place(i + 1, loads)
        loads.pop()

    place(0, [])
    return best


def assert_valid_packing(bins, weights, capacity):
    placed = sorted(i for b in bins for i in b)
    assert placed == list(range(len(weights))), "every item exactly once"
    for b in bins:
        assert b, "no empty bin"
        assert sum(weights[i] for i in b) <= capacity


def random_instances(count, seed=7):
    """Up to 8 items: every other instance has weights anywhere in 1..capacity, the others
    between a fifth and a half of it, where FFD and L2 both miss the optimum now and then."""
    rng = random.Random(seed)
    for k in range(count):
        if k % 2:
            capacity = rng.randint(5, 60)
            yield [rng.randint(1, capacity) for _ in range(rng.randint(1, 8))], capacity
        else:
            capacity = rng.randint(20, 60)
            low, high = capacity // 5 + 1, capacity // 2
            yield [rng.randint(low, high) for _ in range(rng.randint(6, 8))], capacity


# --- bounds on cases worked by hand -------------------------------------------------------


def test_l1_is_total_weight_over_capacity_rounded_up():
    assert l1_bound([3, 3, 3], 10) == 1
    assert l1_bound([5, 5, 1], 10) == 2
    assert l1_bound([], 10) == 0


def test_l2_counts_large_items_that_cannot_share_a_bin():
    # Three items over half the capacity need three bins; their weight alone says two.
    assert l1_bound([6, 6, 6], 10) == 2
    assert l2_bound([6, 6, 6], 10) == 3


def test_l2_sees_that_small_items_do_not_fit_beside_large_ones():
    # 60s leave 40 free, the 45s fit none of that room: 3 bins of 60 + one of 45 + 45.
    weights = [60, 60, 60, 45, 45]
    assert l1_bound(weights, 100) == 3
    assert l2_bound(weights, 100) == 4 == brute_force_optimum(weights, 100)


def test_l2_puts_items_of_exactly_half_the_capacity_with_the_small_ones():
    # Two halves share a bin: 5 + 5 and 5 is two bins, not three.
    assert l2_bound([5, 5, 5], 10) == 2
    # Odd capacity: 6 > 11/2 >= 5.
    assert l2_bound([6, 6, 6], 11) == 3
    assert l2_bound([6, 5, 6, 5], 11) == 2
    assert l2_bound([5, 5, 5, 5], 11) == 2


def test_l2_is_never_below_l1():
    for weights, capacity in random_instances(300, seed=3):
        assert l2_bound(weights, capacity) >= l1_bound(weights, capacity)


def test_arcflow_bound_sees_that_at_most_two_items_of_four_fit_in_ten():
    weights = [4] * 5
    assert l2_bound(weights, 10) == 2
    assert arcflow_lp_bound(weights, 10) == 3 == brute_force_optimum(weights, 10)


def test_best_lower_bound_names_the_cheapest_bound_that_binds():
    assert best_lower_bound([3, 3, 3, 3], 10) == Bound(2, "L1")
    assert best_lower_bound([6, 6, 6], 10) == Bound(3, "L2")
    assert best_lower_bound([4] * 5, 10) == Bound(3, "arc-flow LP")
    assert best_lower_bound([4] * 5, 10, arcflow=False) == Bound(2, "L1")
    value, name = best_lower_bound([], 10)
    assert (value, name) == (0, "L1")


def test_no_bound_exceeds_the_optimum_on_small_random_instances():
    l2_misses = 0
    for weights, capacity in random_instances(120, seed=11):
        optimum = brute_force_optimum(weights, capacity)
        assert l1_bound(weights, capacity) <= optimum
        assert l2_bound(weights, capacity) <= optimum
        assert arcflow_lp_bound(weights, capacity) <= optimum
        value, _ = best_lower_bound(weights, capacity)
        assert value <= optimum
        l2_misses += l2_bound(weights, capacity) < optimum
    assert l2_misses >= 5  # so the arc-flow bound was checked where it matters


def test_arcflow_graph_holds_every_packing_when_many_small_items_follow_a_large_one():
    """One large item then a hundred and twenty small ones fit one bin: the graph must
    have the small items' arcs beyond the first chain's end (a missing arc made the
    LP say 2 — not a lower bound)."""
    weights = [80] + [1] * 120
    assert arcflow_lp_bound(weights, 400) == 1
    assert arcflow_lp_bound([60, 50] + [1] * 300, 400) == 2  # 410 > 400


# --- packings -----------------------------------------------------------------------------


def test_ffd_and_solve_pack_every_item_once_within_capacity_and_solve_is_optimal():
    ffd_misses = 0
    for weights, capacity in random_instances(120, seed=7):
        optimum = brute_force_optimum(weights, capacity)
        ffd = first_fit_decreasing(weights, capacity)
        assert_valid_packing(ffd, weights, capacity)
        ffd_misses += len(ffd) > optimum
        result = solve(weights, capacity, time_limit=5)
        assert_valid_packing(result.bins, weights, capacity)
        assert result.bin_count == optimum
        assert result.optimal and result.lower_bound == result.bin_count
    assert ffd_misses >= 5  # so CP-SAT had something to do


def test_ffd_fills_bins_in_decreasing_order_first_fit():
    assert first_fit_decreasing([2, 5, 4, 7, 1, 3, 8], 10) == [[6, 0], [3, 5], [1, 2, 4]]


@pytest.mark.parametrize("seed", range(4))
def test_solve_reaches_the_optimum_of_triplet_instances_that_ffd_misses(seed):
    weights = triplet_instance(45, seed)
    result = solve(weights, CAPACITY, time_limit=20)
    assert_valid_packing(result.bins, weights, CAPACITY)
    assert result.bin_count == 15 and result.optimal
    assert result.lower_bound == 15 and result.bound_name == "L1"
    assert all(len(b) == 3 for b in result.bins)
    assert len(first_fit_decreasing(weights, CAPACITY)) > 15


def test_triplet_instances_fill_their_bins_exactly():
    weights = triplet_instance(300, seed=5)
    assert sum(weights) == 100 * CAPACITY
    assert all(CAPACITY / 4 < w < CAPACITY / 2 for w in weights)
    assert triplet_instance(300, seed=5) == weights
    with pytest.raises(ValueError):
        triplet_instance(100)


def test_solve_proves_a_count_infeasible_when_no_cheap_bound_closes_the_gap(monkeypatch):
    # Without the LP bound, L1 = L2 = 2 while FFD and the optimum are 3: CP-SAT has to
    # show that 2 bins cannot hold five items of 4 (capacity 10).
    from sitroom.forces.planner import packing

    monkeypatch.setattr(packing, "_lp_bound", lambda graph, time_limit=None: None)
    result = solve([4] * 5, 10)
    assert result.bin_count == 3 and result.optimal
    assert (result.lower_bound, result.bound_name) == (3, "CP-SAT")


def test_solve_reports_progress_towards_the_result():
    seen = []
    weights = triplet_instance(60, seed=1)
    result = solve(weights, CAPACITY, time_limit=20, progress=seen.append)
    assert seen[0].bins == len(first_fit_decreasing(weights, CAPACITY))
    assert [p.bins for p in seen] == sorted((p.bins for p in seen), reverse=True)
    assert [p.lower_bound for p in seen] == sorted(p.lower_bound for p in seen)
    assert (seen[-1].bins, seen[-1].lower_bound) == (result.bin_count, result.lower_bound)


def test_stop_during_the_search_keeps_the_best_packing_so_far():
    weights = triplet_instance(501, seed=2)
    calls = 0

    def stop():  # the third look is the first one made while CP-SAT searches
        nonlocal calls
        calls += 1
        return calls >= 3

    result = solve(weights, CAPACITY, time_limit=60, stop=stop)
    assert result.stopped and result.status == "stopped" and not result.optimal
    assert result.bin_count == len(first_fit_decreasing(weights, CAPACITY))
    assert result.lower_bound == 167
    assert_valid_packing(result.bins, weights, CAPACITY)


def test_a_set_event_stops_at_once_with_the_ffd_packing():
    weights = triplet_instance(60, seed=3)
    event = threading.Event()
    event.set()
    result = solve(weights, CAPACITY, stop=event)
    assert result.stopped and result.bin_count == len(first_fit_decreasing(weights, CAPACITY))
    assert_valid_packing(result.bins, weights, CAPACITY)


def test_a_time_limit_too_short_for_the_search_still_returns_a_valid_packing():
    weights = triplet_instance(120, seed=4)
    result = solve(weights, CAPACITY, time_limit=0.001)
    assert result.status == "time limit" and not result.optimal
    assert_valid_packing(result.bins, weights, CAPACITY)


def test_trivial_inputs():
    empty = solve([], 10)
    assert (empty.bins, empty.bin_count, empty.optimal) == ([], 0, True)
    one = solve([10], 10)
    assert one.bins == [[0]] and one.optimal


# --- errors name the bad item -------------------------------------------------------------


@pytest.mark.parametrize("capacity", [0, -5])
def test_capacity_must_be_positive(capacity):
    for function in (l1_bound, l2_bound, arcflow_lp_bound, first_fit_decreasing, solve):
        with pytest.raises(ValueError, match="capacity must be positive"):
            function([1, 2], capacity)


@pytest.mark.parametrize(
    "weights, message",
    [
        ([3, 4, 11, 2], "item 2: weight 11 exceeds the capacity 10"),
        ([3, 0, 2], "item 1: weight must be positive"),
        ([3, 4, -1], "item 2: weight must be positive"),
        ([2.5, 3], "item 0: weight must be an integer"),
        ([3, True], "item 1: weight must be an integer"),
    ],
)
def test_bad_items_are_named(weights, message):
    for function in (l1_bound, l2_bound, arcflow_lp_bound, best_lower_bound, solve):
        with pytest.raises(PackingInputError, match=message) as raised:
            function(weights, 10)
        assert raised.value.item == int(message.split()[1].rstrip(":"))
