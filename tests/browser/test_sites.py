"""The guarded sites page in a real Chromium: a liaison officer finds it from the force
board, records a national relief for a site and sees it there; a viewer is refused."""

import pytest
from playwright.sync_api import expect

from sitroom.accounts.services import create_user
from sitroom.forces import services
from sitroom.forces.models import Relief
from sitroom.testing.world import PASSWORD, SYSTEM

from .conftest import sign_in
from .test_forces import _small_force

pytestmark = pytest.mark.browser


def test_a_liaison_officer_records_a_relief_and_sees_it(page, server, browser, live_world):
    _small_force()
    services.record_guard_post({"key": "G-AIR", "unit": "KG-1", "place": "ALA-AIRPORT",
                                "start": "2022-01-08T14:00:00+06:00"},
                               actor=SYSTEM, source="cli")
    create_user("liaison", role="liaison", password=PASSWORD, areas=["KZ-ALA"],
                actor=SYSTEM, source="cli")
    sign_in(page, server, "liaison", PASSWORD)
    page.goto(server + "/forces/")
    page.click("#link-sites")
    row = page.locator("#site-ALA-AIRPORT")
    expect(row.locator(".reliefs")).to_contain_text("none recorded")
    expect(page.locator("#site-CHP2 .reliefs")).to_contain_text("National Guard")
    row.get_by_role("link", name="+ relief").click()
    expect(page.locator("#id_place")).to_have_value("ALA-AIRPORT")
    page.fill("#id_relieving_unit", "Airport police")
    page.fill("#id_relieving_unit_ru", "Полиция аэропорта")
    page.fill("#id_start", "2022-01-14T09:00")
    page.click("#save-site")
    expect(page.locator(".messages")).to_contain_text(
        "Airport police takes over Almaty International Airport from 14 Jan 09:00: "
        "recorded.")
    expect(row.locator(".reliefs")).to_contain_text("Airport police")
    expect(row.locator(".reliefs")).to_contain_text("from 14 Jan 2022 09:00")
    page.screenshot(path="/tmp/forces-sites.png", full_page=True)
    assert Relief.objects.get(place__code="ALA-AIRPORT").actor_label.startswith("liaison")

    viewer = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB")
    other = viewer.new_page()
    sign_in(other, server, "viewer", PASSWORD)
    other.goto(server + "/forces/sites/")
    expect(other.locator("#site-ALA-AIRPORT .reliefs")).to_contain_text("Airport police")
    expect(other.locator("#add-relief")).to_have_count(0)
    answer = other.goto(server + "/forces/sites/reliefs/new/")
    assert answer.status == 403
    expect(other.locator("body")).to_contain_text("Only directors, duty officers and "
                                                  "liaison officers record")
    viewer.close()
