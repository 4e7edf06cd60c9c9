"""The lifelines board in a real Chromium."""

import httpx
import pytest
from playwright.sync_api import expect

from sitroom.accounts.services import create_token
from sitroom.core.actors import Actor
from sitroom.lifelines.services import load_components
from sitroom.testing.world import PASSWORD

from .conftest import sign_in

pytestmark = pytest.mark.browser


def test_a_batch_posted_through_the_api_changes_the_cells_live(page, server, live_world):
    load_components(actor=Actor.system_actor("tests"), source="cli")
    sign_in(page, server, "viewer", PASSWORD)
    page.goto(server + "/lifelines/?area=KZ-ALA")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    row = page.locator("#lifelines tr[data-area=KZ751110]")
    expect(row.locator("td[data-status=red]")).to_have_count(0)

    duty = live_world.users["duty"]
    _token, secret = create_token(duty, "utility", actor=Actor(user=duty), source="cli")
    r = httpx.post(server + "/api/v1/lifelines/status/batch",
                   headers={"Authorization": f"Bearer {secret}"},
                   json={"items": [
                       {"area": "KZ751110", "component": "electricity", "status": "red"},
                       {"area": "KZ751110", "component": "water_supply", "status": "yellow"},
                   ]})
    assert r.status_code == 201, r.text
    expect(row.locator("td[data-status=red]")).to_have_count(1)
    expect(row.locator("td[data-status=yellow]")).to_have_count(1)
    expect(row.locator(".summary-line")).to_contain_text("Electricity: not operating")
    # The city row rolls the district up.
    expect(page.locator("#lifelines tr[data-area=KZ-ALA] td[data-status=red]")).to_have_count(1)

    r = httpx.post(server + "/api/v1/lifelines/status/batch",
                   headers={"Authorization": f"Bearer {secret}"},
                   json={"items": [
                       {"area": "KZ751110", "component": "metro", "status": "green"},
                       {"area": "KZ751110", "component": "nonsense", "status": "green"},
                   ]})
    assert r.status_code == 422 and "items[1].component" in r.text
    page.reload()
    expect(row.locator("td[data-status=green]")).to_have_count(0)


def test_the_demo_board_on_6_and_12_january(page, server, demo_world):
    sign_in(page, server, "viewer", PASSWORD)
    page.goto(server + "/lifelines/?area=KZ-ALA")
    almaty = page.locator("#lifelines tr[data-area=KZ-ALA]")

    def cell(code):
        index = page.evaluate(
            "code => JSON.parse(document.getElementById('lifeline-components').textContent)"
            ".indexOf(code)", code)
        return almaty.locator(f"td[data-component='{index}']")

    page.fill("#id_as_of", "2022-01-06T12:00")
    page.click("#lifelines-form button[type=submit]")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "past")
    expect(cell("internet")).to_have_attribute("data-status", "red")
    expect(cell("retail")).to_have_attribute("data-status", "red")
    page.fill("#id_as_of", "2022-01-12T18:00")
    page.click("#lifelines-form button[type=submit]")
    expect(cell("district_heating")).to_have_attribute("data-status", "green")
    expect(cell("retail")).to_have_attribute("data-status", "yellow")
    expect(cell("internet")).not_to_have_attribute("data-status", "red")
    expect(almaty.locator(".summary-line")).to_contain_text("District heating")
    page.screenshot(path=str(settings_home() / "lifelines-12jan.png"), full_page=True)


def settings_home():
    from django.conf import settings

    return settings.SITROOM_HOME
