"""Plans: run the planner on the stored force through the API, approve it; a plan that
would leave a site unguarded is refused with the site and the time named."""

import json
from datetime import datetime

from sitroom.forces import services
from sitroom.forces.models import WithdrawalPlan
from sitroom.testing.api import call
from sitroom.testing.world import SYSTEM


def test_plan_from_the_api_then_approve(force, token_for):
    duty, director = token_for("duty"), token_for("director")
    r = call(duty, "post", "/api/v1/forces/plans",
             {"start": "2022-01-13T00:00:00+06:00", "time_limit_s": 10})
    assert r.status_code == 201, r.content
    plan = r.json()
    assert plan["status"] == "draft" and plan["gaps"] == []
    assert plan["solver_status"] in ("optimal", "feasible", "stopped")
    assert call(duty, "post", f"/api/v1/forces/plans/{plan['id']}/approve").status_code == 403
    assert call(token_for("outsider"), "get",
                f"/api/v1/forces/plans/{plan['id']}").status_code == 404
    r = call(director, "post", f"/api/v1/forces/plans/{plan['id']}/approve")
    assert r.status_code == 200 and r.json()["status"] == "approved"


def test_plan_leaving_a_site_unguarded_is_refused(force, token_for):
    from sitroom.forces.planning import problem_from_db

    problem = problem_from_db(start=datetime.fromisoformat("2022-01-13T00:00:00+06:00"))
    site = problem.sites[0]
    plan = {"status": "feasible", "start": problem.start.isoformat(), "sorties": [],
            "road_moves": [{"unit": "KG-1", "depart": "2022-01-14T12:00:00+06:00",
                            "arrive": "2022-01-14T17:00:00+06:00"}],
            "handovers": [{"site": site.id, "unit": "KG-1",
                           "relief_start": "2022-01-14T06:00:00+06:00",
                           "guard_end": "2022-01-14T06:30:00+06:00",
                           "unit_release": "2022-01-14T06:30:00+06:00"}]}
    row = services.save_plan(plan, SYSTEM, problem=problem)
    r = call(token_for("director"), "post", f"/api/v1/forces/plans/{row.pk}/approve")
    assert r.status_code == 422
    body = json.dumps(r.json(), ensure_ascii=False)
    assert "CHP-2" in body and "06:30" in body and "30 min short" in body
    assert WithdrawalPlan.objects.get(pk=row.pk).status == "draft"


def test_board_shows_deviations_of_what_flew_from_the_approved_plan(force, token_for):
    """A sortie flown late with fewer people than planned, a planned sortie not flown,
    and a flight not in the plan: each shows on the board, named by sortie."""
    from datetime import timedelta

    from sitroom.forces import queries
    from sitroom.forces.planner import solve
    from sitroom.forces.planning import problem_from_db

    problem = problem_from_db(start=datetime.fromisoformat("2022-01-13T00:00:00+06:00"))
    plan = solve(problem, time_limit_s=10)
    sorties = plan.to_json()["sorties"] if isinstance(plan.to_json(), dict) else json.loads(
        plan.to_json())["sorties"]
    assert len(sorties) >= 3, "the test needs a plan with three sorties or more"
    row = services.save_plan(plan, SYSTEM, problem=problem)
    services.approve_plan(row.pk, actor=SYSTEM, source="cli")
    first, second = sorties[0], sorties[1]
    planned = datetime.fromisoformat(first["depart"])
    load = first["units"][0]
    services.record_movement({
        "kind": "flight", "plan": row.pk, "sortie": first["id"],
        "aircraft_type": first["aircraft_type"], "origin": "UAAA", "destination": "UCFM",
        "actual_departure": (planned + timedelta(hours=2)).isoformat(),
        "manifest": [{"unit": load["unit"], "personnel": max(0, load["personnel"] - 1)}]},
        actor=SYSTEM, source="cli")
    services.record_movement({
        "kind": "flight", "aircraft_type": "IL76MD", "origin": "UAAA", "destination": "UCFM",
        "actual_departure": (planned + timedelta(hours=1)).isoformat(),
        "manifest": [{"unit": "KG-1", "personnel": 1}]}, actor=SYSTEM, source="cli")
    third = sorties[2]  # flown as planned: no deviation
    services.record_movement({
        "kind": "flight", "plan": row.pk, "sortie": third["id"],
        "aircraft_type": third["aircraft_type"], "origin": "UAAA", "destination": "UCFM",
        "actual_departure": third["depart"],
        "manifest": [{"unit": u["unit"], "personnel": u["personnel"],
                      "vehicles": {"KamAZ": len(u["vehicles"])} if u["vehicles"] else {}}
                     for u in third["units"]]}, actor=SYSTEM, source="cli")
    # the board now (the plan and the flights were recorded today, for January 2022)
    found = {(d["kind"], d["sortie"]) for d in queries.board(
        force.users["director"])["deviations"]}
    assert ("late", first["id"]) in found
    assert ("manifest", first["id"]) in found
    assert ("missing", second["id"]) in found
    assert ("extra", None) in found
    assert not any(sortie == third["id"] for _kind, sortie in found)
