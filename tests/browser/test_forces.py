"""The force pages in a real Chromium: the planner on the demo force, the board changing
live when a flight is recorded elsewhere, and a plan with a handover gap refused."""

from datetime import datetime

import pytest
from playwright.sync_api import expect

from sitroom.core.services import save_place
from sitroom.forces import services
from sitroom.testing.world import PASSWORD, SYSTEM

from .conftest import sign_in

pytestmark = pytest.mark.browser
T0 = "2022-01-08T14:00:00+06:00"


def _small_force():
    """One Kyrgyz unit (150 personnel, 8 trucks) guarding CHP-2, relieved on 14 January."""
    save_place({"code": "CHP2", "kind": "power_plant", "name": "CHP-2", "lat": 43.29,
                "lon": 76.80, "area": "KZ751110"}, actor=SYSTEM, source="cli")
    services.load_aircraft_types(actor=SYSTEM)
    services.update_aircraft_type("IL76MD", {"airframes_available": 4}, actor=SYSTEM,
                                  source="cli")
    services.save_airfield({"code": "UAAA", "name": "Almaty", "place": "ALA-AIRPORT",
                            "role": "apoe", "max_on_ground": 6}, actor=SYSTEM, source="cli")
    services.save_airfield({"code": "UCFM", "name": "Manas", "lat": 43.06, "lon": 74.48,
                            "role": "apod"}, actor=SYSTEM, source="cli")
    services.save_contingent({"code": "KG", "state": "KG", "name": "Kyrgyz contingent",
                              "area": "KZ-ALA", "personnel_declared": 150},
                             actor=SYSTEM, source="cli")
    services.save_unit({"code": "KG-1", "contingent": "KG", "name": "Kyrgyz unit",
                        "personnel": 150, "arrived_at": T0, "departure_airfield": "UAAA",
                        "home_airfield": "UCFM"}, actor=SYSTEM, source="cli")
    services.save_vehicles({"unit": "KG-1", "kind": "KamAZ", "count": 8, "weight_kg": 8800,
                            "length_m": 7.9, "width_m": 2.5, "height_m": 3.0},
                           actor=SYSTEM, source="cli")
    services.record_guard_post({"key": "G-CHP2", "unit": "KG-1", "place": "CHP2",
                                "start": T0, "end": "2022-01-14T08:00:00+06:00",
                                "travel_min": 30}, actor=SYSTEM, source="cli")
    services.record_relief({"key": "R-CHP2", "place": "CHP2",
                            "relieving_unit": "National Guard",
                            "start": "2022-01-14T06:00:00+06:00"}, actor=SYSTEM, source="cli")


def test_run_the_planner_on_the_demo_force(page, server, demo_world):
    sign_in(page, server, "duty", PASSWORD)
    page.goto(server + "/forces/plan/")
    listed = page.locator("#plan-list tbody tr a").count()
    page.fill("#id_time_limit", "6")
    page.click("#run-planner")
    expect(page.locator("#plan-run")).to_have_attribute("data-state", "running")
    expect(page.locator("#run-elapsed")).not_to_have_text("0.0")
    page.screenshot(path="/tmp/forces-plan-running.png", full_page=True)
    expect(page.locator("#plan-result")).to_be_visible(timeout=90_000)
    expect(page.locator("#sorties tbody tr").first).to_be_visible()
    assert page.locator("#sorties tbody tr").count() > 10
    ratio = float(page.locator("#plan-ratio").inner_text())
    assert 1.0 <= ratio < 3.0
    expect(page.locator("#plan-result")).to_contain_text("closure ÷ best bound")
    expect(page.locator("#closure-bounds .binding")).to_have_count(1)
    expect(page.locator("#sortie-bounds")).to_contain_text("L2")
    expect(page.locator("#plan-baseline")).to_contain_text("first-fit-decreasing")
    # the new plan joins the list of recent plans beside it, without a reload
    expect(page.locator("#plan-list tbody tr a")).to_have_count(listed + 1)
    page.screenshot(path="/tmp/forces-plan.png", full_page=True)
    page.goto(server + "/forces/gantt/")
    expect(page.locator("#gantt rect.planned").first).to_be_attached()
    expect(page.locator("#gantt rect.actual").first).to_be_attached()
    page.screenshot(path="/tmp/forces-gantt.png", full_page=True)
    page.goto(server + "/forces/")
    expect(page.locator("#force-table tr[data-contingent]")).to_have_count(5)
    expect(page.locator("#force-map .site-marker").first).to_be_attached()
    # Sites known only to the city share a point: one marker says how many, its popup
    # lists them all (one dot with one reachable popup hid three of four).
    stacked = page.locator("#force-map .site-count")
    expect(stacked.first).to_be_attached()
    assert int(stacked.first.inner_text()) >= 2
    # The map says where it is: the airfields named on it, inside the map, Almaty's
    # outline and name, and the outlines' source and licence (CC BY) credited.
    fm = page.locator("#force-map")
    expect(fm).to_have_attribute("data-outlined", "true")
    names = fm.locator(".airfield-label")
    box = fm.bounding_box()
    labels = names.evaluate_all("els => els.map(e => { const r = e.getBoundingClientRect();"
                                " return [e.textContent, r.left, r.right]; })")
    assert len(labels) == 2 and any("Zhetygen" in t for t, _l, _r in labels), labels
    assert all(box["x"] <= left and right <= box["x"] + box["width"] for _t, left, right in labels)
    expect(fm.locator(".area-label-city", has_text="Almaty")).to_be_visible()
    expect(fm.locator(".leaflet-control-attribution")).to_contain_text("CC BY")
    page.screenshot(path="/tmp/forces-board-demo.png", full_page=True)


def test_a_recorded_flight_changes_the_board_live(page, server, browser, live_world):
    _small_force()
    sign_in(page, server, "viewer", PASSWORD)
    page.goto(server + "/forces/")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    expect(page.locator("#force-personnel")).to_have_text("150")
    expect(page.locator("#force-map .site-guarded")).to_have_count(0)  # guard has ended

    other = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB")
    duty = other.new_page()
    sign_in(duty, server, "duty", PASSWORD)
    duty.goto(server + "/forces/movements/new/")
    duty.select_option("#id_kind", "flight")
    duty.fill("#id_label", "RA-78830")
    duty.select_option("#id_origin", "UAAA")
    duty.select_option("#id_destination", "UCFM")
    duty.fill("#id_actual_departure", "2022-01-14T10:00")
    duty.select_option("#id_unit_1", "KG-1")
    duty.fill("#id_personnel_1", "60")
    duty.fill("#id_vehicles_1", "KamAZ=3")
    duty.click("#movement-form button[type=submit]")
    # No aircraft type: the form says which field is wrong and records nothing.
    expect(duty.locator("[data-field=aircraft_type]")).to_contain_text("required")
    duty.screenshot(path="/tmp/forces-movement.png", full_page=True)
    duty.select_option("#id_aircraft_type", "IL76MD")
    duty.click("#movement-form button[type=submit]")
    duty.wait_for_url(server + "/forces/")
    other.close()

    expect(page.locator("#force-personnel")).to_have_text("90")
    expect(page.locator("#force-vehicles")).to_have_text("5")
    page.screenshot(path="/tmp/forces-board.png", full_page=True)


def test_approving_a_plan_that_leaves_a_site_unguarded_is_refused(page, server, live_world):
    from sitroom.forces.planning import problem_from_db

    _small_force()
    # The relief is late: it begins only 30 minutes before the Kyrgyz guard ends.
    services.update_relief("R-CHP2", {"start": "2022-01-14T07:30:00+06:00"}, actor=SYSTEM,
                           source="cli")
    problem = problem_from_db(start=datetime.fromisoformat("2022-01-13T00:00:00+06:00"))
    site = problem.sites[0]
    plan = {"status": "feasible", "start": problem.start.isoformat(), "sorties": [],
            "road_moves": [{"unit": "KG-1", "depart": "2022-01-14T12:00:00+06:00",
                            "arrive": "2022-01-14T17:00:00+06:00"}],
            "handovers": [{"site": site.id, "unit": "KG-1",
                           "relief_start": "2022-01-14T07:30:00+06:00",
                           "guard_end": "2022-01-14T08:00:00+06:00",
                           "unit_release": "2022-01-14T08:00:00+06:00"}]}
    row = services.save_plan(plan, SYSTEM, problem=problem)

    sign_in(page, server, "director", PASSWORD)
    page.goto(server + f"/forces/plan/?plan={row.pk}")
    expect(page.locator("#plan-gaps")).to_contain_text("CHP-2")
    page.click("#approve-plan")
    refusal = page.locator("#approve-errors")
    expect(refusal).to_contain_text("Approval refused")
    expect(refusal).to_contain_text("CHP-2")
    expect(refusal).to_contain_text("08:00")
    expect(refusal).to_contain_text("30 min short")
    page.screenshot(path="/tmp/forces-approve-refused.png", full_page=True)
    page.goto(server + "/forces/")
    expect(page.locator("#force-gaps")).to_contain_text("CHP-2")


def test_stop_keeps_the_best_plan_so_far(page, server, demo_world):
    sign_in(page, server, "duty", PASSWORD)
    page.goto(server + "/forces/plan/")
    page.fill("#id_time_limit", "120")
    page.click("#run-planner")
    expect(page.locator("#run-elapsed")).not_to_have_text("0.0")
    page.wait_for_timeout(4000)
    page.click("#stop-run")
    expect(page.locator("#plan-result")).to_be_visible(timeout=60_000)
    expect(page.locator("#run-state")).to_have_text("Stopped")
    assert float(page.locator("#plan-ratio").inner_text()) >= 1.0
    assert float(page.locator("#run-elapsed").inner_text()) < 60
