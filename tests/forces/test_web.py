"""The force pages through Django's test client: who sees what, forms, the planner page."""

from datetime import datetime

import pytest

from sitroom.forces import services
from sitroom.forces.models import Movement, PlannerRun, WithdrawalPlan
from sitroom.testing.world import SYSTEM

PAGES = ["/forces/", "/forces/movements/new/", "/forces/plan/", "/forces/gantt/",
         "/forces/sites/", "/forces/sites/guard-posts/new/", "/forces/sites/reliefs/new/"]


@pytest.fixture
def as_user(client, force):
    def login(name):
        client.force_login(force.users[name])
        return client
    return login


def _flight(**extra):
    data = {"kind": "flight", "label": "RA-78000", "aircraft_type": "IL76MD",
            "origin": "UAAA", "destination": "UCFM",
            "actual_departure": "2022-01-14T12:00", "unit_1": "KG-1", "personnel_1": "50",
            "vehicles_1": "KamAZ=2"}
    return data | extra


@pytest.mark.parametrize("url", PAGES)
def test_pages_render_for_a_director(as_user, url):
    r = as_user("director").get(url)
    assert r.status_code == 200


def test_the_board_names_contingents_sites_and_totals(as_user):
    body = as_user("viewer").get("/forces/").content.decode()
    assert "Kyrgyz contingent" in body and "CHP-2" in body
    assert 'id="force-personnel">150<' in body
    assert "National Guard" in body


def test_the_outsider_sees_no_force_outside_its_scope(as_user):
    c = as_user("outsider")
    body = c.get("/forces/").content.decode()
    assert "Kyrgyz contingent" not in body and "CHP-2" not in body
    assert c.get("/forces/plan/").status_code == 404
    assert c.get("/forces/movements/new/").status_code == 403


def test_a_viewer_cannot_record_or_plan(as_user):
    c = as_user("viewer")
    assert c.post("/forces/movements/new/", _flight()).status_code == 403
    assert c.post("/forces/plan/", {"start": "2022-01-13T00:00",
                                    "time_limit": "2"}).status_code == 403
    assert not Movement.objects.filter(label="RA-78000").exists()
    assert not PlannerRun.objects.exists()


def test_the_movement_form_names_bad_fields(as_user):
    c = as_user("duty")
    r = c.post("/forces/movements/new/", _flight(aircraft_type="", vehicles_1="lots"))
    body = r.content.decode()
    assert r.status_code == 200
    assert 'data-field="vehicles_1"' in body and "is not kind=count" in body
    r = c.post("/forces/movements/new/", _flight(aircraft_type=""))
    assert 'data-field="aircraft_type"' in r.content.decode()
    r = c.post("/forces/movements/new/", _flight(personnel_1="999"))
    assert 'data-field="personnel_1"' in r.content.decode()
    r = c.post("/forces/movements/new/", _flight(vehicles_1="Tank=1"))
    assert 'data-field="vehicles_1"' in r.content.decode() and "has no Tank" in \
        r.content.decode()
    r = c.post("/forces/movements/new/", _flight(unit_1="", personnel_1="5"))
    assert 'data-field="unit_1"' in r.content.decode()
    assert not Movement.objects.exists()


def test_a_recorded_flight_lowers_the_personnel_in_country(as_user):
    c = as_user("duty")
    r = c.post("/forces/movements/new/", _flight())
    assert r.status_code == 302, r.content.decode()[:2000]
    move = Movement.objects.get(label="RA-78000")
    assert move.manifest == [{"unit": "KG-1", "personnel": 50, "vehicles": {"KamAZ": 2}}]
    body = c.get("/forces/").content.decode()
    assert 'id="force-personnel">100<' in body and 'id="force-vehicles">6<' in body
    # The guard of CHP-2 has no end yet: leaving while guarding is a gap on the board.
    assert "problems" in body and "CHP-2" in body
    past = c.get("/forces/?as_of=2022-01-14T11:00").content.decode()
    assert 'id="force-personnel">150<' in past


def test_the_planner_page_runs_and_shows_the_plan(as_user, settings):
    settings.FORCES_PLANNER_THREADS = False
    c = as_user("duty")
    r = c.post("/forces/plan/", {"start": "2022-01-13T00:00", "time_limit": "3"})
    assert r.status_code == 302
    run = PlannerRun.objects.get()
    assert run.state in ("done", "stopped") and run.plan is not None
    body = c.get(r["Location"]).content.decode()
    assert 'id="plan-ratio"' in body and "closure ÷ best bound" in body
    assert "Lower bounds on closure" in body and "Lower bounds on sorties" in body
    # A duty officer may plan but not approve.
    assert 'id="approve-plan"' not in body
    r = c.post(f"/forces/plan/{run.plan.pk}/approve/")
    assert r.status_code == 422 and "Only a director" in r.content.decode()
    director = as_user("director")
    r = director.post(f"/forces/plan/{run.plan.pk}/approve/")
    assert r.status_code == 302
    assert WithdrawalPlan.objects.get(pk=run.plan.pk).status == "approved"
    gantt = director.get("/forces/gantt/").content.decode()
    assert "Planned sorties" in gantt or "road: KG-1" in gantt


def test_the_planner_form_names_its_fields(as_user):
    r = as_user("duty").post("/forces/plan/", {"start": "", "time_limit": "0"})
    body = r.content.decode()
    assert r.status_code == 200 and body.count('role="alert"') >= 2
    assert not PlannerRun.objects.exists()


def test_approving_a_plan_with_a_gap_is_refused_naming_site_and_time(as_user):
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
    r = as_user("director").post(f"/forces/plan/{row.pk}/approve/")
    body = r.content.decode()
    assert r.status_code == 422
    assert 'id="approve-errors"' in body and "CHP-2" in body and "06:30" in body
    assert WithdrawalPlan.objects.get(pk=row.pk).status == "draft"


@pytest.mark.parametrize("lang, names", [
    ("ru", ("расписание по временной сетке", "циклы воздушных судов", "L2 (Мартелло–Тот)",
            "допустимо", "ч")),
    ("kk", ("уақыт торы бойынша кесте", "әуе кемелерінің айналымдары", "L2 (Мартелло–Тот)",
            "орындалатын", "сағ")),
])
def test_the_plan_names_its_bounds_in_the_readers_language(as_user, lang, names):
    plan = {"status": "feasible", "start": "2022-01-13T05:00:00+06:00", "sorties": [],
            "closure_min": 2071, "ratio": 1.129,
            "closure_bounds": {"fleet-cycle": 1636, "time-indexed": 1834},
            "closure_bound_name": "time-indexed", "sortie_ratio": 1.643,
            "sortie_bounds": {"L2": 42, "pattern LP": 42}, "sortie_bound_name": "L2"}
    row = services.save_plan(plan, SYSTEM)
    c = as_user("director")
    c.cookies["django_language"] = lang
    body = c.get(f"/forces/plan/?plan={row.pk}").content.decode()
    bounds = body[body.index('id="closure-bounds"'):body.index('id="sortie-bounds"')]
    assert names[0] in bounds and names[1] in bounds and "time-indexed" not in bounds
    caption = body[body.index('id="plan-ratio"'):body.index('id="plan-sorties"')]
    assert names[0] in caption  # the binding bound named under the ratio
    assert names[2] in body[body.index('id="sortie-bounds"'):]
    # the solver's status and the hours too, on the plan and in the list of plans
    head = body[body.index('id="plan-closure"') - 400:body.index('id="plan-closure"')]
    assert f": {names[3]})" in head and "feasible" not in head
    assert f'<th class="num">{names[4]}</th>' in bounds
    assert f'<span class="sub">{names[3]}</span>' in body  # the row in the recent plans


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_a_runs_progress_speaks_the_readers_language(as_user, lang):
    from datetime import datetime

    start = datetime.fromisoformat("2022-01-13T05:00:00+06:00")
    run = PlannerRun.objects.create(created_at=start, created_by="duty", state="done",
                                    start=start, time_limit_s=20, elapsed_s=19.6,
                                    best_closure_min=2071, best_bound_min=1834)
    c = as_user("director")
    c.cookies["django_language"] = lang
    body = c.get(f"/forces/plan/runs/{run.pk}/").content.decode()
    progress = body[body.index('id="run-elapsed"'):body.index('id="run-bound"') + 40]
    # seconds and minutes in the reader's words; the closure as a moment, 2071 min after
    # 05:00 on 13 January (Almaty, +06:00 then) is 15:31 on the 14th
    assert "/ 20 с" in progress and "1834 мин" in progress and "(2071 мин)" in progress
    assert "15:31" in progress and " min" not in progress and " s<" not in progress


def test_the_flight_form_names_aircraft_in_the_readers_language(as_user, client, token_for):
    """Aircraft types were named in English on Russian and Kazakh pages."""
    from sitroom.testing.api import call

    page = as_user("duty")
    client.cookies["django_language"] = "ru"
    body = page.get("/forces/movements/new/").content.decode()
    assert '<option value="IL76MD">Ильюшин Ил-76МД</option>' in body
    assert "Ilyushin" not in body
    client.cookies["django_language"] = "kk"
    assert '<option value="AN124">Антонов Ан-124 «Руслан»</option>' in \
        page.get("/forces/movements/new/").content.decode()
    client.cookies["django_language"] = "en"
    assert '<option value="IL76MD">Ilyushin Il-76MD</option>' in \
        page.get("/forces/movements/new/").content.decode()
    # the API gives all three, and takes them
    body = call(token_for("director"), "get", "/api/v1/forces/aircraft-types").json()
    il76 = next(t for t in body if t["code"] == "IL76MD")
    assert (il76["name"], il76["name_ru"], il76["name_kk"]) == (
        "Ilyushin Il-76MD", "Ильюшин Ил-76МД", "Ильюшин Ил-76МД")
