"""What an integrator or a hurried user must not be able to do to the incident log without
being told: lose a report under someone else's id, reuse a retry key for another report,
change a status through a field the API ignored, keep a verification the facts no longer
match, file a point under an area it is not in."""

import json
from datetime import datetime

import pytest
from django.core.management import call_command
from django.utils import translation

from sitroom.core.actors import Actor
from sitroom.core.errors import InvalidInput
from sitroom.incidents import services
from sitroom.incidents.exchange import import_incidents
from sitroom.incidents.models import Incident
from sitroom.testing.api import call

from .test_exchange import row, write_csv
from .test_incidents import report

T = datetime.fromisoformat
CLI = Actor.system_actor("cli")


def _problems(result):
    return [(p.row, p.field) for p in result.problems]


def test_a_file_reusing_another_reports_id_is_refused_by_row_not_dropped(sec_world, tmp_path):
    first = write_csv(tmp_path, [row(id="1", title="Crowd at the akimat"),
                                 row(id="2", title="Shots near the airport")], name="a.csv")
    assert import_incidents(first, actor=CLI, source="import").created == 2
    other = write_csv(tmp_path, [
        row(id="1", title="Strike at the oil field", area="KZ-MAN"),  # another event
        row(id="2", title="Shots near the airport"),  # the same report again
        row(id="3", title="Road blocked at Zhanaozen", area="KZ-MAN"),
        row(id="3", title="Market closed", area="KZ-MAN"),  # the file's own id twice
    ], name="b.csv")
    result = import_incidents(other, actor=CLI, source="import")
    assert not result.written and _problems(result) == [(2, "id"), (5, "id")]
    assert "'1' is already the id of another report" in result.problems[0].problem
    assert Incident.objects.count() == 2
    kept = import_incidents(other, actor=CLI, source="import", skip_invalid=True)
    assert (kept.created, kept.existing, kept.invalid_rows) == (1, 1, 2)
    assert set(Incident.objects.values_list("title", flat=True)) == {
        "Crowd at the akimat", "Shots near the airport", "Road blocked at Zhanaozen"}


def test_a_retry_key_reused_for_another_report_is_refused(sec_world, token_for):
    t = token_for("reporter")
    body = {"type": "protests", "title": "Rally", "area": "KZ751110",
            "occurred_at": "2022-01-04T19:00:00+06:00"}
    assert call(t, "post", "/api/v1/incidents", body, **{"Idempotency-Key": "k1"}
                ).status_code == 201
    other = call(t, "post", "/api/v1/incidents", {**body, "title": "Different body"},
                 **{"Idempotency-Key": "k1"})
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert call(t, "post", "/api/v1/incidents", body, **{"Idempotency-Key": "k1"}
                ).status_code == 200  # the same report again is still the retry it was
    assert Incident.objects.count() == 1


def test_fields_the_api_does_not_take_are_refused_not_ignored(sec_world, token_for):
    inc = report(sec_world)
    t = token_for("duty")
    r = call(t, "patch", f"/api/v1/incidents/{inc.uid}", {"status": "closed"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "status"
    r = call(t, "post", "/api/v1/incidents", {"type": "riots", "title": "x", "area": "KZ751110",
                                              "reported_by": "someone else"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reported_by"
    r = call(t, "post", "/api/v1/incidents", {"type": "riots", "title": "x", "area": "KZ751110",
                                              "lat": True, "lon": False})
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"lat", "lon"}
    r = call(t, "post", "/api/v1/incidents/bulk", {"ids": ["not-a-uuid"], "action": "verify"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "ids"
    inc.refresh_from_db()
    assert inc.status == "reported" and Incident.objects.count() == 1


def test_unknown_filter_values_are_named_not_answered_with_nothing(sec_world, token_for):
    report(sec_world)
    t = token_for("duty")
    for params, field in (({"type": "nonsense"}, "type"), ({"subtype": "nonsense"}, "subtype"),
                          ({"assignee": "nobody"}, "assignee"), ({"min_severity": 9},
                                                                   "min_severity")):
        r = call(t, "get", "/api/v1/incidents", params)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, params
    assert len(call(t, "get", "/api/v1/incidents", {"type": "riots"}).json()["items"]) == 1


def test_a_reporters_change_of_facts_needs_verifying_again(sec_world):
    users = sec_world.users
    inc = report(sec_world)
    services.set_status([inc], "verified", actor=users["duty"], source="web")
    inc = services.edit_incident(inc, {"fatalities": 50}, actor=users["reporter"], source="web")
    assert inc.status == "reported" and inc.fatalities == 50
    assert inc.revisions.order_by("-number").first().status == "reported"
    services.set_status([inc], "verified", actor=users["duty"], source="web")
    inc = services.edit_incident(inc, {"injured": 3}, actor=users["duty"], source="web")
    assert inc.status == "verified"  # a manager's correction keeps the verification
    services.set_status([inc], "closed", actor=users["duty"], source="web")
    with pytest.raises(InvalidInput) as exc:
        services.edit_incident(inc, {"fatalities": 1}, actor=users["reporter"], source="web")
    assert "status" in exc.value.errors
    inc.refresh_from_db()
    assert (inc.status, inc.fatalities) == ("closed", 50)


def test_reopen_takes_a_closed_incident_to_verified_and_a_discarded_one_to_reported(
        sec_world, token_for):
    a, b, c = report(sec_world), report(sec_world, title="Second"), report(sec_world, title="3")
    duty = sec_world.users["duty"]
    services.set_status([a], "closed", actor=duty, source="web")
    services.set_status([b], "discarded", actor=duty, source="web")
    t = token_for("duty")
    r = call(t, "post", "/api/v1/incidents/bulk", {"ids": [str(a.uid), str(b.uid)],
                                                   "action": "reopen"})
    assert r.status_code == 200
    assert {i["title"]: i["status"] for i in r.json()} == {
        "Crowd storms the akimat": "verified", "Second": "reported"}
    r = call(t, "post", "/api/v1/incidents/bulk", {"ids": [str(c.uid)], "action": "reopen"})
    assert r.status_code == 422  # an open report has nothing to reopen


def test_a_point_must_lie_in_the_area_it_is_filed_under(sec_world, tmp_path, token_for):
    def square(west):
        return {"type": "Polygon", "coordinates": [[[west, 43.2], [west + 0.2, 43.2],
                                                    [west + 0.2, 43.4], [west, 43.4],
                                                    [west, 43.2]]]}

    path = tmp_path / "b.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "KZ751110"}, "geometry": square(76.8)},
        {"type": "Feature", "properties": {"code": "KZ751910"}, "geometry": square(77.0)}]}))
    call_command("import_areas", str(path), "--code-property", "code")
    assert report(sec_world, lat=43.25, lon=76.9).area.code == "KZ751110"
    with pytest.raises(InvalidInput) as exc:
        report(sec_world, lat=1.0, lon=0.0)
    assert "lies outside Almaly" in exc.value.errors["area"][0]
    inc = report(sec_world, who="duty", lat=43.3, lon=76.95)
    with pytest.raises(InvalidInput):  # moving the area away from the point
        services.edit_incident(inc, {"area": "KZ751910"}, actor=sec_world.users["duty"],
                               source="web")
    moved = services.edit_incident(inc, {"lat": 43.21}, actor=sec_world.users["duty"],
                                   source="web")  # one coordinate: the other is kept
    assert (moved.lat, moved.lon, moved.area.code) == (43.21, 76.95, "KZ751110")


def test_refusals_name_the_action_and_area_in_the_readers_language(sec_world, token_for):
    r = call(token_for("viewer"), "post", "/api/v1/incidents",
             {"type": "riots", "title": "x", "area": "KZ751110"})
    assert r.status_code == 403
    assert r.json()["detail"] == "viewer (token test) may not report incidents in Almaly"
    with translation.override("ru"):
        r = call(token_for("viewer"), "get",
                 "/api/v1/incidents/00000000-0000-0000-0000-000000000000",
                 **{"Accept-Language": "ru"})
    assert r.status_code == 404 and r.json()["title"] != "Not found"


def test_a_merged_figure_keeps_its_estimate_label_and_counts_have_a_ceiling(sec_world):
    duty = sec_world.users["duty"]
    keep = report(sec_world, who="duty")
    dup = report(sec_world, who="duty", title="Crowd at the akimat", fatalities=4,
                 estimate=True)
    keep = services.merge(keep, dup, actor=duty, source="web")
    assert (keep.fatalities, keep.estimate) == (4, True)
    with pytest.raises(InvalidInput) as exc:
        report(sec_world, fatalities=99_999_999_999)
    assert exc.value.errors["fatalities"] == ["must be at most 1,000,000"]


def test_the_country_board_lists_units_in_the_readers_alphabet(sec_world):
    from sitroom.core.services import save_area
    from sitroom.incidents.queries import country_board

    for code, name, name_ru in (("KZ-ZAP", "West Kazakhstan Region", "Западно-Казахстанская"),
                                ("KZ-SEV", "North Kazakhstan Region", "Северо-Казахстанская")):
        save_area({"code": code, "level": "region", "parent": "KZ", "name": name,
                   "name_ru": name_ru, "lat": 50.0, "lon": 60.0}, actor=CLI, source="cli")

    def order():
        return [r["area"].code for r in country_board(sec_world.users["duty"])["rows"]
                if r["area"].code in ("KZ-ZAP", "KZ-SEV")]

    assert order() == ["KZ-SEV", "KZ-ZAP"]
    with translation.override("ru"):
        assert order() == ["KZ-ZAP", "KZ-SEV"]


def test_the_pages_say_what_is_wrong_without_field_codes(sec_world, client):
    a = report(sec_world, title="Crowd at the akimat")
    duty = sec_world.users["duty"]
    services.set_status([a], "closed", actor=duty, source="web")
    client.force_login(duty)
    page = client.post("/incidents/bulk", {"ids": [str(a.uid)], "action": "discard"},
                       follow=True).content.decode()
    assert "Crowd at the akimat cannot go from Closed to Discarded" in page
    assert f"incident {a.uid}" not in page
    page = client.post("/incidents/bulk", {"action": "verify"}, follow=True).content.decode()
    assert "Select at least one incident." in page and "ids:" not in page
    with pytest.raises(InvalidInput) as exc:
        report(sec_world, type="riots", subtype="battles.armed_clash")
    assert exc.value.text() == "Armed clash is not a kind of Riots."


def test_the_report_form_asks_for_a_type_and_offers_each_types_own_subtypes(sec_world, client):
    client.force_login(sec_world.users["duty"])
    page = client.get("/incidents/new").content.decode()
    type_select = page[page.index('name="type"'):].split("</select>")[0]
    assert '<option value="" selected>' in type_select  # nothing chosen for the reporter
    riots = page[page.index('<optgroup label="Riots">'):].split("</optgroup>")[0]
    assert "riots.mob_violence" in riots and "battles." not in riots
    r = client.post("/incidents/new", {"title": "Crowd", "area": "KZ751110",
                                       "occurred_at": "2022-01-05T10:00", "severity": 2})
    assert r.status_code in (200, 422) and Incident.objects.count() == 0


def test_curfew_hours_are_hours_and_the_pages_say_how(sec_world, client):
    T0 = T("2022-01-05T12:00:00+06:00")
    with pytest.raises(InvalidInput) as exc:
        services.change_posture(area="KZ-ALA", kind="curfew", state="in_force",
                                effective_at=T0, hours="from dusk till dawn",
                                actor=sec_world.users["duty"], source="web")
    assert exc.value.errors["hours"] == ["give the hours as HH:MM-HH:MM, e.g. 23:00-07:00"]
    services.change_posture(area="KZ-ALA", kind="curfew", state="in_force", effective_at=T0,
                            hours="23:00-07:00", actor=sec_world.users["duty"], source="web")
    client.force_login(sec_world.users["duty"])
    page = client.get("/security/areas/KZ-ALA").content.decode()
    assert "23:00-07:00" in page and "<small>" in page  # the form's hint is shown


def test_an_incidents_page_reads_its_point_unambiguously_and_leads_back(sec_world, client):
    """In Russian the point read '43,35528, 77,04472': decimal commas beside the comma
    between the two."""
    inc = report(sec_world, lat=43.35528, lon=77.04472)
    client.force_login(sec_world.users["duty"])
    client.cookies["django_language"] = "ru"
    page = client.get(f"/incidents/{inc.uid}/").content.decode()
    assert '<span class="coords">43.35528, 77.04472</span>' in page
    assert 'href="/incidents/"' in page


def test_a_districts_measure_shows_on_its_citys_row_and_page(sec_world, client):
    """A counter-terrorist regime in one district of Almaty showed 'Not in force' for the
    city on the board and was missing from the city's page."""
    from sitroom.incidents.queries import country_board

    duty = sec_world.users["duty"]
    services.change_posture(area="KZ751910", kind="cto_regime", state="in_force",
                            effective_at=T("2022-01-26T13:00:00+06:00"), actor=duty,
                            source="web")
    board = country_board(duty)  # now: the change was recorded now
    [almaty] = [r for r in board["rows"] if r["area"].code == "KZ-ALA"]
    assert [(a.code, str(label)) for a, label in almaty["cells"]["cto_regime"]["within"]] == [
        ("KZ751910", "In force")]
    client.force_login(duty)
    page = client.get("/security/areas/KZ-ALA").content.decode()
    history = page[page.index('id="posture-history"'):].split("</table>")[0]
    assert "Turksib" in history
    assert 'href="/security/areas/KZ751910"' in page


def test_exports_give_an_api_report_its_own_id_not_the_retry_key(sec_world, token_for):
    """An incident reported with an Idempotency-Key was exported as 'api:<user id>:<key>':
    another user's retry key and our internal user id, and an id the API never gives."""
    from sitroom.incidents.exchange import export_chunks

    r = call(token_for("reporter"), "post", "/api/v1/incidents",
             {"type": "riots", "title": "Crowd", "area": "KZ751110",
              "occurred_at": "2022-01-05T10:00:00+06:00"}, **{"Idempotency-Key": "dev-1"})
    uid = r.json()["id"]
    for fmt in ("csv", "geojson", "kml"):
        text = "".join(c if isinstance(c, str) else c.decode()
                       for c in export_chunks(fmt, sec_world.users["duty"]))
        assert uid in text and "api:" not in text, fmt


def test_figures_and_measures_posted_with_a_retry_key_are_stored_once(sec_world, token_for):
    """The Idempotency-Key was silently ignored on casualties and posture: two identical
    posts made two figures."""
    from sitroom.core.services import save_organization
    from sitroom.incidents.models import CasualtyReport, PostureChange

    save_organization({"code": "KZ-MOH", "kind": "agency", "name": "Ministry of Health"},
                      actor=CLI, source="cli")
    t = token_for("duty")
    figure = {"area": "KZ-ALA", "reporting_body": "KZ-MOH", "category": "killed",
              "count": 12, "as_of": "2022-01-06T10:00:00+06:00"}
    codes = [call(t, "post", "/api/v1/casualties", figure, **{"Idempotency-Key": "c1"}
                  ).status_code for _ in range(2)]
    assert codes == [201, 200] and CasualtyReport.objects.count() == 1
    r = call(t, "post", "/api/v1/casualties", {**figure, "count": 13},
             **{"Idempotency-Key": "c1"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "Idempotency-Key"
    measure = {"area": "KZ-ALA", "kind": "curfew", "state": "in_force",
               "effective_at": "2022-01-05T23:00:00+06:00", "hours": "23:00-07:00"}
    codes = [call(t, "post", "/api/v1/posture", measure, **{"Idempotency-Key": "p1"}
                  ).status_code for _ in range(2)]
    assert codes == [201, 200] and PostureChange.objects.count() == 1


def test_a_file_without_ids_imported_twice_adds_nothing(sec_world, tmp_path):
    """Rows without an id were added again at every import of the same file."""
    from sitroom.incidents.exchange import export_chunks

    header = ["type", "title", "occurred_at", "area"]
    rows = [["riots", "Crowd at the akimat", "2022-01-05T10:00:00+06:00", "KZ751110"],
            ["riots", "Cars burned", "2022-01-05T11:00:00+06:00", "KZ751110"],
            ["riots", "Cars burned", "2022-01-05T11:00:00+06:00", "KZ751110"]]  # twice
    file = write_csv(tmp_path, rows, header=header, name="noid.csv")
    first = import_incidents(file, actor=CLI, source="import")
    assert (first.created, first.existing) == (2, 1)
    again = import_incidents(file, actor=CLI, source="import")
    assert (again.created, again.existing) == (0, 3)
    assert Incident.objects.count() == 2
    text = "".join(export_chunks("csv", sec_world.users["duty"]))
    assert "row:" not in text  # exported under their own ids


def test_list_items_survive_a_file_and_assignees_can_see_what_they_get(sec_world):
    """A tag 'a;b' came back from an export as two tags; an incident in Almaty could be
    assigned to an analyst who sees only Mangystau (and then never found it)."""
    with pytest.raises(InvalidInput) as exc:
        report(sec_world, tags=["a;b"])
    assert "tags" in exc.value.errors
    inc = report(sec_world)
    with pytest.raises(InvalidInput) as exc:
        services.assign([inc], "outsider", actor=sec_world.users["duty"], source="web")
    assert "outsider cannot see incidents in Almaly" in exc.value.errors["assignee"][0]
    services.assign([inc], "duty", actor=sec_world.users["duty"], source="web")
    inc.refresh_from_db()
    assert inc.assignee.username == "duty"
