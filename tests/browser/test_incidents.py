"""Incidents in a real Chromium: place one on the map, watch it arrive on another page."""

import re

import pytest
from playwright.sync_api import expect

from sitroom.core.actors import Actor
from sitroom.incidents.services import load_incident_types
from sitroom.testing.files import png
from sitroom.testing.world import PASSWORD

from .conftest import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def security_world(demo_world):
    load_incident_types(actor=Actor.system_actor("tests"), source="cli")


def test_place_an_incident_on_the_map_and_see_it_live_elsewhere(browser, page, server,
                                                                security_world):
    watcher = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    sign_in(watcher, server, "viewer", PASSWORD)
    watcher.goto(server + "/incidents/")
    expect(watcher.locator("#live-status")).to_have_attribute("data-state", "live")
    expect(watcher.locator("#incident-map")).to_have_attribute("data-ready", "true")
    before = int(watcher.locator("#incident-map").get_attribute("data-total") or 0)

    sign_in(page, server, "duty", PASSWORD)
    page.goto(server + "/incidents/new")
    expect(page.locator("#place-map")).to_have_attribute("data-ready", "true")
    page.select_option("#id_type", "riots")
    page.fill("#id_title", "Crowd sets cars on fire near the akimat")
    # Clicking the map fills in the point.
    box = page.locator("#place-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    expect(page.locator("#id_lat")).not_to_have_value("")
    lat = float(page.locator("#id_lat").input_value())
    lon = float(page.locator("#id_lon").input_value())
    # Put the point exactly in Almaty (the centre of the country view is in the steppe).
    page.fill("#id_lat", "43.2389")
    page.fill("#id_lon", "76.9455")
    assert -90 <= lat <= 90 and -180 <= lon <= 180
    page.click("#incident-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Crowd sets cars on fire near the akimat")
    expect(page.locator(".facts")).to_contain_text("Bostandyk")  # the district holding it

    row = watcher.locator("#incident-list tr", has_text="Crowd sets cars on fire")
    expect(row).to_have_count(1)
    expect(watcher.locator("#incident-map")).to_have_attribute("data-total", str(before + 1))
    watcher.context.close()


def test_filter_the_incident_list(page, server, live_world):
    from datetime import datetime

    from sitroom.incidents.services import report_incident

    load_incident_types(actor=Actor.system_actor("tests"), source="cli")
    for title, itype in (("Bank looted", "strategic_developments"),
                         ("March on the square", "protests")):
        report_incident(actor=Actor.system_actor("tests"), source="cli", type=itype,
                        title=title, area="KZ-ALA",
                        occurred_at=datetime.fromisoformat("2022-01-05T10:00:00+06:00"))
    sign_in(page, server, "viewer", PASSWORD)
    page.goto(server + "/incidents/")
    expect(page.locator("#incident-list tbody tr")).to_have_count(2)
    page.select_option("#incident-filter select[name=type]", "protests")
    expect(page.locator("#incident-list tbody tr")).to_have_count(1)
    expect(page.locator("#incident-list")).to_contain_text("March on the square")
    assert "type=protests" in page.url
    # Statuses are ticked, one click each: the protest is only reported, not verified.
    page.select_option("#incident-filter select[name=type]", "")
    page.get_by_label("Verified", exact=True).check()
    expect(page.locator("#incident-list tbody tr[data-id]")).to_have_count(0)
    page.get_by_label("Reported", exact=True).check()
    expect(page.locator("#incident-list tbody tr[data-id]")).to_have_count(2)
    assert "status=verified" in page.url and "status=reported" in page.url


def test_the_incident_list_is_readable_beside_the_map(page, server, demo_world):
    # A duty officer's list (with the selection column) of the demo's incidents, on a
    # 1400-pixel screen: every column, the status last, lies inside the list's card,
    # and a title wraps into a few lines, not a word a line.
    sign_in(page, server, "duty", PASSWORD)
    page.goto(server + "/incidents/")
    rows = page.locator("#incident-list tbody tr")
    expect(rows.first).to_be_visible()
    card = page.locator(".timecol").bounding_box()
    for i in range(min(rows.count(), 10)):
        status = rows.nth(i).locator("td").last.bounding_box()
        assert status["x"] + status["width"] <= card["x"] + card["width"]
    title = rows.first.locator("td a").first
    assert title.bounding_box()["width"] > 180


def test_an_areas_history_and_figures_are_readable(browser, server, demo_world):
    """Almaty's page in Russian at 1400 pixels: the history's last column ran out of its
    card over the figures beside it, and a figure's sources were full addresses broken
    every few letters. The tables are now one under the other, each inside its card, and
    a long address is shortened (the link keeps all of it)."""
    page = browser.new_context(viewport={"width": 1400, "height": 900},
                               locale="ru-RU").new_page()
    sign_in(page, server, "viewer", PASSWORD)
    page.goto(server + "/security/areas/KZ-ALA")
    for table in ("#posture-history", "table.figures"):
        box = page.locator(table).bounding_box()
        card = page.locator(f".card:has({table})").bounding_box()
        assert box["x"] + box["width"] <= card["x"] + card["width"], table
    link = page.locator("table.figures .source a").first
    href = link.get_attribute("href")
    assert href.startswith("https://") and len(href) > 40
    text = link.inner_text()
    assert len(text) <= 34 and href.startswith(text.rstrip("…"))


def test_a_1024_pixel_screen_in_russian_shows_the_menu_and_the_whole_list(browser, server,
                                                                         demo_world):
    """On a 1024-pixel laptop in Russian the language choice and "Sign out" lay off the
    screen to the right, and so did the list's last columns beside the map."""
    page = browser.new_context(viewport={"width": 1024, "height": 768},
                               locale="ru-RU").new_page()
    sign_in(page, server, "duty", PASSWORD)
    page.goto(server + "/incidents/")
    width = page.evaluate("() => document.documentElement.clientWidth")
    sign_out = page.locator("header button", has_text="Выйти")
    for item in (page.locator("#language-select"), sign_out,
                 page.locator("#incident-list tbody tr").first.locator("td").last):
        expect(item).to_be_visible()
        box = item.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    sign_out.click()
    expect(page).to_have_url(re.compile(r"/login/"))


PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "locale": "ru-RU"}


def test_on_a_phone_no_page_runs_off_the_side_and_a_field_reporter_can_report(
        browser, server, demo_world):
    """On a 390-pixel phone in Russian every page scrolled sideways (the menu alone was
    727 pixels wide; the board, the lifelines matrix and the movement form ran further),
    and the incident form's map and button lay partly off the screen."""
    from sitroom.accounts.services import create_user
    from sitroom.testing.world import SYSTEM

    load_incident_types(actor=Actor.system_actor("tests"), source="cli")
    create_user("field", role="field_reporter", password=PASSWORD, areas=["KZ-ALA"],
                actor=SYSTEM, source="cli")
    page = browser.new_context(**PHONE).new_page()
    sign_in(page, server, "duty", PASSWORD)
    for path in ("/", "/incidents/", "/incidents/new", "/security/board",
                 "/security/figures", "/security/areas/KZ-ALA", "/lifelines/", "/forces/",
                 "/forces/movements/new", "/forces/plan/"):
        page.goto(server + path)
        page.wait_for_load_state("networkidle")
        width = page.evaluate("() => document.documentElement.clientWidth")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width, path
        # every menu item and every control of the page's cards can be reached on screen
        for box in page.locator(".mainnav a, .card :is(form, .filters) :is(input:visible, "
                                "select, button)").evaluate_all(
                "els => els.filter(e => !e.closest('table'))"
                "  .map(e => { const r = e.getBoundingClientRect(); "
                "              return [r.left, r.right, e.name || e.textContent]; })"):
            assert box[0] >= 0 and box[1] <= width + 0.5, (path, box)
    # a matrix scrolled sideways keeps each row's name in view
    for path, scroller in (("/lifelines/", "#lifeline-board .tablewrap"),
                           ("/security/board", "#board")):
        page.goto(server + path)
        row = page.locator(":is(#lifelines, #board) tbody tr").nth(1).locator("th, td").first
        before = row.bounding_box()
        page.locator(scroller).evaluate(
            "el => { const s = el.closest('.tablewrap, .card'); s.scrollLeft = s.scrollWidth; }")
        page.wait_for_timeout(100)
        after = row.bounding_box()
        assert after["x"] == before["x"] and 0 <= after["x"] < width, (path, before, after)
        assert page.locator(scroller).evaluate(
            "el => el.closest('.tablewrap, .card').scrollLeft") > 100, path
    page.context.close()

    phone = browser.new_context(**PHONE).new_page()
    sign_in(phone, server, "field", PASSWORD)
    phone.goto(server + "/incidents/new")
    place = phone.locator("#place-map")
    expect(place).to_have_attribute("data-ready", "true")
    # the map's own buttons speak the reader's language too
    expect(place.locator(".leaflet-control-zoom-in")).to_have_attribute("title", "Приблизить")
    expect(place.locator(".leaflet-control-zoom-out")).to_have_attribute("title", "Отдалить")
    phone.select_option("#id_type", "riots")
    phone.fill("#id_title", "Толпа у акимата")
    box = place.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    phone.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(phone.locator("#id_lat")).not_to_have_value("")
    phone.fill("#id_lat", "43.2389")
    phone.fill("#id_lon", "76.9455")
    # the photo goes with the report
    phone.set_input_files("#id_document", {"name": "crowd.png", "mimeType": "image/png",
                                           "buffer": png(11)})
    submit = phone.locator("#incident-form button[type=submit]")
    submit.scroll_into_view_if_needed()
    submit.tap()
    expect(phone.locator("h1")).to_have_text("Толпа у акимата")
    expect(phone.locator(".facts")).to_contain_text("Бостандык")
    expect(phone.locator("#incident-documents li")).to_contain_text("crowd.png")
    phone.wait_for_function(
        "() => { const i = document.querySelector('#incident-documents img');"
        " return i && i.complete && i.naturalWidth === 2; }")
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
    phone.context.close()


def test_an_incidents_page_shows_where_it_happened(page, server, live_world):
    from datetime import datetime

    from sitroom.incidents.services import report_incident

    load_incident_types(actor=Actor.system_actor("tests"), source="cli")
    inc, _new = report_incident(actor=Actor.system_actor("tests"), source="cli",
                                type="riots", title="Akimat stormed", area="KZ-ALA",
                                lat=43.238, lon=76.945,
                                occurred_at=datetime.fromisoformat("2022-01-05T10:00:00+06:00"))
    sign_in(page, server, "viewer", PASSWORD)
    page.goto(f"{server}/incidents/{inc.uid}/")
    where = page.locator("#incident-where")
    expect(where).to_have_attribute("data-ready", "true")
    marker = where.locator("path.leaflet-interactive")
    expect(marker).to_have_count(1)
    # the marker is in the middle of the map, which is centred on the incident
    box, dot = where.bounding_box(), marker.bounding_box()
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert abs(dot["x"] + dot["width"] / 2 - centre[0]) < 5
    assert abs(dot["y"] + dot["height"] / 2 - centre[1]) < 5


def test_country_board_on_6_and_14_january(page, server, demo_world):
    sign_in(page, server, "viewer", PASSWORD)
    page.goto(server + "/security/board")
    soe = page.locator("#board td[data-kind=state_of_emergency]")
    page.fill("#id_as_of", "2022-01-06T12:00")
    page.click("#board-form button[type=submit]")
    expect(soe).to_have_count(17)
    expect(page.locator("#board td[data-kind=state_of_emergency][data-state=in_force]")
           ).to_have_count(17)
    page.fill("#id_as_of", "2022-01-14T12:00")
    page.click("#board-form button[type=submit]")
    lifted = page.locator("#board tr:has(td[data-kind=state_of_emergency][data-state=off])")
    expect(lifted).to_have_count(3)
    codes = sorted(lifted.evaluate_all("rows => rows.map(r => r.dataset.area)"))
    assert codes == ["KZ-PAV", "KZ-SEV", "KZ-ZAP"]
    page.click("#board a:text('Almaty Region')")
    expect(page.locator("#posture-history")).to_contain_text("State of emergency")


def test_import_a_file_with_one_bad_row_writes_nothing(page, server, security_world, tmp_path):
    from sitroom.incidents.models import Incident

    file = tmp_path / "incidents.csv"
    file.write_text(
        "id,type,title,occurred_at,area,severity\n"
        "r1,riots,Crowd at the akimat,2022-01-05T10:00:00+06:00,KZ-ALA,3\n"
        "r2,riots,Second report,2022-01-05T11:00:00+06:00,KZ-ALA,9\n"
        "r3,protests,Rally,2022-01-05T12:00:00+06:00,KZ-ALA,2\n", encoding="utf-8")
    sign_in(page, server, "duty", PASSWORD)
    page.goto(server + "/incidents/")
    page.click("text=Import a file")
    page.set_input_files("#import-form input[type=file]", str(file))
    page.click("#import-form button[type=submit]")
    report = page.locator("#import-report")
    expect(report).to_have_attribute("data-written", "false")
    expect(report).to_contain_text("Nothing was imported")
    problem = page.locator("#import-problems tbody tr")
    expect(problem).to_have_count(1)
    expect(problem).to_contain_text("3")
    expect(problem).to_contain_text("severity")
    assert not Incident.objects.filter(external_id__in=["r1", "r2", "r3"]).exists()


def test_detail_page_and_country_board_follow_changes_live(browser, page, server,
                                                          security_world):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from sitroom.incidents.services import report_incident, set_status

    def user(name):
        return get_user_model().objects.get(username=name)

    incident = report_incident(actor=user("duty"), source="web", type="riots",
                               title="Barricades on Abay avenue", area="KZ-ALA",
                               occurred_at=timezone.now())[0]
    watcher = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    sign_in(watcher, server, "viewer", PASSWORD)
    watcher.goto(f"{server}/incidents/{incident.uid}/")
    expect(watcher.locator("#live-status")).to_have_attribute("data-state", "live")
    expect(watcher.locator("#incident-status")).to_contain_text("Reported")

    sign_in(page, server, "viewer", PASSWORD)
    page.goto(server + "/security/board")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    almaty = page.locator("#board tr[data-area='KZ-ALA'] td.num")
    expect(almaty).to_have_text("1")

    set_status([incident], "verified", actor=user("duty"), source="web")
    expect(watcher.locator("#incident-status")).to_contain_text("Verified")
    expect(watcher.locator("#incident-history tr")).to_have_count(2)

    report_incident(actor=user("duty"), source="web", type="protests",
                    title="Second crowd at the square", area="KZ-ALA",
                    occurred_at=timezone.now())
    expect(almaty).to_have_text("2")
    watcher.context.close()


def test_attach_a_photo_to_an_incident_and_see_it_arrive_on_another_page(
        browser, page, server, live_world, tmp_path):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from sitroom.incidents.services import report_incident

    load_incident_types(actor=Actor.system_actor("tests"), source="cli")
    incident = report_incident(actor=get_user_model().objects.get(username="duty"),
                               source="web", type="riots", title="Akimat on fire",
                               area="KZ-ALA", occurred_at=timezone.now())[0]
    watcher = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    sign_in(watcher, server, "viewer", PASSWORD)
    watcher.goto(f"{server}/incidents/{incident.uid}/")
    expect(watcher.locator("#live-status")).to_have_attribute("data-state", "live")
    expect(watcher.locator("#incident-documents")).to_contain_text("No documents attached.")
    expect(watcher.locator("#incident-documents input[type=file]")).to_have_count(0)

    photo = tmp_path / "akimat-east-wing.png"
    photo.write_bytes(png(5))
    sign_in(page, server, "reporter", PASSWORD)  # a field reporter in Almaty
    page.goto(f"{server}/incidents/{incident.uid}/")
    # A video over the 50 MB limit is named as soon as it is chosen; nothing is sent.
    video = tmp_path / "whole-night.mp4"
    with open(video, "wb") as f:
        f.truncate(51 << 20)
    page.set_input_files("#incident-documents input[type=file]", str(video))
    page.click("#incident-documents button[type=submit]")
    assert "larger than 50 MB" in page.eval_on_selector(
        "#incident-documents input[type=file]", "i => i.validationMessage")
    expect(page.locator("#incident-documents")).to_contain_text("No documents attached.")
    page.set_input_files("#incident-documents input[type=file]", str(photo))
    page.fill("#incident-documents input[name=description]", "East wing, 21:40")
    page.click("#incident-documents button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Document added.")
    item = page.locator("#incident-documents li", has_text="akimat-east-wing.png")
    expect(item).to_contain_text("East wing, 21:40")
    expect(item).to_contain_text("added by reporter")
    # The photo itself is shown: the browser decoded the stored bytes.
    page.wait_for_function(
        "() => { const i = document.querySelector('#incident-documents img');"
        " return i && i.complete && i.naturalWidth === 2; }")
    expect(page.locator("#incident-history")).to_contain_text("Document added")

    seen = watcher.locator("#incident-documents li", has_text="akimat-east-wing.png")
    expect(seen).to_have_count(1)
    href = seen.locator("a", has_text="download").get_attribute("href")
    response = watcher.request.get(server + href)
    assert response.ok and response.body() == png(5)
    assert response.headers["content-disposition"].startswith("attachment")

    # Attached to the wrong report: its sender withdraws it, saying why. The viewer's page
    # shows the withdrawal live, and the file no longer opens for them.
    item.locator("summary", has_text="Withdraw…").click()
    item.locator("input[name=reason]").fill("Wrong incident: this is the residence")
    item.locator("button", has_text="Withdraw the document").click()
    expect(page.locator(".messages")).to_contain_text("Document withdrawn.")
    expect(page.locator("#incident-history")).to_contain_text("Document withdrawn")
    expect(seen).to_contain_text("Withdrawn by reporter")
    expect(seen).to_contain_text("Wrong incident: this is the residence")
    expect(watcher.locator("#incident-documents img")).to_have_count(0)
    assert watcher.request.get(server + href).status == 410
    watcher.context.close()


# --- The list, its exports and its map show the same incidents ---------------------------

def _expected(**filters):
    """(in the list, on the map): the demo's incidents a viewer sees with these filters."""
    from django.contrib.auth import get_user_model

    from sitroom.core.models import Area
    from sitroom.incidents import queries

    if "area" in filters:
        filters["area"] = Area.objects.get(code=filters["area"])
    qs = queries.incidents(get_user_model().objects.get(username="viewer"),
                           queries.IncidentFilter(**filters))
    return qs.count(), qs.exclude(lat=None).count()


def _list_count(page) -> int:
    return int(page.locator("#incident-list .timeline-count").inner_text().split()[0])


def _export_rows(page, server, fmt="csv") -> int:
    href = page.locator(f"#incident-exports a[data-format={fmt}]").get_attribute("href")
    response = page.request.get(server + href + "&hxl=false")
    assert response.ok, response.text()
    return len([line for line in response.text().splitlines()[1:] if line])


def _map_total(page, expected: int) -> None:
    list_query = page.locator("#incident-list").get_attribute("data-map-query")
    mp = page.locator("#incident-map")
    expect(mp).to_have_attribute("data-query", list_query)
    expect(mp).to_have_attribute("data-ready", "true")
    expect(mp).to_have_attribute("data-total", str(expected))


def test_exports_and_map_follow_the_filters_of_the_list(page, server, demo_world):

    sign_in(page, server, "viewer", PASSWORD)
    page.goto(server + "/incidents/")
    expect(page.locator("#incident-map")).to_have_attribute("data-ready", "true")
    page.select_option("#incident-filter select[name=area]", "KZ-ALA")
    expect(page).to_have_url(re.compile(r"area=KZ-ALA"))
    page.select_option("#incident-filter select[name=type]", "riots")
    in_list, on_map = _expected(area="KZ-ALA", type="riots")
    expect(page.locator("#incident-list tbody tr[data-id]")).to_have_count(in_list)
    csv = page.locator("#incident-exports a[data-format=csv]")
    expect(csv).to_have_attribute("href", re.compile(r"area=KZ-ALA&type=riots"))
    assert _export_rows(page, server) == _list_count(page) == in_list
    _map_total(page, on_map)

    # Text and severity too, from the address bar.
    page.goto(server + "/incidents/?area=KZ-ALA&q=akimat&min_severity=5")
    in_list, on_map = _expected(area="KZ-ALA", q="akimat", min_severity=5)
    assert 0 < in_list < _expected(area="KZ-ALA")[0]
    expect(page.locator("#incident-list tbody tr[data-id]")).to_have_count(in_list)
    assert _export_rows(page, server) == in_list
    _map_total(page, on_map)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Moscow"])
def test_times_in_the_filters_are_the_deployments_on_the_map_too(browser, server, demo_world,
                                                                 zone):
    from datetime import datetime

    context = browser.new_context(viewport={"width": 1400, "height": 900}, timezone_id=zone)
    page = context.new_page()
    sign_in(page, server, "viewer", PASSWORD)
    page.goto(server + "/incidents/")
    expect(page.locator("#incident-map")).to_have_attribute("data-ready", "true")
    page.fill("#id_since", "2022-01-05T18:00")
    page.fill("#id_until", "2022-01-05T20:00")
    page.locator("#id_until").dispatch_event("change")
    in_list, on_map = _expected(since=datetime.fromisoformat("2022-01-05T18:00+06:00"),
                                until=datetime.fromisoformat("2022-01-05T20:00+06:00"))
    assert in_list > 1
    expect(page.locator("#incident-list tbody tr[data-id]")).to_have_count(in_list)
    _map_total(page, on_map)
    assert _export_rows(page, server) == in_list
    context.close()


def test_a_bad_date_in_the_address_keeps_the_other_filters(page, server, demo_world):
    sign_in(page, server, "viewer", PASSWORD)
    page.goto(server + "/incidents/?area=KZ-ALA&type=riots&since=2022-13-45T99:00")
    in_list, on_map = _expected(area="KZ-ALA", type="riots")
    expect(page.locator("#incident-list tbody tr[data-id]")).to_have_count(in_list)
    # The error is in the From field's own cell of the grid.
    expect(page.locator("label:has(#id_since) .error")).to_contain_text("valid date")
    expect(page.locator("#filters-ignored")).to_contain_text("From")
    _map_total(page, on_map)
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    assert page.locator("#incident-map").get_attribute("data-error") is None
    # From after To: said beside To, after an htmx change.
    page.fill("#id_since", "2022-01-07T00:00")
    page.fill("#id_until", "2022-01-06T00:00")
    page.locator("#id_until").dispatch_event("change")
    expect(page.locator("label:has(#id_until) .error")).to_contain_text(
        "must not be earlier than From")
    expect(page.locator("label:has(#id_since) .error")).to_have_text("")


def test_an_edit_that_clashes_with_another_tab_says_so(browser, page, server,
                                                       security_world):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from sitroom.incidents.models import Incident
    from sitroom.incidents.services import report_incident

    incident = report_incident(actor=get_user_model().objects.get(username="duty"),
                               source="web", type="riots", title="Barricades on Abay avenue",
                               area="KZ-ALA", occurred_at=timezone.now())[0]
    sign_in(page, server, "duty", PASSWORD)
    first = page
    second = page.context.new_page()
    for tab in (first, second):
        tab.goto(f"{server}/incidents/{incident.uid}/edit")
    first.fill("#id_fatalities", "2")
    first.click("#incident-form button[type=submit]")
    expect(first.locator("h1")).to_have_text("Barricades on Abay avenue")
    second.fill("#id_injured", "17")
    second.click("#incident-form button[type=submit]")
    expect(second.locator("#edit-conflict")).to_contain_text(
        "Someone else changed this incident")
    expect(second.locator("#id_injured")).to_have_value("17")
    expect(second.locator("#edit-conflict a#conflict-current")).to_have_attribute(
        "href", f"/incidents/{incident.uid}/")
    incident.refresh_from_db()
    assert incident.injured is None and incident.fatalities == 2
    second.click("#incident-form button[type=submit]")  # again: knowingly replace it
    expect(second.locator("h1")).to_have_text("Barricades on Abay avenue")
    assert Incident.objects.get(pk=incident.pk).injured == 17


def test_select_all_on_the_page_and_assign_only_by_choice(page, server, live_world):
    """The list had no select-all; 'Assign to…' with no name unassigned the selection."""
    from datetime import datetime

    from django.contrib.auth import get_user_model

    from sitroom.incidents.models import Incident
    from sitroom.incidents.services import assign, report_incident

    load_incident_types(actor=Actor.system_actor("tests"), source="cli")
    duty = get_user_model().objects.get(username="duty")
    made = [report_incident(actor=duty, source="web", type="riots", title=title,
                            area="KZ-ALA",
                            occurred_at=datetime.fromisoformat("2022-01-05T10:00:00+06:00"))[0]
            for title in ("Bank looted", "Akimat stormed", "Cars burned")]
    assign(made, "duty", actor=duty, source="web")
    sign_in(page, server, "duty", PASSWORD)
    page.goto(server + "/incidents/")
    boxes = page.locator("#incident-list input[name=ids]")
    expect(boxes).to_have_count(3)
    selected = page.locator("#bulk-selected")
    expect(selected).to_have_text("Selected: 0 of 3")

    page.check("#select-all")
    for i in range(3):
        expect(boxes.nth(i)).to_be_checked()
    expect(selected).to_have_text("Selected: 3 of 3")
    boxes.nth(1).uncheck()
    expect(selected).to_have_text("Selected: 2 of 3")
    assert page.locator("#select-all").evaluate("box => box.indeterminate")
    page.click("#select-all")  # a partial selection: the box ticks all again
    expect(selected).to_have_text("Selected: 3 of 3")
    page.uncheck("#select-all")
    expect(selected).to_have_text("Selected: 0 of 3")
    expect(boxes.nth(0)).not_to_be_checked()
    page.check("#select-all")

    # Assign to… left on its placeholder: refused, nothing changes.
    page.select_option("#bulk-action", "assign")
    page.click("#bulk-form button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Assign to: choose a person")
    assert set(Incident.objects.values_list("assignee__username", flat=True)) == {"duty"}
    # Unassigning is chosen as such.
    page.check("#select-all")
    page.select_option("#bulk-action", "assign")
    page.select_option("#bulk-assignee", label="— nobody (unassign) —")
    page.click("#bulk-form button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("3 incident(s) unassigned.")
    assert set(Incident.objects.values_list("assignee", flat=True)) == {None}


def test_back_and_forward_show_one_filter_in_the_controls_the_list_and_the_map(
        page, server, live_world):
    """After Back, the list showed one filter's incidents and the form another's values
    (htmx restored a snapshot of the page, whose controls kept their first values) and
    the map no longer answered. Now every part of the page shows the address's filter."""
    from datetime import datetime

    from sitroom.incidents.services import report_incident

    load_incident_types(actor=Actor.system_actor("tests"), source="cli")
    for title, itype, area, lat, lon in (
            ("March on the square", "protests", "KZ-ALA", 43.238, 76.945),
            ("Bank looted", "riots", "KZ-ALA", 43.25, 76.92),
            ("Strike at Zhanaozen", "protests", "KZ-MAN", 43.34, 52.86)):
        report_incident(actor=Actor.system_actor("tests"), source="cli", type=itype,
                        title=title, area=area, lat=lat, lon=lon,
                        occurred_at=datetime.fromisoformat("2022-01-05T10:00:00+06:00"))
    sign_in(page, server, "viewer", PASSWORD)
    page.goto(server + "/incidents/")
    expect(page.locator("#incident-map")).to_have_attribute("data-ready", "true")
    rows = page.locator("#incident-list tbody tr[data-id]")
    area = page.locator("#incident-filter select[name=area]")
    itype = page.locator("#incident-filter select[name=type]")
    csv = page.locator("#incident-exports a[data-format=csv]")

    def agree(titles, area_code, type_code):
        expect(area).to_have_value(area_code)
        expect(itype).to_have_value(type_code)
        expect(rows).to_have_count(len(titles))
        for title in titles:
            expect(page.locator("#incident-list")).to_contain_text(title)
        expect(page.locator("#incident-list .timeline-count")).to_contain_text(
            f"{len(titles)} incident")
        query = "&".join(p for p in (f"area={area_code}" if area_code else "",
                                     f"type={type_code}" if type_code else "") if p)
        expect(csv).to_have_attribute("href", re.compile(
            re.escape(query) + "$" if query else r"export\.csv$"))
        _map_total(page, len(titles))

    itype.select_option("protests")
    expect(page).to_have_url(re.compile(r"area=&type=protests&"))
    first = page.url
    agree(["March on the square", "Strike at Zhanaozen"], "", "protests")
    area.select_option("KZ-MAN")
    expect(page).to_have_url(re.compile(r"area=KZ-MAN&type=protests&"))
    second = page.url
    agree(["Strike at Zhanaozen"], "KZ-MAN", "protests")

    page.go_back()
    expect(page).to_have_url(first)
    agree(["March on the square", "Strike at Zhanaozen"], "", "protests")
    page.go_back()
    expect(page).to_have_url(server + "/incidents/")
    agree(["March on the square", "Bank looted", "Strike at Zhanaozen"], "", "")
    page.go_forward()
    expect(page).to_have_url(first)
    agree(["March on the square", "Strike at Zhanaozen"], "", "protests")
    page.go_forward()
    expect(page).to_have_url(second)
    agree(["Strike at Zhanaozen"], "KZ-MAN", "protests")
    # The page still works after all that: a new filter applies everywhere.
    itype.select_option("")
    agree(["Strike at Zhanaozen"], "KZ-MAN", "")


def _rgb(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    return "rgb({}, {}, {})".format(*(int(h[i:i + 2], 16) for i in (0, 2, 4)))


def test_the_map_colours_severities_as_the_list_does_and_has_a_legend(browser, page, server,
                                                                      live_world):
    """The map's circles had colours of their own (a minor incident was yellow on the map,
    grey in the list) and no legend said what they meant."""
    from datetime import datetime

    from sitroom.incidents.services import report_incident

    load_incident_types(actor=Actor.system_actor("tests"), source="cli")
    for title, severity, area, lat, lon in (("Akimat stormed", 5, "KZ-ALA", 43.238, 76.945),
                                            ("Leaflets handed out", 1, "KZ-MAN", 43.34, 52.86)):
        report_incident(actor=Actor.system_actor("tests"), source="cli", type="protests",
                        title=title, area=area, lat=lat, lon=lon, severity=severity,
                        occurred_at=datetime.fromisoformat("2022-01-05T10:00:00+06:00"))
    sign_in(page, server, "viewer", PASSWORD)
    page.goto(server + "/incidents/")
    _map_total(page, 2)
    legend = page.locator("#incident-map-legend [data-severity]")
    expect(legend).to_have_text(["Minor", "Moderate", "Serious", "Severe", "Critical"])
    # A group of incidents in one circle takes the colour of its highest severity, zoomed
    # out or in, and the legend says so.
    expect(page.locator("#incident-map-groups")).to_have_text(
        "groups: the highest severity in them")
    for title, severity, word in (("Akimat stormed", 5, "Critical"),
                                  ("Leaflets handed out", 1, "Minor")):
        badge = page.locator("#incident-list tr", has_text=title).locator(".sev")
        expect(badge).to_have_text(word)
        in_list = badge.evaluate("e => getComputedStyle(e).backgroundColor")
        circle = page.locator(f"#incident-map path.incident-cell.sev-{severity}")
        expect(circle).to_have_count(1)
        assert _rgb(circle.get_attribute("fill")) == in_list
        swatch = page.locator(f"#incident-map-legend [data-severity='{severity}'] .sev-swatch")
        assert swatch.evaluate("e => getComputedStyle(e).backgroundColor") == in_list
        circle.hover()  # the words, not the colour alone
        expect(page.locator("#incident-map .leaflet-tooltip", has_text=word)).to_be_visible()

    russian = browser.new_context(viewport={"width": 1400, "height": 900}, locale="ru-RU")
    other = russian.new_page()
    sign_in(other, server, "viewer", PASSWORD)
    other.goto(server + "/incidents/")
    expect(other.locator("#incident-map-legend")).to_contain_text("Тяжесть:")
    expect(other.locator("#incident-map-legend [data-severity='5']")).to_have_text(
        "Критическая")
    expect(other.locator("#incident-map-groups")).to_have_text(
        "группы: по наибольшей тяжести в них")
    russian.close()


_CIRCLES = """map => [...map.querySelectorAll("path.incident-cell")].map(c => {
    const r = c.getBoundingClientRect();
    return {x: r.x + r.width / 2, y: r.y + r.height / 2, r: r.width / 2};
})"""


def test_no_circle_on_the_map_hides_another_or_its_count(page, server, demo_world):
    """Neighbouring cells' circles were drawn over each other: at the country's zoom a
    small circle hid most of Almaty's count, and Mangystau's two counts were printed one
    over the other. Circles that would overlap are drawn as one, with the sum."""
    sign_in(page, server, "viewer", PASSWORD)
    page.goto(server + "/incidents/")
    mp = page.locator("#incident-map")
    expect(mp).to_have_attribute("data-ready", "true")
    total = int(mp.get_attribute("data-total"))
    assert total == _expected()[1]
    circles = mp.evaluate(_CIRCLES)
    assert 1 < len(circles) < int(mp.get_attribute("data-cells"))  # some cells were joined
    for i, a in enumerate(circles):
        for b in circles[i + 1:]:
            apart = ((a["x"] - b["x"]) ** 2 + (a["y"] - b["y"]) ** 2) ** 0.5
            assert apart >= a["r"] + b["r"], (a, b)
    # Each incident is counted once: the counts printed, and 1 for each circle without.
    counts = [int(t) for t in mp.locator(".cell-count").all_inner_texts()]
    assert sum(counts) + (len(circles) - len(counts)) == total
    # A count is printed in the ink the list's badge of that severity uses on that fill:
    # white on a yellow circle could not be read.
    inks = mp.evaluate("""map => [...map.querySelectorAll(".cell-count")].map(t => {
        const sev = [...t.classList].find(c => c.startsWith("ink-")).slice(4);
        const badge = document.querySelector("#incident-list .sev" + sev);
        return [getComputedStyle(t).color, badge && getComputedStyle(badge).color];
    })""")
    assert inks and all(badge in (None, ink) for ink, badge in inks), inks
    assert any(badge for _ink, badge in inks)
    # the regions' outlines are credited as their licence (CC BY) asks
    expect(mp.locator(".leaflet-control-attribution")).to_contain_text("CC BY")
    # A joined circle opens onto what it joined: a click zooms in to its cells.
    biggest = max(circles, key=lambda c: c["r"])
    zoom = float(mp.get_attribute("data-zoom"))
    mp.evaluate("map => map.dataset.ready = 'false'")
    page.mouse.click(biggest["x"], biggest["y"])
    expect(mp).to_have_attribute("data-ready", "true")
    assert float(mp.get_attribute("data-zoom")) > zoom
    assert len(mp.evaluate(_CIRCLES)) > 1


def test_an_open_incident_page_follows_its_facts_live(browser, page, server, live_world):
    """The page refreshed its history live but kept the old title, description, buttons
    and map: a duty officer could press Verify on an incident closed a minute before."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from sitroom.incidents.services import assign, report_incident

    load_incident_types(actor=Actor.system_actor("tests"), source="cli")
    duty = get_user_model().objects.get(username="duty")
    incident = report_incident(actor=duty, source="web", type="riots",
                               title="Barricades on Abay avenue", area="KZ-ALA",
                               lat=43.238, lon=76.945, severity=2,
                               occurred_at=timezone.now())[0]
    watcher = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    sign_in(watcher, server, "duty", PASSWORD)
    watcher.goto(f"{server}/incidents/{incident.uid}/")
    expect(watcher.locator("#live-status")).to_have_attribute("data-state", "live")
    expect(watcher.locator("#incident-where")).to_have_attribute("data-ready", "true")
    expect(watcher.locator("#incident-actions button[value=verify]")).to_have_count(1)

    # Someone else, on their own page, corrects the facts, then closes the incident.
    sign_in(page, server, "director", PASSWORD)
    page.goto(f"{server}/incidents/{incident.uid}/edit")
    page.fill("#id_title", "Barricades burned on Abay avenue")
    page.select_option("#id_type", "protests")
    page.select_option("#id_severity", "5")
    page.fill("#id_fatalities", "3")
    page.fill("#id_description", "Two buses set alight.")
    page.click("#incident-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Barricades burned on Abay avenue")
    page.click("#incident-actions button[value=close]")
    expect(page.locator("#incident-status")).to_contain_text("Closed")
    assign([incident], "director", actor=get_user_model().objects.get(username="director"),
           source="web")

    expect(watcher.locator("#incident-title")).to_have_text("Barricades burned on Abay avenue")
    facts = watcher.locator("#incident-facts")
    expect(facts).to_contain_text("Protests")
    expect(watcher.locator("#incident-severity")).to_have_text("Critical")
    expect(facts).to_contain_text("3 / –")
    expect(facts.locator("dd").nth(7)).to_have_text("director")  # Assigned to
    expect(watcher.locator("#incident-description")).to_have_text("Two buses set alight.")
    expect(watcher.locator("#incident-status")).to_contain_text("Closed")
    expect(watcher.locator("#incident-actions button[value=verify]")).to_have_count(0)
    expect(watcher.locator("#incident-actions button[value=reopen]")).to_have_count(1)
    expect(watcher.locator("#incident-history tr")).to_have_count(4)
    marker = watcher.locator("#incident-where path.leaflet-interactive")
    expect(marker).to_have_attribute("fill", "#b71c1c")  # the critical colour of the list
    watcher.context.close()
