"""Incident pages: list filters, report form, detail history, bulk actions, merge, board."""

import re
from datetime import datetime

from sitroom.incidents import services
from sitroom.incidents.models import Incident
from sitroom.testing.api import call, token

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


# --- The list, its exports and its map show the same incidents ---------------------------

def _filter_world(world):
    """Riots and protests in Almaty and Mangystau at several times, words and severities;
    each with a point, so that the map counts them all."""
    def report(world, title, area="KZ751110", **kw):
        kw.setdefault("lat", 44.1 if area == "KZ-MAN" else 43.25)
        kw.setdefault("lon", 53.9 if area == "KZ-MAN" else 76.91)
        return globals()["report"](world, title, area=area, **kw)

    report(world, "Akimat stormed", severity=5, occurred_at=T("2022-01-05T19:00:00+06:00"))
    report(world, "Akimat besieged", severity=3, occurred_at=T("2022-01-05T19:30:00+06:00"))
    report(world, "Akimat stormed again", severity=5,
           occurred_at=T("2022-01-06T10:00:00+06:00"))
    report(world, "Shops looted", severity=5, occurred_at=T("2022-01-05T18:30:00+06:00"))
    report(world, "Akimat stormed too", area="KZ-MAN", severity=5,
           occurred_at=T("2022-01-05T19:00:00+06:00"))
    report(world, "Akimat rally", type="protests", severity=5,
           occurred_at=T("2022-01-05T19:00:00+06:00"))


LIST_FILTERS = {"area": "KZ-ALA", "type": "riots", "q": "akimat", "min_severity": "5",
                "since": "2022-01-05T18:00", "until": "2022-01-05T20:00"}


def _rows(response) -> list[str]:
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    return [line for line in text.splitlines()[1:] if line]


def _export_link(html: str, fmt: str) -> str:
    import html as html_lib
    import re

    found = re.search(rf'href="(/api/v1/incidents/export\.{fmt}[^"]*)"', html)
    assert found, f"no {fmt} export link"
    return html_lib.unescape(found.group(1))


def test_export_links_export_exactly_what_the_list_shows(client, sec_world):
    _filter_world(sec_world)
    client.force_login(sec_world.users["viewer"])
    html = client.get("/incidents/", LIST_FILTERS).content.decode()
    assert "1 incident" in html and "Akimat stormed</a>" in html
    link = _export_link(html, "csv")
    for part in ("area=KZ-ALA", "type=riots", "q=akimat", "min_severity=5",
                 "since=2022-01-05T18%3A00%3A00%2B06%3A00",
                 "until=2022-01-05T20%3A00%3A00%2B06%3A00"):
        assert part in link, (part, link)
    rows = _rows(client.get(link + "&hxl=false"))
    assert len(rows) == 1 and "Akimat stormed," in rows[0]
    # The links are inside the list, so an htmx filter change brings new ones.
    part = client.get("/incidents/", {"area": "KZ-ALA", "type": "riots"},
                      HTTP_HX_REQUEST="true").content.decode()
    assert "4 incidents" in part
    rows = _rows(client.get(_export_link(part, "csv") + "&hxl=false"))
    assert len(rows) == 4


def test_export_link_of_the_past_carries_as_of_and_statuses(client, sec_world):
    _filter_world(sec_world)
    client.force_login(sec_world.users["viewer"])
    html = client.get("/incidents/", {"as_of": "2022-01-05T23:00", "status": "reported",
                                      "area": "KZ-ALA"}).content.decode()
    link = _export_link(html, "geojson")
    assert "as_of=2022-01-05T23%3A00%3A00%2B06%3A00" in link and "status=reported" in link


def test_export_and_map_apis_take_every_filter_of_the_list(client, sec_world):
    import json

    _filter_world(sec_world)
    client.force_login(sec_world.users["viewer"])
    since, until = "2022-01-05T18:00:00+06:00", "2022-01-05T20:00:00+06:00"
    query = {"area": "KZ-ALA", "type": "riots", "q": "akimat", "min_severity": "5",
             "since": since, "until": until}
    r = client.get("/api/v1/incidents/export.csv", {**query, "hxl": "false"})
    assert len(_rows(r)) == 1
    r = client.get("/api/v1/incidents/map", {**query, "cell": "1"})
    assert r.status_code == 200, r.content
    assert sum(c["count"] for c in json.loads(r.content)) == 1
    r = client.get("/api/v1/incidents/map", {"q": "looted", "cell": "1"})
    assert sum(c["count"] for c in json.loads(r.content)) == 1
    r = client.get("/api/v1/incidents/map", {"min_severity": "9"})
    assert r.status_code == 422 and "min_severity" in r.content.decode()


def test_the_map_query_is_given_by_the_server_in_the_deployments_zone(client, sec_world):
    import html as html_lib
    import re

    _filter_world(sec_world)
    client.force_login(sec_world.users["viewer"])
    part = client.get("/incidents/", {**LIST_FILTERS, "as_of": "2022-01-07T00:00"},
                      HTTP_HX_REQUEST="true").content.decode()
    query = html_lib.unescape(re.search(r'data-map-query="([^"]*)"', part).group(1))
    assert "since=2022-01-05T18%3A00%3A00%2B06%3A00" in query
    assert "as_of=2022-01-07T00%3A00%3A00%2B06%3A00" in query
    assert "q=akimat" in query and "min_severity=5" in query
    part = client.get("/incidents/", LIST_FILTERS, HTTP_HX_REQUEST="true").content.decode()
    query = html_lib.unescape(re.search(r'data-map-query="([^"]*)"', part).group(1))
    r = client.get("/api/v1/incidents/map?cell=1&" + query)
    assert sum(c["count"] for c in r.json()) == 1


def test_one_bad_filter_keeps_the_others_and_is_named_beside_its_field(client, sec_world):
    _filter_world(sec_world)
    client.force_login(sec_world.users["viewer"])
    r = client.get("/incidents/", {"area": "KZ-ALA", "type": "riots",
                                   "since": "2022-13-45T99:00"})
    html = r.content.decode()
    assert "4 incidents" in html  # area and type still apply
    # The error is inside the From field's label, not in a grid cell of its own.
    assert re.search(r'<label>From <input[^>]*name="since"[^>]*>'
                     r'<span class="error" id="filter-error-since"[^>]*>Enter a valid', html)
    assert 'id="filters-ignored"' in html and "From." in html
    assert "area=KZ-ALA&amp;type=riots" in html and "since=" not in _export_link(html, "csv")


def test_from_later_than_to_is_explained(client, sec_world):
    _filter_world(sec_world)
    client.force_login(sec_world.users["viewer"])
    part = client.get("/incidents/", {"area": "KZ-ALA", "since": "2022-01-06T00:00",
                                      "until": "2022-01-05T00:00"},
                      HTTP_HX_REQUEST="true").content.decode()
    # An htmx answer brings the error beside the field out of band.
    assert re.search(r'<span class="error" id="filter-error-until"[^>]*hx-swap-oob="true"'
                     r'[^>]*>must not be earlier than From', part)
    assert "1 incident" in part  # From applies: the one on the 6th


# --- An edit that clashes with another ----------------------------------------------------

def test_an_edit_clashing_with_another_says_so_and_keeps_what_was_typed(client, sec_world):
    inc = report(sec_world, "Akimat stormed")
    client.force_login(sec_world.users["duty"])
    url = f"/incidents/{inc.uid}/edit"
    form = {"type": "riots", "title": "Akimat stormed", "severity": "3", "area": "KZ751110",
            "occurred_at": "2022-01-05T10:00", "version": str(inc.version)}
    assert client.post(url, {**form, "fatalities": "2"}).status_code == 302  # tab 1
    r = client.post(url, {**form, "injured": "17"})  # tab 2, opened before tab 1 saved
    html = r.content.decode()
    assert r.status_code == 422
    assert 'id="edit-conflict"' in html
    assert "Someone else changed this incident while you were editing it." in html
    assert f'href="/incidents/{inc.uid}/"' in html and f'href="{url}"' in html
    assert re.search(r'name="injured" value="17"', html)  # what was typed is kept
    inc.refresh_from_db()
    assert inc.injured is None and inc.fatalities == 2
    # Saving again, knowingly, replaces the current version.
    assert re.search(rf'name="version" value="{inc.version}"', html)
    assert client.post(url, {**form, "injured": "17", "fatalities": "2",
                             "version": str(inc.version)}).status_code == 302
    inc.refresh_from_db()
    assert inc.injured == 17


def test_the_clash_message_is_in_the_readers_language(client, sec_world):
    inc = report(sec_world, "Akimat stormed")
    client.force_login(sec_world.users["duty"])
    url = f"/incidents/{inc.uid}/edit"
    form = {"type": "riots", "title": "Akimat stormed", "severity": "3", "area": "KZ751110",
            "occurred_at": "2022-01-05T10:00", "version": str(inc.version)}
    client.post(url, form)
    for lang, words in (("ru", "изменил кто-то другой"), ("kk", "басқа біреу өзгертті")):
        html = client.post(url, form, HTTP_ACCEPT_LANGUAGE=lang).content.decode()
        assert words in html, lang


def test_bulk_assign_left_blank_changes_nothing_and_unassigning_is_chosen(client, sec_world):
    """'Assign to…' with the name left blank unassigned the selected incidents and said
    only '2 incident(s) updated.'. Now a blank choice is refused, naming the field, and
    unassigning is its own choice, '— nobody (unassign) —'."""
    from sitroom.incidents.views import NOBODY

    a, b = report(sec_world, "Fire at akimat"), report(sec_world, "Shots on Abay avenue")
    services.assign([a, b], "duty", actor=sec_world.users["duty"], source="web")
    client.force_login(sec_world.users["duty"])
    page = client.get("/incidents/").content.decode()
    assert "— choose who —" in page and "— nobody (unassign) —" in page
    assert f'value="{NOBODY}"' in page and 'value="reporter"' in page
    assert 'id="select-all"' in page and "Selected: 0 of 2" in page

    ids = [str(a.uid), str(b.uid)]
    r = client.post("/incidents/bulk", {"ids": ids, "action": "assign", "assignee": ""},
                    follow=True)
    html = r.content.decode()
    assert "Assign to: choose a person" in html and "updated" not in html
    assert set(Incident.objects.values_list("assignee__username", flat=True)) == {"duty"}

    r = client.post("/incidents/bulk", {"ids": ids, "action": "assign",
                                        "assignee": NOBODY}, follow=True)
    assert "2 incident(s) unassigned." in r.content.decode()
    assert set(Incident.objects.values_list("assignee", flat=True)) == {None}
    r = client.post("/incidents/bulk", {"ids": ids[:1], "action": "assign",
                                        "assignee": "director"}, follow=True)
    assert "1 incident(s) assigned to director." in r.content.decode()
    a.refresh_from_db()
    assert a.assignee.username == "director"

    # A field reporter may not assign, with or without a name; a viewer gets no bulk bar.
    client.force_login(sec_world.users["reporter"])
    r = client.post("/incidents/bulk", {"ids": ids, "action": "assign", "assignee": NOBODY})
    assert r.status_code == 403
    a.refresh_from_db()
    assert a.assignee.username == "director"
    client.force_login(sec_world.users["viewer"])
    page = client.get("/incidents/").content.decode()
    assert "bulk-assignee" not in page and 'value="reporter"' not in page


def test_api_bulk_assign_needs_an_assignee_or_an_explicit_null(client, sec_world, token_for):
    a = report(sec_world, "Fire at akimat")
    services.assign([a], "duty", actor=sec_world.users["duty"], source="web")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token_for('duty')}"}

    def bulk(**body):
        return client.post("/api/v1/incidents/bulk", {"ids": [str(a.uid)], **body},
                           content_type="application/json", **headers)

    for body in ({"action": "assign"}, {"action": "assign", "assignee": ""}):
        r = bulk(**body)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "assignee"
        a.refresh_from_db()
        assert a.assignee.username == "duty"
    assert bulk(action="assign", assignee=None).status_code == 200
    a.refresh_from_db()
    assert a.assignee is None


def test_a_history_restore_gets_the_whole_list_page(client, sec_world):
    """htmx asks for a page again on Back (HX-History-Restore-Request) and puts the answer
    in place of the page's body: the list alone would leave the page without its form."""
    report(sec_world, "Peaceful rally", type="protests")
    client.force_login(sec_world.users["viewer"])
    html = client.get("/incidents/", {"type": "protests"}, HTTP_HX_REQUEST="true",
                      HTTP_HX_HISTORY_RESTORE_REQUEST="true").content.decode()
    assert "<html" in html and 'id="incident-filter"' in html and "Peaceful rally" in html
    assert '<option value="protests" selected>' in html


def test_the_bulk_bar_returns_only_to_a_page_of_this_site(client, sec_world):
    """The bulk action redirected to whatever `next` the form carried, so a link from
    another site could send a duty officer on to a look-alike page after a real action.
    Only a path of this site is followed; anything else returns to the list."""
    a = report(sec_world, "Fire at akimat")
    client.force_login(sec_world.users["duty"])
    form = {"ids": [str(a.uid)], "action": "verify"}
    r = client.post("/incidents/bulk", {**form, "next": "/incidents/?status=verified"})
    assert r.status_code == 302 and r["Location"] == "/incidents/?status=verified"
    for elsewhere in ("https://evil.example/incidents/", "//evil.example/", "javascript:alert(1)"):
        r = client.post("/incidents/bulk", {**form, "next": elsewhere})
        assert r.status_code == 302 and r["Location"] == "/incidents/", elsewhere


def test_a_district_officers_board_shows_their_district(client, sec_world, token_for):
    """An analyst scoped to one district of Almaty saw an empty board: the board listed
    only regions and cities. They now see their district, with the city's measure in force
    there, the district's own, and its incidents; nothing of the rest of the city."""
    from datetime import timedelta

    from django.utils import timezone

    from sitroom.accounts.services import create_user
    from sitroom.testing.world import PASSWORD, SYSTEM

    duty = sec_world.users["duty"]
    hour_ago = timezone.now() - timedelta(hours=1)

    def measure(area, kind, state):
        services.change_posture(area=area, kind=kind, state=state, effective_at=hour_ago,
                                actor=duty, source="web")

    measure("KZ-ALA", "curfew", "in_force")  # the whole city
    measure("KZ751110", "cto_regime", "in_force")  # Almaly only
    measure("KZ751910", "law_and_order", "disorder")  # Turksib only
    measure("KZ-MAN", "state_of_emergency", "in_force")
    report(sec_world, "Checkpoint attacked", area="KZ751110", occurred_at=hour_ago)
    report(sec_world, "Depot looted", area="KZ751910", occurred_at=hour_ago)
    almaly = create_user("almaly", role="analyst", password=PASSWORD, areas=["KZ751110"],
                         actor=SYSTEM, source="cli")

    client.force_login(almaly)
    page = client.get("/security/board").content.decode()
    rows = re.findall(r'<tr data-area="([^"]+)">', page)
    assert rows == ["KZ751110"]
    row = page[page.index('<tr data-area="KZ751110">'):].split("</tr>")[0]
    assert 'data-kind="curfew" data-state="in_force"' in row
    assert "declared for Almaty" in row and "country-wide" not in row
    assert 'data-kind="cto_regime" data-state="in_force"' in row
    assert 'data-kind="law_and_order" data-state=""' in row  # Turksib's is not theirs
    assert re.search(r'<td class="num">1</td>', row)
    table = page[page.index('id="board"'):].split("</table>")[0]
    assert "Turksib" not in table and "Mangystau" not in table
    assert "This board is limited to your scope: Almaly." in page
    # the API's board is the same
    body = call(token(almaly), "get", "/api/v1/board").json()
    assert [(r["area"], r["incidents_24h"], r["posture"]["curfew"]["inherited"])
            for r in body["rows"]] == [("KZ751110", 1, True)]

    # a user of another region does not see the district, nor Almaty
    client.force_login(sec_world.users["outsider"])
    page = client.get("/security/board").content.decode()
    assert re.findall(r'<tr data-area="([^"]+)">', page) == ["KZ-MAN"]
    table = page[page.index('id="board"'):].split("</table>")[0]
    assert "Almaly" not in table and "Almaty" not in table
    assert "This board is limited to your scope: Mangystau Region." in page
    # one who sees every area gets the whole board, without the sentence
    client.force_login(sec_world.users["viewer"])
    page = client.get("/security/board").content.decode()
    assert re.findall(r'<tr data-area="([^"]+)">', page) == ["KZ-ALA", "KZ-MAN"]
    assert "limited to your scope" not in page
    assert "country-wide" not in page  # the city's own curfew is not inherited
