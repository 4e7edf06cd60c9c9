"""Back and Forward on the boards with filters and an as-of moment, in a real Chromium.

After Back, a page showed one moment or filter in its content and another in its controls:
htmx restored its snapshot of the operating picture (controls with their first values, a
dead map), and the browser put back into the as-of fields what had been typed before
leaving. Now every part of each page shows what its address names."""

import re

import pytest
from playwright.sync_api import expect

from sitroom.testing.world import PASSWORD

from .conftest import sign_in

pytestmark = pytest.mark.browser


def _back_and_forward(page, url_of, agree, first, second, start):
    """Go back twice and forward twice, checking the page agrees with its address each
    time; `first`, `second` and `start` are what each address shows."""
    urls = [url_of(s) for s in (start, first, second)]
    for state, url in ((first, urls[1]), (start, urls[0])):
        page.go_back()
        expect(page).to_have_url(url)
        agree(state)
    for state, url in ((first, urls[1]), (second, urls[2])):
        page.go_forward()
        expect(page).to_have_url(url)
        agree(state)


def _map_alive(page, selector):
    # Leaflet marks the element it drew on; a copy of the page's HTML has no map behind it.
    page.wait_for_function("s => !!document.querySelector(s)._leaflet_id", arg=selector)


def test_the_operating_pictures_filters_after_back_and_forward(page, server, demo_world):
    sign_in(page, server, "viewer", PASSWORD)
    kind = page.locator("#filter-form select[name=kind]")
    area = page.locator("#filter-form select[name=area]")
    count = page.locator("#timeline .timeline-count")
    entries = page.locator("#timeline-list li.entry")

    def agree(state):
        kind_code, area_code, total = state
        expect(kind).to_have_value(kind_code)
        expect(area).to_have_value(area_code)
        expect(count).to_have_text(re.compile(rf"^{total} entr"))
        if kind_code:
            expect(entries.first).to_have_class(re.compile(rf"kind-{kind_code}"))
            expect(page.locator(f"#timeline-list li.entry:not(.kind-{kind_code})")
                   ).to_have_count(0)
        _map_alive(page, "#map")

    def count_after_swap(before: str) -> str:
        # the address changes before htmx swaps the timeline in: wait for the new count
        expect(count).not_to_have_text(re.compile(rf"^{re.escape(before)} entr"))
        return count.inner_text().split()[0]

    everything = count.inner_text().split()[0]
    kind.select_option("incident")
    expect(page).to_have_url(re.compile(r"kind=incident"))
    incidents = count_after_swap(everything)
    first = ("incident", "", incidents)
    agree(first)
    area.select_option("KZ-ALA")
    expect(page).to_have_url(re.compile(r"area=KZ-ALA&kind=incident"))
    almaty = count_after_swap(incidents)
    assert int(almaty) < int(incidents) < int(everything.replace(",", ""))
    second = ("incident", "KZ-ALA", almaty)
    agree(second)

    def url_of(state):
        if state[0] == "":
            return server + "/"
        return re.compile(rf"\?area={state[1]}&kind={state[0]}&")

    _back_and_forward(page, url_of, agree, first, second, ("", "", everything))
    # The page still works after all that: a new filter applies to the timeline.
    kind.select_option("decision")
    expect(entries.first).to_have_class(re.compile(r"kind-decision"))  # swapped in
    agree(("decision", "KZ-ALA", count.inner_text().split()[0]))


# Each page with an as-of (or a window) form: its path, the form, the field, two values, and
# where the page says which moment its content is for, as (value -> text) on the page.
PAGES = {
    "operating picture": ("/", "#asof-form", "#id_as_of_control",
                          "#timeline .timeline-count", "as known at {}"),
    "country board": ("/security/board", "#board-form", "#board-form input[name=as_of]",
                      ".pagehead .mode", "As of {}"),
    "lifelines": ("/lifelines/", "#lifelines-form", "#id_as_of", "#live-status",
                  "As known at {}"),
    "force board": ("/forces/", "#force-asof", "#id_as_of", "#live-status",
                    "As known at {}"),
    "guarded sites": ("/forces/sites/", "#sites-asof", "#id_as_of", ".pagehead .mode",
                      "As known at {}"),
}


def test_as_of_after_back_and_forward_on_every_board(page, server, demo_world):
    sign_in(page, server, "viewer", PASSWORD)
    for name, (path, form, field, shown, says) in PAGES.items():
        control = page.locator(field)
        moment = page.locator(shown).first

        def agree(value, control=control, moment=moment, says=says, name=name):
            expect(control, name).to_have_value(value)
            if value:
                expect(moment, name).to_contain_text(says.format(value.replace("T", " ")))
            else:
                expect(page.locator("main"), name).not_to_contain_text(
                    says.format("2022-01-0"))
            if name == "operating picture":
                _map_alive(page, "#map")
            if name == "force board":
                _map_alive(page, "#force-map")
                # The map draws the sites of the board's own moment.
                expect(page.locator("#force-map")).to_have_attribute(
                    "data-sites", str(page.evaluate(
                        "JSON.parse(document.getElementById('force-map-data')"
                        ".textContent).sites.length")))

        def url_of(value, path=path):
            if not value:
                return re.compile(re.escape(server + path) + r"$")
            return re.compile(re.escape(server + path) + r"\?.*as_of=" +
                              re.escape(value.replace(":", "%3A")))

        page.goto(server + path)
        agree("")
        for value in ("2022-01-06T12:00", "2022-01-05T12:00"):
            control.fill(value)
            page.click(f"{form} button[type=submit]")
            expect(page).to_have_url(url_of(value))
            agree(value)
        _back_and_forward(page, url_of, agree, "2022-01-06T12:00", "2022-01-05T12:00", "")


def test_the_gantts_window_after_back_and_forward(page, server, demo_world):
    sign_in(page, server, "viewer", PASSWORD)
    page.goto(server + "/forces/gantt/")
    start, end = page.locator("#gantt-from"), page.locator("#gantt-to")
    span = page.locator("section.card p.sub").first
    opened = (start.input_value(), end.input_value(), span.inner_text().split(", ", 1)[1])

    def agree(window):
        expect(start).to_have_value(window[0])
        expect(end).to_have_value(window[1])
        expect(span).to_contain_text(window[2])

    def url_of(window):
        if window == opened:
            return server + "/forces/gantt/"
        return re.compile(rf"from={window[0]}&to={window[1]}$")

    # A window runs from the start of its first day to the end of its last.
    first = ("2022-01-10", opened[1], f"10 Jan 2022 00:00 – {int(opened[1][-2:]) + 1} Jan")
    second = ("2022-01-10", "2022-01-20", "10 Jan 2022 00:00 – 21 Jan 2022 00:00")
    start.fill(first[0])
    page.click("#gantt-window button[type=submit]")
    expect(page).to_have_url(url_of(first))
    agree(first)
    end.fill(second[1])
    page.click("#gantt-window button[type=submit]")
    expect(page).to_have_url(url_of(second))
    agree(second)
    _back_and_forward(page, url_of, agree, first, second, opened)
