"""The withdrawal planner: plans that a person could fly, checked independently here."""

import json
import math
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest

from sitroom.forces.planner import solve
from sitroom.forces.planner.generate import AIRCRAFT, APOES, HOMES
from sitroom.forces.planner.handover import check_handover
from sitroom.forces.planner.model import Fleet, Plan, Problem, Site, Unit, Vehicle

START = datetime(2022, 1, 13, 6, 0, tzinfo=UTC)


def small_problem() -> Problem:
    def v(uid, n, kind="BMD-2", w=8000, ln=5.4, wd=2.6, ht=2.0):
        return Vehicle(f"{uid}-V{n}", uid, kind, w, ln, wd, ht)

    units = (
        Unit("RU-1", "RU unit 1", "RU", 180, tuple(v("RU-1", i) for i in range(6)), "UAAA", "UUBI"),
        Unit(
            "RU-2",
            "RU unit 2",
            "RU",
            90,
            (v("RU-2", 1, "crane", 22000, 10.5, 3.6, 3.5), v("RU-2", 2)),
            "ZHETYGEN",
            "UUBI",
        ),
        Unit("BY-1", "BY unit 1", "BY", 120, (v("BY-1", 1),), "ZHETYGEN", "UMMS"),
        Unit(
            "KG-1",
            "KG unit 1",
            "KG",
            60,
            (v("KG-1", 1),),
            "UAAA",
            "UCFM",
            road_allowed=True,
            road_min=420,
        ),
    )
    sites = (
        Site("S1", "CHP-1", "RU-1", START + timedelta(hours=2), travel_min=60),
        Site("S2", "Airport", "RU-2", START + timedelta(hours=5), travel_min=30),
        Site("S3", "CHP-2", "KG-1", START + timedelta(hours=1), travel_min=45),
    )
    return Problem(
        start=START,
        units=units,
        sites=sites,
        aircraft=AIRCRAFT,
        fleet=(Fleet("IL76MD", 3), Fleet("AN124", 1)),
        airfields=APOES,
        destinations=HOMES,
    )


def independent_check(problem: Problem, plan: Plan) -> None:
    """Every rule of the plan, computed here without the planner's code."""
    types = {k.code: k for k in problem.aircraft}
    vehicles = {v.id: v for u in problem.units for v in u.vehicles}
    carried_people: dict[str, int] = {}
    carried_vehicles: list[str] = []
    for s in plan.sorties:
        k = types[s.aircraft_type]
        people = sum(x.personnel for x in s.units)
        vs = [vehicles[vid] for x in s.units for vid in x.vehicles]
        weight = sum(v.weight_kg for v in vs) + people * problem.person_kg
        assert weight == s.weight_kg and weight <= k.acl_kg, s
        floor = sum(v.length_m + problem.vehicle_gap_m for v in vs)
        assert floor <= k.floor_length_m + problem.vehicle_gap_m + 1e-9, s
        lost = sum(
            math.ceil(
                (k.full_seats - k.seats)
                * (v.length_m + problem.vehicle_gap_m)
                / (k.floor_length_m + problem.vehicle_gap_m)
                - 1e-9
            )
            for v in vs
        )
        assert people + lost <= k.full_seats, s
        for v in vs:
            assert v.width_m <= k.floor_width_m and v.height_m <= k.height_m, (v, k.code)
        for x in s.units:
            carried_people[x.unit] = carried_people.get(x.unit, 0) + x.personnel
            carried_vehicles.extend(x.vehicles)
        assert s.boarding < s.depart < s.arrive < s.available
    by_road = {r.unit for r in plan.road_moves}
    for u in problem.units:
        if u.id in by_road:
            assert carried_people.get(u.id, 0) == 0
            continue
        assert carried_people.get(u.id, 0) == u.personnel, u.id
    expected = sorted(v.id for u in problem.units if u.id not in by_road for v in u.vehicles)
    assert sorted(carried_vehicles) == expected  # every vehicle exactly once
    # no airframe in two places: its cycles do not overlap
    by_frame: dict[tuple[str, int], list] = {}
    for s in plan.sorties:
        by_frame.setdefault((s.aircraft_type, s.airframe), []).append(s)
    for ss in by_frame.values():
        ss.sort(key=lambda s: s.boarding)
        for a, b in zip(ss, ss[1:], strict=False):
            assert a.available <= b.boarding
    # MOG at each APOE over the loading intervals
    mog = {a.code: a.max_on_ground for a in (*problem.airfields, *problem.destinations)}
    for s in plan.sorties:
        on_ground = [
            t for t in plan.sorties if t.origin == s.origin and t.boarding <= s.boarding < t.depart
        ]
        assert len(on_ground) <= mog[s.origin]
    # handover rule: guard end >= relief + overlap; boarding >= guard end + travel
    firsts: dict[str, datetime] = {}
    for s in plan.sorties:
        for x in s.units:
            firsts[x.unit] = min(firsts.get(x.unit, s.boarding), s.boarding)
    for r in plan.road_moves:
        firsts[r.unit] = r.depart
    ends = {h.site: h.guard_end for h in plan.handovers}
    for site in problem.sites:
        assert ends[site.id] >= site.relief_from + timedelta(minutes=site.overlap_min)
        assert firsts[site.guarded_by] >= ends[site.id] + timedelta(minutes=site.travel_min)
    assert check_handover(problem, plan) == []


@pytest.fixture(scope="module")
def small_plan():
    problem = small_problem()
    return problem, solve(problem, time_limit_s=10, workers=1)


def test_a_small_force_gets_a_plan_that_passes_every_rule(small_plan):
    problem, plan = small_plan
    assert plan.status in ("optimal", "feasible")
    independent_check(problem, plan)
    crane = [s for s in plan.sorties for x in s.units if "RU-2-V1" in x.vehicles]
    assert [s.aircraft_type for s in crane] == ["AN124"]  # outsize only on the An-124


def test_every_bound_is_below_what_was_found(small_plan):
    _, plan = small_plan
    assert plan.ratio >= 1 and plan.sortie_ratio >= 1
    assert all(b <= len(plan.sorties) for b in plan.sortie_bounds.values())
    assert all(b <= plan.closure_min for b in plan.closure_bounds.values())
    assert plan.closure_bound_name in plan.closure_bounds
    assert all(b <= plan.closure_min for b in plan.packing_bounds.values())


def test_the_arc_flow_bound_sees_vehicles_that_fill_the_floor_before_the_weight():
    """Six light trucks 9.7 m long: two fill an Il-76's floor (20.3 m with the gaps) at
    6 t of its 40. By weight one sortie would do; the arc-flow bound also packs the floor
    and says three, which is what any plan needs (it said one when it kept the weight
    alone)."""
    from sitroom.forces.planner.bounds import group_sortie_bounds
    from sitroom.forces.planner.loads import groups_of

    trucks = tuple(Vehicle(f"RU-1-V{n}", "RU-1", "long truck", 3000, 9.7, 2.5, 2.5)
                   for n in range(6))
    problem = Problem(
        start=START,
        units=(Unit("RU-1", "RU unit 1", "RU", 0, trucks, "UAAA", "UUBI"),),
        sites=(Site("S1", "CHP-1", "RU-1", START, travel_min=30),),
        aircraft=AIRCRAFT, fleet=(Fleet("IL76MD", 2),), airfields=APOES, destinations=HOMES,
    )
    (group,) = groups_of(problem)
    assert group_sortie_bounds(problem, group).arcflow == 3
    plan = solve(problem, time_limit_s=10, workers=1)
    independent_check(problem, plan)
    assert len(plan.sorties) == 3 and plan.sortie_bounds["arc-flow LP"] == 3


def test_the_loads_come_from_the_pattern_model_and_its_bound_holds(small_plan):
    """Two packings are made, the fleet master's (pattern MIP) and the time-indexed
    programme's; the one whose greedy schedule closes first is flown."""
    problem, plan = small_plan
    tried = next(n for n in plan.notes if n.startswith("packings tried: "))
    assert "pattern MIP" in tried and "time-indexed MIP" in tried
    assert "pattern MIP" in plan.notes[0] or "time-indexed MIP" in plan.notes[0]
    assert plan.sortie_bounds["pattern LP"] >= plan.sortie_bounds["arc-flow LP"]
    # the ratio is to bounds valid for every plan; bounds of the chosen packing only are
    # reported apart and are never the ratio's denominator
    assert set(plan.closure_bounds) == {
        "fleet-cycle",
        "airfield-throughput",
        "handover critical path",
        "time-indexed",
    }
    assert "CP-SAT (this packing)" in plan.packing_bounds
    assert plan.ratio == plan.closure_min / max(plan.closure_bounds.values())


def test_bounds_valid_for_every_plan_hold_for_the_baseline_too(small_plan):
    problem, plan = small_plan
    base = solve(problem, time_limit_s=10, workers=1, baseline=True)
    independent_check(problem, base)
    assert "FFD" in base.notes[0]
    for name, value in plan.closure_bounds.items():
        assert value <= base.closure_min, name
    assert plan.sortie_bound <= len(base.sorties)


def test_a_unit_boarding_when_loading_starts_before_its_release_is_refused(small_plan):
    problem, plan = small_plan
    ends = {h.site: h for h in plan.handovers}
    site = problem.sites[0]
    released = ends[site.id].guard_end + timedelta(minutes=site.travel_min)
    first = min(
        (s for s in plan.sorties if any(x.unit == site.guarded_by for x in s.units)),
        key=lambda s: s.boarding,
    )
    # loading starts 10 min before the unit can be there; take-off is still after it
    early = replace(
        first, boarding=released - timedelta(minutes=10), depart=released + timedelta(minutes=5)
    )
    sorties = tuple(early if s.id == first.id else s for s in plan.sorties)
    gaps = check_handover(problem, replace(plan, sorties=sorties))
    assert [(g.kind, g.site_id, g.shortfall_min) for g in gaps] == [("boarding", site.id, 10)]


def test_a_vehicle_no_aircraft_takes_is_named():
    problem = small_problem()
    problem = replace(problem, fleet=(Fleet("IL76MD", 3),))
    plan = solve(problem, time_limit_s=5)
    assert plan.status == "infeasible"
    assert "RU-2-V1" in plan.explanation and "width" in plan.explanation


def test_a_site_without_relief_is_named():
    problem = small_problem()
    sites = (replace(problem.sites[0], relief_from=None), *problem.sites[1:])
    plan = solve(replace(problem, sites=sites), time_limit_s=5)
    assert plan.status == "infeasible"
    assert "CHP-1" in plan.explanation and "relief" in plan.explanation


def test_stopping_keeps_the_best_plan_so_far():
    problem = small_problem()
    stop = threading.Event()
    stop.set()
    plan = solve(problem, time_limit_s=30, stop=stop)
    assert plan.status == "stopped"
    independent_check(problem, plan)


def test_problem_and_plan_round_trip_through_json(small_plan):
    problem, plan = small_plan
    assert Problem.from_json(json.loads(problem.dumps())) == problem
    again = Plan.from_json(plan.dumps())
    assert again.sorties == plan.sorties and again.closure == plan.closure


def test_command_prints_a_json_plan(tmp_path):
    path = tmp_path / "problem.json"
    path.write_text(small_problem().dumps(), encoding="utf-8")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "sitroom.cli",
            "plan-withdrawal",
            "--problem",
            str(path),
            "--format",
            "json",
            "--time-limit",
            "5",
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["sortie_count"] == len(data["sorties"]) > 0
    assert data["ratio"] >= 1 and data["sortie_ratio"] >= 1
    assert set(data["closure_bounds"]) >= {
        "fleet-cycle",
        "airfield-throughput",
        "handover critical path",
    }
    assert data["handover_gaps"] == []
    assert "closure" in out.stderr  # progress lines


def test_command_exits_2_with_the_explanation(tmp_path):
    problem = replace(small_problem(), fleet=(Fleet("IL76MD", 3),))
    path = tmp_path / "problem.json"
    path.write_text(problem.dumps(), encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "sitroom.cli", "plan-withdrawal", "--problem", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 2
    assert "RU-2-V1" in out.stderr


def test_command_text_speaks_the_readers_language(tmp_path):
    """The text report names the status, every bound and each sortie's load in the
    deployment's language, not the planner's English keys."""
    import os

    path = tmp_path / "problem.json"
    path.write_text(small_problem().dumps(), encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "sitroom.cli", "plan-withdrawal", "--problem", str(path),
         "--time-limit", "3", "--workers", "1"],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "SITROOM_LANGUAGE": "ru"},
    )
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert text.startswith("статус: допустимо") or text.startswith("статус: оптимально")
    assert "циклы воздушных судов" in text and "критический путь передачи объектов" in text
    assert "(только для этих рейсов)" in text
    assert "RU-1: " in text and " человек" in text and "ед. техники" in text
    assert "+06:00 (" in text  # the closure in the deployment's zone (Almaty, 2022)
    for key in ("fleet-cycle", "handover critical path", "'L2'", "feasible", " people "):
        assert key not in text


def test_the_airfield_bound_counts_only_working_hours():
    """Zhetygen works 07:00-23:00 Almaty time. From 12:00 (minute 0), 20 loadings of two
    hours, two at a time: ten fit by 23:00 (5 rounds of 120 min in 660 min), the other
    ten from 07:00 next day (minute 1140) take five rounds more: done at minute 1740,
    where a field open day and night would be done at minute 1200."""
    from sitroom.forces.planner.bounds import _nth_done
    from sitroom.forces.planner.generate import _with_hours

    problem = small_problem()
    zhetygen = _with_hours(APOES[1], time(7, 0), time(23, 0))
    assert _nth_done(problem, zhetygen, 20, 120, 2, 0) == 1740
    assert _nth_done(problem, APOES[1], 20, 120, 2, 0) == 1200
    assert _nth_done(problem, zhetygen, 10, 120, 2, 0) == 600
    assert _nth_done(problem, zhetygen, 1, 120, 2, 1000) == 1140 + 120


def test_with_working_hours_every_bound_still_holds(small_plan):
    from sitroom.forces.planner.generate import _with_hours

    problem, _ = small_plan
    hours = replace(problem, airfields=(APOES[0], _with_hours(APOES[1], time(7, 0), time(23, 0))))
    plan = solve(hours, time_limit_s=10, workers=1)
    independent_check(hours, plan)
    assert all(b <= plan.closure_min for b in plan.closure_bounds.values())


def two_units_at_zhetygen() -> Problem:
    """Zhetygen works 07:00-23:00. BY-1 is ready at 13:30 (minute 90), BY-2 at 22:50
    (minute 650), too late for a two-hour loading before 23:00."""
    from sitroom.forces.planner.generate import _with_hours

    zhetygen = _with_hours(APOES[1], time(7, 0), time(23, 0))
    bmd = ("BMD-2", 8000, 5.4, 2.6, 2.0)
    units = tuple(
        Unit(uid, uid, "BY", 60, (Vehicle(f"{uid}-V1", uid, *bmd),), "ZHETYGEN", "UMMS")
        for uid in ("BY-1", "BY-2")
    )
    sites = (  # ready = relief + 60 min overlap + travel
        Site("S1", "Consulate", "BY-1", START, travel_min=30),
        Site("S2", "Bakery", "BY-2", START + timedelta(minutes=560), travel_min=30),
    )
    return Problem(start=START, units=units, sites=sites, aircraft=AIRCRAFT,
                   fleet=(Fleet("IL76MD", 2),), airfields=(APOES[0], zhetygen),
                   destinations=HOMES)


def test_a_unit_ready_today_is_not_held_back_by_one_ready_tomorrow():
    """Both units would fit one Il-76, which would wait for BY-2 until 07:00; BY-1 is
    packed apart and leaves the first evening."""
    from sitroom.forces.planner.loads import groups_of, waves_of

    problem = two_units_at_zhetygen()
    waves = waves_of(problem, groups_of(problem))
    assert [[u.id for u in w.units] for w in waves] == [["BY-1"], ["BY-2"]]
    assert {w.key for w in waves} == {("ZHETYGEN", "UMMS", "")}
    plan = solve(problem, time_limit_s=10, workers=1)
    independent_check(problem, plan)
    boards = {x.unit: s.boarding for s in plan.sorties for x in s.units}
    assert boards["BY-1"] < START + timedelta(minutes=660)  # before 23:00 Almaty
    assert boards["BY-2"] == START + timedelta(minutes=1140)  # 07:00 next day


def test_the_plan_master_sees_how_many_loadings_a_working_day_holds():
    """Six units of 140 at Zhetygen (one aircraft on the ground at a time, open 07:00-23:00
    Almaty), all ready at 13:30 (minute 90): six two-hour loadings do not fit the 570
    minutes left that day. With the working hours' rows the master knows the last
    sortie loads next morning (minute 1140 or later); without them it does not."""
    import math as _math

    from sitroom.forces.planner.columns import classes_of, enumerate_patterns
    from sitroom.forces.planner.common import Capacity, usable_types
    from sitroom.forces.planner.generate import _with_hours
    from sitroom.forces.planner.loads import groups_of
    from sitroom.forces.planner.master import route_times, solve_master

    zhetygen = replace(_with_hours(APOES[1], time(7, 0), time(23, 0)), max_on_ground=1)
    ids = [f"RU-{n}" for n in range(1, 7)]
    problem = Problem(
        start=START,
        units=tuple(Unit(uid, uid, "RU", 140, (), "ZHETYGEN", "UUBI") for uid in ids),
        sites=tuple(Site(f"S{n}", f"Site {n}", uid, START, travel_min=30)
                    for n, uid in enumerate(ids)),
        aircraft=AIRCRAFT, fleet=(Fleet("IL76MD", 6),), airfields=(APOES[0], zhetygen),
        destinations=HOMES)
    groups = groups_of(problem)
    caps = {k.code: Capacity.of(k, problem) for k in usable_types(problem)}
    classes = [classes_of(g, caps) for g in groups]
    patterns = [enumerate_patterns(g, c, caps, heavy=True)
                for g, c in zip(groups, classes, strict=True)]
    land = route_times(problem, groups[0].key, "IL76MD", exact=False)[1]

    def closure(hours: bool) -> float:
        res = solve_master(problem, groups, classes, patterns, integer=True, lb0=0,
                           time_limit=20, hours=hours)
        assert res.ok
        return res.value - sum(_math.fsum(x) for x in res.x)  # the objective is T + sorties

    assert closure(hours=True) >= 1140 + land - 1e-6
    assert closure(hours=False) < 1140 + land
    plan = solve(problem, time_limit_s=20, workers=1)
    independent_check(problem, plan)
    assert plan.closure_min >= 1140 + land
    # both packings were made and judged by their greedy schedules
    tried = next(n for n in plan.notes if n.startswith("packings tried: "))
    assert "pattern MIP with working hours" in tried and "greedy closure" in tried


def test_the_time_indexed_bound_sees_a_unit_ready_too_late_for_the_day():
    """BY-2 (two_units_at_zhetygen) is ready too late for the first day: its sortie loads
    at 07:00 next day (minute 1140) whatever the plan. Only the time-indexed bound sees it
    (the others start the group at its first unit or ignore the hours); it meets the
    plan's closure, so the plan is proved optimal."""
    from sitroom.forces.planner.common import flight_min

    problem = two_units_at_zhetygen()
    zhetygen = problem.airfields[1]
    plan = solve(problem, time_limit_s=10, workers=1)
    independent_check(problem, plan)
    il76 = AIRCRAFT[0]
    minsk = next(h for h in HOMES if h.code == "UMMS")
    expected = 1140 + il76.turnaround_min + flight_min(zhetygen, minsk, il76)
    assert plan.closure_min == expected
    assert plan.closure_bounds["time-indexed"] == expected
    assert plan.closure_bound_name == "time-indexed" and plan.ratio == 1.0
    assert plan.status == "optimal"
    others = [v for k, v in plan.closure_bounds.items() if k != "time-indexed"]
    assert max(others) < 1140
    # the bisection alone, and stopped before it starts: nothing more than it was given
    from sitroom.forces.planner.bounds import time_indexed_bound
    from sitroom.forces.planner.loads import groups_of

    groups = groups_of(problem)
    assert time_indexed_bound(problem, groups, 0, 3000) == expected
    stop = threading.Event()
    stop.set()
    assert time_indexed_bound(problem, groups, 0, 3000, stop=stop) == 0


def test_integer_sortie_counts_prove_a_deadline_the_linear_programme_cannot():
    """On the benchmark's seed 1 the time-indexed linear programme is feasible at 3,250
    min (its bound is about 3,190): fractions of sorties spread over the buckets fit.
    With whole sorties no timetable meets 3,250, so no plan does (a plan's sorties
    counted per bucket are whole), and the bound says so: asked to look between 3,249
    and 3,251, it proves 3,250 out of reach. On seed 0, whose plans wait for Zhetygen's
    four places on the ground, the buckets are sized so that the MOG rows see nearly
    every minute of a turn, and whole sorties prove 4,300 min out of reach, where the
    linear programme alone proves about 3,700 (the plans close at 4,364-4,484)."""
    from sitroom.forces.planner.bounds import time_indexed_bound
    from sitroom.forces.planner.generate import generate
    from sitroom.forces.planner.loads import groups_of
    from sitroom.forces.planner.timeindexed import TimeIndexed

    problem = generate(1, 1)
    groups = groups_of(problem)
    model = TimeIndexed(problem, groups, 3251)
    assert model.solve(3250, 60) == "feasible"
    assert model.solve(3250, 60, proof=True) == "infeasible"
    assert model.solve(3600, 60, proof=True) == "feasible"  # the plans close by about then
    assert time_indexed_bound(problem, groups, 3249, 3251, time_limit=60) == 3251

    problem = generate(1, 0)
    groups = groups_of(problem)
    model = TimeIndexed(problem, groups, 5000)
    assert model.solve(3750, 60) == "feasible"
    assert model.solve(4300, 60, proof=True) == "infeasible"
    assert model.solve(4484, 60, proof=True) == "feasible"


def test_ctrl_c_stops_the_command_keeping_the_best_plan(tmp_path):
    """Ctrl-C during a solve stops it with the best plan found so far (CP-SAT's own
    catching of SIGINT aborted the process, or the handler never ran)."""
    import os
    import signal

    from sitroom.forces.planner.generate import generate

    path = tmp_path / "problem.json"
    path.write_text(generate(1, 0).dumps(), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sitroom.cli", "plan-withdrawal", "--problem", str(path),
         "--format", "json", "--time-limit", "300"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "SITROOM_LANGUAGE": "en"},
    )
    for line in proc.stderr:  # wait for a first plan, then interrupt
        if "closure" in line:
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    plan = json.loads(out)
    assert plan["status"] == "stopped" and plan["sorties"] and plan["seconds"] < 300
    assert "stopping, keeping the best plan so far" in err


def test_the_time_indexed_timetable_gives_loads_that_carry_everyone_once():
    """The integer time-indexed programme gives a timetable of sorties (type and start
    bucket per group) that the airframes, the MOG and Zhetygen's hours allow; the loads
    built from it carry every vehicle and every person exactly once, within each sortie's
    allowable load, floor and seats, and a timetable sortie carries only units ready by
    the end of its bucket. What the timetable leaves goes on sorties after the rest."""
    from sitroom.forces.planner.bounds import time_indexed_bound
    from sitroom.forces.planner.common import Capacity
    from sitroom.forces.planner.generate import _with_hours
    from sitroom.forces.planner.loads import groups_of
    from sitroom.forces.planner.schedule import unit_ready
    from sitroom.forces.planner.timeindexed import PLAN_BUCKETS, TimeIndexed, time_indexed_loads

    base = small_problem()
    problem = replace(base, airfields=(APOES[0], _with_hours(APOES[1], time(7, 0), time(23, 0))))
    groups = groups_of(problem)
    bound = time_indexed_bound(problem, groups, 0, 5000)
    made = time_indexed_loads(problem, groups, bound, 5000, time_limit=30)
    assert made is not None
    loads, method = made
    assert method.startswith("time-indexed MIP (deadline ")
    deadline = int(method.split("deadline ")[1].split(" ")[0])
    assert deadline >= bound
    d = TimeIndexed(problem, groups, 5000, PLAN_BUCKETS).d  # buckets sized for `upper`
    ready = unit_ready(problem)
    types = {k.code: k for k in problem.aircraft}
    carried = sorted(v.id for ld in loads for v in ld.vehicles)
    assert carried == sorted(v.id for u in problem.units for v in u.vehicles)
    people: dict[str, int] = {}
    for ld in loads:
        cap = Capacity.of(types[ld.aircraft_type], problem)
        for u, n in ld.by_unit.items():
            people[u] = people.get(u, 0) + n
        assert ld.personnel == sum(ld.by_unit.values())
        assert ld.weight == sum(v.weight_kg for v in ld.vehicles) + ld.personnel * 100
        assert ld.weight <= cap.weight and ld.floor <= cap.floor
        assert ld.personnel + ld.seats_lost <= cap.seats
        assert all(ld.aircraft_type in g.compat[v.id]
                   for g in groups for v in ld.vehicles if v.id in g.compat)
        if ld.hint is not None and ld.hint < deadline:  # a timetable sortie
            assert all(ready[u] <= ld.hint + d - 1 for u in ld.units), ld
    assert people == {u.id: u.personnel for u in problem.units}


def test_cp_sat_fills_two_timetable_sorties_that_largest_first_leaves_a_vehicle_over():
    """Two Il-76 sorties of the timetable (20.3 m of floor each, with the lashing gap) and
    six vehicles: two take 8.12 m, four 6.09 m. Largest first puts the two long ones
    together and leaves one short one for an extra sortie after the timetable's; CP-SAT
    pairs one long with two short on each sortie and nothing is left over. Every vehicle
    and person is carried once, within each sortie's load, floor and seats."""
    from sitroom.forces.planner.common import Capacity
    from sitroom.forces.planner.loads import groups_of
    from sitroom.forces.planner.timeindexed import PLAN_BUCKETS, TimeIndexed, _realize_timetable

    def truck(n, length):
        return Vehicle(f"RU-1-V{n}", "RU-1", "truck", 5000, length, 2.5, 2.4)

    vehicles = (truck(1, 7.82), truck(2, 7.82), *(truck(n, 5.79) for n in range(3, 7)))
    problem = Problem(
        start=START,
        units=(Unit("RU-1", "RU unit 1", "RU", 12, vehicles, "UAAA", "UUBI"),),
        sites=(Site("S1", "CHP-1", "RU-1", START + timedelta(hours=2), travel_min=60),),
        aircraft=AIRCRAFT,
        fleet=(Fleet("IL76MD", 2),),
        airfields=APOES,
        destinations=HOMES,
    )
    groups = groups_of(problem)
    model = TimeIndexed(problem, groups, 3000, PLAN_BUCKETS)
    route = next(rt for rt in model.routes if rt.code == "IL76MD")
    bucket = -(-route.first // model.d) * model.d
    model.solution = [(route, bucket, 2)]
    cap = Capacity.of(next(k for k in AIRCRAFT if k.code == "IL76MD"), problem)
    assert cap.floor == 2030 and [cap.floor_of(v) for v in vehicles[:3]] == [812, 812, 609]
    deadline = 3000

    def extras(loads):
        return [ld for ld in loads if ld.hint == deadline]

    largest_first = _realize_timetable(problem, groups, model, deadline, time_limit=0)
    assert [len(ld.vehicles) for ld in extras(largest_first)] == [1]
    filled = _realize_timetable(problem, groups, model, deadline, time_limit=10)
    assert extras(filled) == []
    assert len(filled) == 2 and all(ld.hint == bucket for ld in filled)
    assert sorted(v.id for ld in filled for v in ld.vehicles) == sorted(v.id for v in vehicles)
    assert sum(ld.personnel for ld in filled) == 12
    for ld in filled:
        assert sorted(cap.floor_of(v) for v in ld.vehicles) == [609, 609, 812]
        assert ld.weight == 15000 + 100 * ld.personnel <= cap.weight
        assert ld.personnel == ld.by_unit.get("RU-1", 0)
        assert ld.personnel + ld.seats_lost <= cap.seats


@pytest.mark.parametrize("convoy", [False, True])
def test_refilling_the_scheduled_sorties_drops_the_late_one_and_waits_for_every_unit(convoy):
    """A plan whose last sortie carries only what fits an earlier sortie of the same route:
    refilled at their times (refill.py), everyone flies on the earlier sortie and the late
    one is gone, so the closure moves to the earlier landing; nobody boards a sortie that
    starts before their unit is ready, and no sortie goes over its load, floor or seats.
    The same when a unit's road convoy, which the refill leaves as it is, arrives after
    every sortie has landed (then the convoy is the closure)."""
    from sitroom.forces.planner.common import Capacity
    from sitroom.forces.planner.loads import Load, _add_vehicle
    from sitroom.forces.planner.refill import refill
    from sitroom.forces.planner.schedule import Schedule, slots_of, unit_ready

    def bmd(uid, n):
        return Vehicle(f"{uid}-V{n}", uid, "BMD-2", 8000, 5.4, 2.6, 2.0)

    units = (
        Unit("RU-1", "RU unit 1", "RU", 40, (bmd("RU-1", 1), bmd("RU-1", 2)), "UAAA", "UUBI"),
        Unit("RU-2", "RU unit 2", "RU", 10, (bmd("RU-2", 1),), "UAAA", "UUBI"),
    )
    if convoy:
        units += (Unit("KG-1", "KG unit 1", "KG", 60, (), "UAAA", "UCFM",
                       road_allowed=True, road_min=3000),)
    sites = (
        Site("S1", "CHP-1", "RU-1", START, travel_min=30),
        Site("S2", "CHP-2", "RU-2", START + timedelta(hours=5), travel_min=30),
    )
    problem = Problem(start=START, units=units, sites=sites, aircraft=AIRCRAFT,
                      fleet=(Fleet("IL76MD", 3),), airfields=APOES, destinations=HOMES)
    ready = unit_ready(problem)
    assert ready["RU-1"] < ready["RU-2"]
    cap = Capacity.of(next(k for k in AIRCRAFT if k.code == "IL76MD"), problem)
    key = ("UAAA", "UUBI", "")

    def load(vehicles, people):
        ld = Load("IL76MD", "UAAA", "UUBI", key)
        for v in vehicles:
            _add_vehicle(ld, v, cap)
        ld.by_unit = dict(people)
        ld.personnel = sum(people.values())
        ld.weight += ld.personnel * problem.person_kg
        return ld

    r1, r2 = units[0].vehicles, units[1].vehicles
    loads = [
        load([r1[0]], {"RU-1": 20}),  # when RU-1 is ready
        load([r1[1], r2[0]], {"RU-1": 20}),  # when RU-2 is ready
        load([], {"RU-2": 10}),  # an hour later: what it carries fits the one before
    ]
    starts = [ready["RU-1"], ready["RU-2"], ready["RU-2"] + 60]
    slots = slots_of(problem, loads)
    before = max(st + s.landing_offset for s, st in zip(slots, starts, strict=True))
    road = {"KG-1": 0} if convoy else {}
    arrival = 3000 if convoy else 0
    sched = Schedule(list(starts), [0, 1, 2], road, max(before, arrival))

    got = refill(problem, slots, sched, time_limit=10, workers=1)
    assert got is not None
    new_loads, new_slots, new_sched = got
    landed = ready["RU-2"] + new_slots[0].landing_offset
    assert landed < before and new_sched.closure == max(landed, arrival)
    assert len(new_loads) < len(loads) and set(new_sched.starts) <= set(starts[:2])
    aboard_v = sorted(v.id for ld in new_loads for v in ld.vehicles)
    assert aboard_v == sorted(v.id for u in units for v in u.vehicles)
    people: dict[str, int] = {}
    for ld, st in zip(new_loads, new_sched.starts, strict=True):
        for u, n in ld.by_unit.items():
            people[u] = people.get(u, 0) + n
        assert all(ready[u] <= st for u in ld.units), (ld.units, st)
        assert ld.weight == sum(v.weight_kg for v in ld.vehicles) + ld.personnel * 100
        assert ld.weight <= cap.weight and ld.floor <= cap.floor
        assert ld.personnel + ld.seats_lost <= cap.seats
    assert people == {"RU-1": 40, "RU-2": 10}
    # a plan with nothing to gain is left as it is
    assert refill(problem, new_slots, new_sched, time_limit=10, workers=1) is None
