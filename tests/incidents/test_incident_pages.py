"""Incident pages: list filters, report form, detail history, bulk actions, merge, board."""

from datetime import datetime

from sitroom.incidents import services
from sitroom.incidents.models import Incident

T = datetime.fromisoformat


def report(world, title, area="KZ751110", who="duty", **kw):
    kw.setdefault("type", "riots")
    kw.setdefault("occurred_at", T("2022-01-05T10:00:00+06:00"))
    return services.report_incident(actor=world.users[who], source="web", title=title,
                                    area=area, **kw)[0]


def test_list_filters_by_type_and_text(client, sec_world):
    report(sec_world, "Akimat stormed")
    report(sec_world, "Peaceful rally", type="protests")
    client.force_login(sec_world.users["viewer"])
    html = client.get("/incidents/", {"type": "protests"}).content.decode()
    assert "Peaceful rally" in html and "Akimat stormed" not in html
    html = client.get("/incidents/", {"q": "akimat"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Akimat stormed" in html and "<html" not in html


def test_report_form_places_and_records(client, sec_world):
    client.force_login(sec_world.users["reporter"])
    r = client.post("/incidents/new", {"type": "riots", "title": "Shop looted",
                                       "severity": "3", "area": "KZ751110",
                                       "occurred_at": "2022-01-05T21:00"})
    assert r.status_code == 302, r.content.decode()[:2000]
    inc = Incident.objects.get(title="Shop looted")
    assert inc.reporter == sec_world.users["reporter"]
    assert inc.occurred_at == T("2022-01-05T21:00:00+06:00")


def test_report_form_names_bad_fields(client, sec_world):
    client.force_login(sec_world.users["reporter"])
    r = client.post("/incidents/new", {"type": "riots", "title": "", "severity": "3",
                                       "lat": "200"})
    assert r.status_code == 422
    html = r.content.decode()
    assert "This field is required." in html
    assert "Ensure this value is less than or equal to 180." in html or "lat" in html
    assert not Incident.objects.exists()


def test_viewer_cannot_open_the_report_form(client, sec_world):
    client.force_login(sec_world.users["viewer"])
    assert client.get("/incidents/new").status_code == 403


def test_bulk_verify_and_merge_from_the_pages(client, sec_world):
    a, b = report(sec_world, "Fire at akimat"), report(sec_world, "Akimat on fire")
    client.force_login(sec_world.users["duty"])
    r = client.post("/incidents/bulk", {"ids": [str(a.uid), str(b.uid)], "action": "verify"})
    assert r.status_code == 302
    assert set(Incident.objects.values_list("status", flat=True)) == {"verified"}
    client.post(f"/incidents/{a.uid}/merge", {"duplicate": f"/incidents/{b.uid}/"})
    b.refresh_from_db()
    assert b.merged_into_id == a.pk
    html = client.get(f"/incidents/{a.uid}/").content.decode()
    assert "Akimat on fire" in html
    history = html.split('id="incident-history"')[1].split("</tbody>")[0]
    # Both histories, each change in words: the duplicate's merge and this one's taking it.
    assert "A duplicate merged into it" in history and "Merged into another report" in history
    assert "absorbed" not in history
    # In the reader's language, changes and statuses alike; no code shows through.
    client.cookies["django_language"] = "ru"
    html = client.get(f"/incidents/{a.uid}/").content.decode()
    history = html.split('id="incident-history"')[1].split("</tbody>")[0]
    assert "Изменение" in html
    assert "Присоединено дублирующее сообщение" in history and "Подтверждён" in history
    for code in ("reported", "verified", "merged", "absorbed"):
        assert f">{code}<" not in history


def test_field_reporter_cannot_bulk_verify(client, sec_world):
    a = report(sec_world, "Fire")
    client.force_login(sec_world.users["reporter"])
    r = client.post("/incidents/bulk", {"ids": [str(a.uid)], "action": "verify"})
    assert r.status_code == 403
    a.refresh_from_db()
    assert a.status == "reported"


def test_outsider_cannot_open_an_incident_outside_scope(client, sec_world):
    a = report(sec_world, "Almaty only")
    client.force_login(sec_world.users["outsider"])
    assert client.get(f"/incidents/{a.uid}/").status_code == 404
    assert "Almaty only" not in client.get("/incidents/").content.decode()


def test_board_shows_posture_of_the_moment(client, sec_world):
    services.change_posture(area="KZ-MAN", kind="state_of_emergency", state="in_force",
                            effective_at=T("2022-01-05T00:00:00+06:00"),
                            recorded_at=T("2022-01-05T00:00:00+06:00"),
                            actor=sec_world.users["duty"], source="scenario")
    services.change_posture(area="KZ-MAN", kind="state_of_emergency", state="off",
                            effective_at=T("2022-01-19T00:00:00+06:00"),
                            recorded_at=T("2022-01-19T00:00:00+06:00"),
                            actor=sec_world.users["duty"], source="scenario")
    client.force_login(sec_world.users["viewer"])
    html = client.get("/security/board", {"as_of": "2022-01-06T12:00"}).content.decode()
    assert 'data-kind="state_of_emergency" data-state="in_force"' in html
    html = client.get("/security/board", {"as_of": "2022-01-20T12:00"}).content.decode()
    assert 'data-kind="state_of_emergency" data-state="off"' in html
    html = client.get("/security/board", {"as_of": "2022-01-01T12:00"}).content.decode()
    assert 'data-state="in_force"' not in html


def test_import_page_reports_and_writes_nothing_on_a_bad_row(client, sec_world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    csv_text = ("id,type,title,occurred_at,area\n"
                "a1,riots,Good,2022-01-05T10:00:00+06:00,KZ-ALA\n"
                "a2,nonsense,Bad,2022-01-05T10:00:00+06:00,KZ-ALA\n")
    client.force_login(sec_world.users["duty"])
    r = client.post("/incidents/import", {"file": SimpleUploadedFile(
        "x.csv", csv_text.encode(), content_type="text/csv")})
    assert r.status_code == 422
    assert "Nothing was imported" in r.content.decode()
    assert not Incident.objects.exists()
    r = client.post("/incidents/import", {"skip_invalid": "1", "file": SimpleUploadedFile(
        "x.csv", csv_text.encode(), content_type="text/csv")})
    assert r.status_code == 200
    assert list(Incident.objects.values_list("title", flat=True)) == ["Good"]
    client.force_login(sec_world.users["viewer"])
    assert client.get("/incidents/import").status_code == 403


def test_list_links_exports_with_the_same_filters(client, sec_world):
    client.force_login(sec_world.users["viewer"])
    html = client.get("/incidents/", {"area": "KZ-ALA", "type": "riots"}).content.decode()
    assert "/api/v1/incidents/export.csv?area=KZ-ALA&amp;type=riots" in html


def test_record_posture_and_a_figure_from_the_area_page(client, sec_world):
    from sitroom.core.services import save_organization
    from sitroom.incidents.models import CasualtyReport, PostureChange
    from sitroom.testing.world import SYSTEM

    save_organization({"code": "KZ-MOH", "kind": "agency", "name": "Ministry of Health"},
                      actor=SYSTEM, source="cli")
    client.force_login(sec_world.users["duty"])
    r = client.post("/security/areas/KZ-MAN", {
        "posture-change": "curfew:in_force", "posture-effective_at": "2022-01-05T23:00",
        "posture-hours": "23:00-07:00", "posture-decree": "Decree 1"})
    assert r.status_code == 302
    change = PostureChange.objects.get()
    assert (change.kind, change.state, change.hours) == ("curfew", "in_force", "23:00-07:00")
    r = client.post("/security/areas/KZ-MAN", {
        "figure-reporting_body": "KZ-MOH", "figure-category": "injured",
        "figure-group": "all", "figure-count": "49", "figure-as_of": "2022-01-09T12:00"})
    assert r.status_code == 302 and CasualtyReport.objects.get().count == 49
    r = client.post("/security/areas/KZ-MAN", {
        "figure-reporting_body": "KZ-MOH", "figure-category": "injured",
        "figure-group": "all", "figure-count": "-3", "figure-as_of": "2022-01-09T12:00"})
    assert r.status_code == 422 and CasualtyReport.objects.count() == 1
    client.force_login(sec_world.users["reporter"])  # field reporters do not record these
    r = client.post("/security/areas/KZ-ALA", {
        "posture-change": "curfew:off", "posture-effective_at": "2022-01-19T00:00"})
    assert r.status_code == 403 and PostureChange.objects.count() == 1
