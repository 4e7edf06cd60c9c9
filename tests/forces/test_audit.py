"""What the force audit found, each tried with the right and the wrong user: a plan is
approved against the force as it is now, a scoped officer records only the units in scope
and learns nothing of others, a scoped reader's board shows no whole-force plan, a unit
never leaves more than it has in country, and the API refuses fields it does not take."""

import json
from datetime import datetime, timedelta

import pytest

from sitroom.accounts.services import create_user
from sitroom.core.services import save_place
from sitroom.forces import queries, services
from sitroom.forces.models import Movement, WithdrawalPlan
from sitroom.testing.api import call, token
from sitroom.testing.world import PASSWORD, SYSTEM

T = datetime.fromisoformat
MOVES = "/api/v1/forces/movements"


def _fields(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json().get("errors", [])}


# --- 1. approval checks the plan against the force as it is now -------------------------

def test_a_plan_is_approved_only_against_the_reliefs_as_they_are_now(director, client):
    plan = WithdrawalPlan.objects.get(status="draft")
    secret = token(director)
    before = call(secret, "get", f"/api/v1/forces/plans/{plan.pk}").json()
    assert before["gaps"] == [] and before["gaps_changed"] is False
    # the Kazakhstan TV relief is moved later after the plan was computed
    r = call(secret, "patch", "/api/v1/forces/reliefs/R-KAZTV",
             {"start": "2022-01-14T20:00:00+06:00"})
    assert r.status_code == 200, r.content
    after = call(secret, "get", f"/api/v1/forces/plans/{plan.pk}").json()
    assert after["gaps"], "the plan's detail must show the gap against the force now"
    assert after["gaps_changed"] is True and after["gaps_when_planned"] == []
    [gap] = [g for g in after["gaps"] if g["relief_start"]
             and T(g["relief_start"]) == T("2022-01-14T20:00:00+06:00")]
    assert gap["kind"] == "overlap"
    site = gap["site"]
    r = call(secret, "post", f"/api/v1/forces/plans/{plan.pk}/approve")
    assert r.status_code == 422, r.content
    body = json.dumps(r.json(), ensure_ascii=False)
    assert site in body and "14 Jan 20:00" in body
    assert WithdrawalPlan.objects.get(pk=plan.pk).status == "draft"
    # the web: the plan's page shows the gap, and approving there is refused too
    client.force_login(director)
    page = client.get(f"/forces/plan/?plan={plan.pk}").content.decode()
    assert site in page and "14 Jan 20:00" in page and 'id="plan-gaps-changed"' in page
    r = client.post(f"/forces/plan/{plan.pk}/approve/")
    assert r.status_code == 422 and site in r.content.decode()
    assert WithdrawalPlan.objects.get(pk=plan.pk).status == "draft"
    # in Russian the gap names the site in Russian, not as the plan's problem was written
    client.cookies["django_language"] = "ru"
    page = client.get(f"/forces/plan/?plan={plan.pk}").content.decode()
    assert "Телеканал «Казахстан», Алматинский филиал" in page
    assert "Kazakhstan TV, Almaty branch" not in page


# --- 2. a scoped officer records only the units in scope ---------------------------------

@pytest.fixture
def mangystau(force):
    """`force` plus a Belarusian unit in Mangystau and a duty officer scoped to it."""
    save_place({"code": "AKTAU-SITE", "kind": "industrial", "name": "Aktau depot",
                "lat": 43.65, "lon": 51.17, "area": "KZ-MAN"}, actor=SYSTEM, source="cli")
    services.save_contingent({"code": "BY", "state": "BY", "name": "Belarusian contingent",
                              "area": "KZ-MAN"}, actor=SYSTEM, source="cli")
    services.save_unit({"code": "BY-1", "contingent": "BY", "name": "Belarusian unit",
                        "personnel": 50, "arrived_at": "2022-01-08T14:00:00+06:00",
                        "departure_airfield": "UAAA", "home_airfield": "UCFM"},
                       actor=SYSTEM, source="cli")
    user = create_user("duty_man", role="duty_officer", password=PASSWORD, areas=["KZ-MAN"],
                       actor=SYSTEM, source="cli")
    force.users["duty_man"] = user
    return force


def _convoy(unit: str, **item) -> dict:
    return {"kind": "road", "origin_place": "AKTAU-SITE",
            "actual_departure": "2022-01-14T10:00:00+06:00",
            "manifest": [{"unit": unit} | item]}


def test_a_scoped_officer_cannot_move_a_unit_out_of_scope(mangystau):
    secret = token(mangystau.users["duty_man"])
    r = call(secret, "post", MOVES, _convoy("KG-1", personnel=7))
    assert r.status_code == 422, r.content
    assert _fields(r) == {"manifest[0].unit": "no unit with code 'KG-1'"}
    assert not Movement.objects.exists()
    kg = next(row for row in queries.board(mangystau.users["director"])["contingents"]
              if row["contingent"].code == "KG")
    assert kg["personnel"] == 150


def test_an_out_of_scope_unit_reads_as_missing_and_its_strength_is_not_told(mangystau):
    secret = token(mangystau.users["duty_man"])
    hidden = call(secret, "post", MOVES, _convoy("KG-1", personnel=9999,
                                                 vehicles={"KamAZ": 999}))
    missing = call(secret, "post", MOVES, _convoy("NO-SUCH", personnel=9999,
                                                  vehicles={"KamAZ": 999}))
    assert hidden.status_code == missing.status_code == 422
    assert _fields(hidden) == {"manifest[0].unit": "no unit with code 'KG-1'"}
    assert _fields(missing) == {"manifest[0].unit": "no unit with code 'NO-SUCH'"}
    body = hidden.content.decode()
    assert "150" not in body and "KamAZ" not in body and " 8" not in body


def test_officers_still_record_the_units_they_see(mangystau, token_for):
    r = call(token(mangystau.users["duty_man"]), "post", MOVES, _convoy("BY-1", personnel=50))
    assert r.status_code == 201, r.content
    r = call(token_for("duty"), "post", MOVES, {
        "kind": "road", "origin_place": "CHP2", "actual_departure": "2022-01-14T10:00:00+06:00",
        "manifest": [{"unit": "KG-1", "personnel": 7}]})
    assert r.status_code == 201, r.content


# --- 3. a scoped reader's board: no whole-force plan, no other units' sorties --------------

def _sortie(sid: str, unit: str, people: int, depart: str) -> dict:
    at = T(depart)
    return {"id": sid, "aircraft_type": "IL76MD", "airframe": 0, "origin": "UAAA",
            "destination": "UCFM", "boarding": (at - timedelta(hours=1)).isoformat(),
            "depart": at.isoformat(), "arrive": (at + timedelta(hours=2)).isoformat(),
            "available": (at + timedelta(hours=4)).isoformat(),
            "units": [{"unit": unit, "personnel": people, "vehicles": []}],
            "weight_kg": 100 * people, "seats_used": people}


@pytest.fixture
def approved(mangystau):
    """An approved plan flying KG-1 (Almaty) in S1 and BY-1 (Mangystau) in S2; neither
    flown, so both are missing."""
    from sitroom.forces.planning import problem_from_db

    problem = problem_from_db(start=T("2022-01-13T00:00:00+06:00"))
    [site] = problem.sites
    plan = {"status": "feasible", "start": problem.start.isoformat(),
            "sorties": [_sortie("S1", "KG-1", 150, "2022-01-14T09:00:00+06:00"),
                        _sortie("S2", "BY-1", 50, "2022-01-14T10:00:00+06:00")],
            "handovers": [{"site": site.id, "unit": "KG-1",
                           "relief_start": "2022-01-14T06:00:00+06:00",
                           "guard_end": "2022-01-14T07:00:00+06:00",
                           "unit_release": "2022-01-14T07:00:00+06:00"}]}
    row = services.save_plan(plan, SYSTEM, problem=problem)
    services.approve_plan(row.pk, SYSTEM)
    return mangystau, row


def test_a_scoped_reader_sees_no_plan_and_only_its_units_deviations(approved, token_for):
    world, row = approved
    everything = call(token_for("director"), "get", "/api/v1/forces/board").json()
    assert everything["plan"] == row.pk and everything["plan_approved"] is True
    assert {d["sortie"] for d in everything["deviations"]} == {"S1", "S2"}
    scoped = call(token_for("reporter"), "get", "/api/v1/forces/board").json()
    assert scoped["plan"] is None and scoped["plan_approved"] is True
    assert {d["sortie"] for d in scoped["deviations"]} == {"S1"}


def test_the_scoped_board_page_links_to_no_page_the_reader_cannot_open(approved, client):
    world, row = approved
    client.force_login(world.users["reporter"])
    page = client.get("/forces/").content.decode()
    assert "/forces/plan/" not in page
    assert "a withdrawal plan is approved" in page
    assert "S1" in page and "S2" not in page
    client.force_login(world.users["director"])
    page = client.get("/forces/").content.decode()
    assert f"/forces/plan/?plan={row.pk}" in page and "S2" in page


# --- 4. a unit leaves no more than it has in country ---------------------------------------

def _flight(key: str, at: str, people: int, **vehicles) -> dict:
    return {"key": key, "kind": "flight", "aircraft_type": "IL76MD", "origin": "UAAA",
            "destination": "UCFM", "actual_departure": at,
            "manifest": [{"unit": "KG-1", "personnel": people, "vehicles": vehicles}]}


def test_a_movement_carries_no_more_than_is_left_in_country(force, token_for):
    duty = token_for("duty")
    assert call(duty, "post", MOVES, _flight("M1", "2022-01-14T10:00:00+06:00", 100,
                                             KamAZ=5)).status_code == 201
    r = call(duty, "post", MOVES, _flight("M2", "2022-01-14T12:00:00+06:00", 60, KamAZ=4))
    assert r.status_code == 422, r.content
    assert _fields(r) == {
        "manifest[0].personnel": "KG-1 has 50 people left in country at 14 Jan 12:00; "
                                 "the manifest says 60",
        "manifest[0].vehicles.KamAZ": "KG-1 has 3 KamAZ left in country at 14 Jan 12:00; "
                                      "the manifest says 4"}
    assert not Movement.objects.filter(uid="M2").exists()
    # correcting the first flight does not count it twice
    r = call(duty, "patch", f"{MOVES}/M1", {"manifest": [{"unit": "KG-1", "personnel": 120,
                                                         "vehicles": {"KamAZ": 8}}]})
    assert r.status_code == 200, r.content
    r = call(duty, "post", MOVES, _flight("M2", "2022-01-14T12:00:00+06:00", 31))
    assert _fields(r) == {"manifest[0].personnel": "KG-1 has 30 people left in country at "
                                                   "14 Jan 12:00; the manifest says 31"}
    assert call(duty, "post", MOVES, _flight("M2", "2022-01-14T12:00:00+06:00",
                                             30)).status_code == 201


def test_nobody_leaves_before_the_unit_arrived(force, token_for):
    r = call(token_for("duty"), "post", MOVES, _flight("M0", "2022-01-07T10:00:00+06:00", 1))
    assert _fields(r) == {"manifest[0].personnel": "KG-1 has 0 people left in country at "
                                                   "7 Jan 10:00; the manifest says 1"}


def test_the_left_in_country_check_speaks_russian(force, token_for):
    duty = token_for("duty")
    call(duty, "post", MOVES, _flight("M1", "2022-01-14T10:00:00+06:00", 150))
    r = call(duty, "post", MOVES, _flight("M2", "2022-01-14T12:00:00+06:00", 1),
             accept_language="ru")
    [message] = _fields(r).values()
    assert "KG-1" in message and "осталось" in message


# --- 5. the API refuses what it does not take ----------------------------------------------

def test_a_misspelt_field_is_refused_not_ignored(force, token_for):
    duty = token_for("duty")
    assert call(duty, "post", MOVES, {
        "key": "PLANNED-X", "kind": "road", "origin_place": "CHP2",
        "planned_departure": "2022-01-14T10:00:00+06:00",
        "manifest": [{"unit": "KG-1", "personnel": 10}]}).status_code == 201
    r = call(duty, "patch", f"{MOVES}/PLANNED-X",
             {"actual_departur": "2022-01-14T10:05:00+06:00"})
    assert r.status_code == 422
    assert _fields(r) == {"actual_departur": "is not a field this request takes"}
    r = call(duty, "patch", f"{MOVES}/PLANNED-X",
             {"manifest": [{"unit": "KG-1", "personnel": 10, "vehicle": {"KamAZ": 1}}]})
    assert r.status_code == 422
    assert _fields(r) == {"manifest.0.vehicle": "is not a field this request takes"}
    r = call(duty, "post", "/api/v1/forces/guard-posts", {"unit": "KG-1", "plase": "CHP2"})
    assert r.status_code == 422 and "plase" in _fields(r)
    assert Movement.objects.get(uid="PLANNED-X").actual_departure is None


def test_a_sortie_must_be_one_of_the_plan(approved, token_for):
    world, row = approved
    duty = token_for("duty")
    flight = _flight("F1", "2022-01-14T08:00:00+06:00", 150)
    r = call(duty, "post", MOVES, flight | {"sortie": "S999"})
    assert r.status_code == 422
    assert _fields(r) == {"sortie": f"the approved plan ({row.pk}) has no sortie 'S999'"}
    r = call(duty, "post", MOVES, flight | {"sortie": "S999", "plan": row.pk})
    assert _fields(r) == {"sortie": f"plan {row.pk} has no sortie 'S999'"}
    r = call(duty, "post", MOVES, flight | {"sortie": "S1"})
    assert r.status_code == 201, r.content
    assert r.json()["plan"] == row.pk and r.json()["sortie"] == "S1"


def test_a_sortie_with_no_plan_approved_is_refused(force, token_for):
    r = call(token_for("duty"), "post", MOVES,
             _flight("F1", "2022-01-14T08:00:00+06:00", 1) | {"sortie": "S1"})
    assert r.status_code == 422
    assert _fields(r) == {"sortie": "no plan is approved: name the plan of sortie 'S1'"}


def test_a_planned_movement_that_would_leave_a_site_unguarded_is_shown(force, token_for):
    """Only actual departures were checked: a planned flight of a unit still guarding its
    site showed no problem until it flew."""
    duty = token_for("duty")
    plan = _flight("P1", "", 100)
    plan.pop("actual_departure")
    plan["planned_departure"] = "2022-01-14T10:00:00+06:00"
    assert call(duty, "post", MOVES, plan).status_code == 201
    gaps = call(duty, "get", "/api/v1/forces/gaps").json()
    [gap] = [g for g in gaps if g["unit_id"] == "KG-1"]
    assert gap["planned"] is True and gap["kind"] == "boarding"
    assert gap["message"].startswith("Planned movement: CHP-2: Kyrgyz unit boards at 14 Jan")
    # once it flies, the gap is the actual one
    r = call(duty, "patch", f"{MOVES}/P1", {"actual_departure": "2022-01-14T11:00:00+06:00"})
    assert r.status_code == 200, r.content
    [gap] = [g for g in call(duty, "get", "/api/v1/forces/gaps").json()
             if g["unit_id"] == "KG-1"]
    assert gap["planned"] is False and "11:00" in gap["message"]


def test_a_deviation_names_the_movement_by_its_call_sign(approved, client, token_for):
    """The deviations table showed the movement's internal key ('bf34fa1596bc44bf')."""
    world, _row = approved
    flight = _flight("", "2022-01-14T11:00:00+06:00", 10)
    flight.pop("key")
    flight["label"] = "RFF-7031"
    r = call(token_for("duty"), "post", MOVES, flight)
    assert r.status_code == 201, r.content
    client.force_login(world.users["director"])
    page = client.get("/forces/").content.decode()
    table = page[page.index('id="force-deviations"'):].split("</table>")[0]
    assert "RFF-7031" in table and r.json()["key"] not in table


def test_the_web_records_a_flight_of_the_approved_plan_by_its_sortie(approved, client):
    """The movement form had no sortie: every flight recorded in the browser was 'not in
    the plan' and every sortie 'not flown'. Naming the sortie links it and fills the rest
    from the plan: the officer types only what happened."""
    world, row = approved
    client.force_login(world.users["duty"])
    form = client.get("/forces/movements/new/").content.decode()
    assert 'name="sortie"' in form and "S1 · IL76MD · UAAA→UCFM" in form
    r = client.post("/forces/movements/new/", {"sortie": "S1", "kind": "flight",
                                               "label": "RFF-1",
                                               "actual_departure": "2022-01-14T09:20"})
    assert r.status_code == 302, r.content.decode()[:2000]
    move = Movement.objects.get(label="RFF-1")
    assert (move.plan_id, move.sortie, move.aircraft_type.code, move.origin.code) == (
        row.pk, "S1", "IL76MD", "UAAA")
    assert move.manifest == [{"unit": "KG-1", "personnel": 150, "vehicles": {}}]
    kinds = {(d["kind"], d["sortie"]) for d in queries.deviations(row, [move],
                                                                  T("2022-01-15T00:00+06:00"))}
    assert ("missing", "S1") not in kinds and ("extra", None) not in kinds


def test_the_movement_form_names_each_vehicle_problem_and_lists_the_kinds(force, client):
    """'unit RU-HQ has no BMD-2 must be 0 to 6': two problems run together, the second
    not saying which vehicle; and the kinds had to be typed from memory."""
    client.force_login(force.users["duty"])
    page = client.get("/forces/movements/new/").content.decode()
    assert "KamAZ=8" in page[page.index('id="unit-vehicles"'):]
    r = client.post("/forces/movements/new/", {
        "kind": "flight", "aircraft_type": "IL76MD", "origin": "UAAA", "destination": "UCFM",
        "actual_departure": "2022-01-14T10:00", "unit_1": "KG-1", "personnel_1": "10",
        "vehicles_1": "BMD-2=1; KamAZ=20"})
    assert r.status_code == 200
    error = r.content.decode().split('data-field="vehicles_1">')[1].split("</span>")[0]
    problems = error.split("; ")
    assert len(problems) == 2 and any("BMD-2" in p for p in problems)
    assert any(p.startswith("KamAZ") or "KamAZ" in p for p in problems if "BMD-2" not in p)
