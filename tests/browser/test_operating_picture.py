"""The operating picture in a real Chromium, against a real server process."""

import json
import re

import httpx
import pytest
from django.conf import settings
from playwright.sync_api import expect

from sitroom.accounts.services import create_token
from sitroom.core.actors import Actor
from sitroom.testing.world import PASSWORD

from .conftest import sign_in

pytestmark = pytest.mark.browser


def region_codes():
    data = json.loads((settings.BOUNDARIES_DIR / "kz-regions.geojson").read_text())
    return [f["properties"]["iso_3166_2"] for f in data["features"]]


def test_sign_in_and_see_the_17_regions_on_the_map(page, server, demo_world):
    sign_in(page, server, "viewer", PASSWORD)
    expect(page.locator("#map")).to_have_attribute("data-ready", "true")
    codes = region_codes()
    assert len(codes) == 17
    for code in codes:
        expect(page.locator(f"path.area-code-{code}")).to_have_count(1)
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    page.screenshot(path=str(settings.SITROOM_HOME / "cop.png"))


_LABELS = """() => [...document.querySelectorAll("#map .leaflet-tooltip.area-label")]
    .filter(t => getComputedStyle(t).visibility === "visible")
    .map(t => { const r = t.getBoundingClientRect();
                return {text: t.textContent, l: r.left, r: r.right, t: r.top, b: r.bottom}; })"""


def test_the_maps_standing_labels_never_print_over_each_other(page, server, demo_world):
    """Mangystau's towns (Aktau, Zhanaozen, Zhetibay) printed their names over one
    another and over the region's; the busier area's label is kept, the others show on
    hover."""
    sign_in(page, server, "viewer", PASSWORD)
    mp = page.locator("#map")
    expect(mp).to_have_attribute("data-ready", "true")

    def clashes():
        shown = page.evaluate(_LABELS)
        return shown, [(a["text"], b["text"]) for i, a in enumerate(shown)
                       for b in shown[i + 1:]
                       if a["l"] < b["r"] and b["l"] < a["r"] and a["t"] < b["b"]
                       and b["t"] < a["b"]]

    shown, overlapping = clashes()
    assert not overlapping
    assert int(mp.get_attribute("data-labels-hidden")) > 0
    assert any(label["text"].startswith("Almaty\u00a0·") for label in shown)  # the busiest
    # A hidden town's name shows while the pointer is on it.
    hidden = page.locator("#map .leaflet-tooltip.area-label.label-hidden").first
    code = hidden.evaluate("""t => [...t.classList].find(c => c.startsWith("label-of-"))
                                  .slice(9)""")
    expect(hidden).not_to_be_visible()
    page.locator(f"#map path.area-code-{code}").first.hover()
    expect(hidden).to_be_visible()
    # Zoomed in, there is room: fewer labels are hidden, and still none is over another.
    before = int(mp.get_attribute("data-labels-hidden"))
    page.locator("#map .leaflet-control-zoom-in").click()
    page.locator("#map .leaflet-control-zoom-in").click()
    page.wait_for_function(f"() => Number(document.getElementById('map').dataset"
                           f".labelsHidden) < {before}")
    assert not clashes()[1]


def test_switch_to_russian(page, server, demo_world):
    sign_in(page, server, "viewer", PASSWORD)
    page.select_option("#language-select", "ru")
    expect(page.locator("nav.mainnav")).to_contain_text("Оперативная обстановка")
    expect(page.locator("#map")).to_have_attribute("data-ready", "true")
    expect(page.locator(".leaflet-tooltip", has_text="Алматинская область")).to_have_count(1)
    expect(page.locator("label[for=id_as_of_control]")).to_have_text("Обстановка на")


def test_as_of_shows_only_what_was_known_then(page, server, demo_world):
    sign_in(page, server, "viewer", PASSWORD)
    page.fill("#id_as_of_control", "2022-01-05T12:00")
    page.click("#asof-form button[type=submit]")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "past")
    timeline = page.locator("#timeline-list")
    # Known by then: the evening of 4 January in Almaty.
    expect(timeline).to_contain_text("Republic Square")
    # Not yet known: the airport (stormed on the evening of 5 January), CSTO decisions.
    times = timeline.locator("time").evaluate_all("els => els.map(e => e.dateTime)")
    assert times and max(times) <= "2022-01-05T12:00:00+06:00"
    expect(timeline).not_to_contain_text("airport")


def test_entry_posted_through_the_api_appears_live(page, server, demo_world):
    from django.contrib.auth import get_user_model

    sign_in(page, server, "viewer", PASSWORD)
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    duty = get_user_model().objects.get(username="duty")
    _token, secret = create_token(duty, "browser-test", actor=Actor(user=duty), source="cli")
    r = httpx.post(server + "/api/v1/journal", headers={"Authorization": f"Bearer {secret}"},
                   json={"kind": "event", "summary": "Metro service resumes on line 1",
                         "area": "KZ-ALA"})
    assert r.status_code == 201, r.text
    entry = page.locator(f"#entry-{r.json()['seq']}")
    expect(entry).to_contain_text("Metro service resumes on line 1")
    expect(entry).to_have_class("entry kind-event fresh")


def test_record_an_entry_from_the_page(page, server, demo_world):
    sign_in(page, server, "duty", PASSWORD)
    page.select_option("#id_entry-kind", "event")
    page.fill("#id_entry-summary", "Checkpoint set up at Sairan")
    page.select_option("#id_entry-area", "KZ-ALA")
    page.click("#entry-form button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Entry recorded.")
    expect(page.locator("#timeline-list li").first).to_contain_text("Checkpoint set up at Sairan")


def test_filtering_the_timeline(page, server, demo_world):
    sign_in(page, server, "viewer", PASSWORD)
    page.select_option("#id_kind", "decision")
    expect(page.locator("#timeline-list li.kind-decision").first).to_be_visible()
    expect(page.locator("#timeline-list li:not(.kind-decision)")).to_have_count(0)
    assert "kind=decision" in page.url


def test_the_live_timeline_follows_a_filter_changed_on_the_page(page, server, live_world):
    from sitroom.core.services import record_entry

    def record(kind, summary, area="KZ-ALA"):
        return record_entry(actor=Actor.system_actor("another-desk"), source="cli", kind=kind,
                            summary=summary, area=live_world.areas[area])

    sign_in(page, server, "viewer", PASSWORD)
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    timeline = page.locator("#timeline-list")

    # Kind, chosen on the page (an htmx swap, no reload): only decisions come live.
    page.select_option("#id_kind", "decision")
    expect(page).to_have_url(re.compile(r"kind=decision"))
    expect(timeline.locator("li.empty")).to_have_count(1)
    other = record("note", "A note while only decisions are shown")
    chosen = record("decision", "A decision while only decisions are shown")
    expect(page.locator(f"#entry-{chosen.seq}")).to_be_visible()
    # The stream is in journal order: the note would have come before the decision.
    expect(page.locator(f"#entry-{other.seq}")).to_have_count(0)

    # Then the area too: a decision elsewhere stays out, one in Mangystau comes in.
    page.select_option("#id_area", "KZ-MAN")
    expect(page).to_have_url(re.compile(r"area=KZ-MAN"))
    expect(timeline.locator("li.empty")).to_have_count(1)
    elsewhere = record("decision", "A decision in Almaty", area="KZ-ALA")
    here = record("decision", "A decision in Aktau", area="KZ-MAN")
    expect(page.locator(f"#entry-{here.seq}")).to_be_visible()
    expect(page.locator(f"#entry-{elsewhere.seq}")).to_have_count(0)
    expect(timeline.locator("li:not(.kind-decision)")).to_have_count(0)

    # Back to all kinds: a note comes live again.
    page.select_option("#id_kind", "")
    expect(page).not_to_have_url(re.compile(r"kind=decision"))
    expect(timeline.locator("li.empty")).to_have_count(0)
    note = record("note", "A note in Aktau", area="KZ-MAN")
    expect(page.locator(f"#entry-{note.seq}")).to_be_visible()


def test_the_timelines_count_follows_live_and_an_older_page_stays_put(page, server,
                                                                     live_world):
    """The count above the timeline stayed as the page was rendered while entries came
    live, and an older page took the newest entries in at its top."""
    from sitroom.core.models import JournalEntry
    from sitroom.core.services import record_entry

    def record(summary):
        return record_entry(actor=Actor.system_actor("another-desk"), source="cli",
                            kind="note", summary=summary, area=live_world.areas["KZ-ALA"])

    for i in range(60):  # more than one page (50 entries)
        record(f"Earlier note {i}")
    total = JournalEntry.objects.count()
    sign_in(page, server, "viewer", PASSWORD)
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    count = page.locator("#timeline-count")
    expect(count).to_have_text(f"{total} entries")
    fresh = record("Water restored in Almaly")
    expect(page.locator(f"#entry-{fresh.seq}")).to_be_visible()
    expect(count).to_have_text(f"{total + 1} entries")

    # the second page: the count follows, the entries stay, a link leads to the newest
    page.click("nav.pager >> text=Older")
    expect(page.locator("#timeline")).to_have_attribute("data-page", "2")
    first = page.locator("#timeline-list > li").first.get_attribute("id")
    newer = record("Gas restored in Almaly")
    expect(count).to_have_text(f"{total + 2} entries")
    expect(page.locator("#newer-entries")).to_be_visible()
    expect(page.locator(f"#entry-{newer.seq}")).to_have_count(0)
    assert page.locator("#timeline-list > li").first.get_attribute("id") == first
    page.click("#newer-entries a")
    expect(page.locator(f"#entry-{newer.seq}")).to_be_visible()
    expect(page.locator("#timeline")).to_have_attribute("data-page", "1")
