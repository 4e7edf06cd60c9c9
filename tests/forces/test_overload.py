"""A flight carrying more than its aircraft allows is recorded (what flew, flew: one Il-76
took 200 people out of Almaty in January 2022) and every reader is warned, naming the
movement, the figure and the aircraft's limit: on the API, after the form, on the
board."""

import pytest

from sitroom.forces import services
from sitroom.forces.models import Movement
from sitroom.testing.api import call
from sitroom.testing.world import SYSTEM

FLIGHT = {"kind": "flight", "label": "RA-76777", "aircraft_type": "IL76MD",
          "origin": "UAAA", "destination": "UCFM",
          "actual_departure": "2022-01-14T12:00:00+06:00"}


def _flight(people, vehicles=None, **extra):
    return FLIGHT | {"manifest": [{"unit": "KG-1", "personnel": people,
                                   "vehicles": vehicles or {}}]} | extra


def test_the_api_records_an_overfull_flight_and_warns(force, token_for):
    duty = token_for("duty")
    r = call(duty, "post", "/api/v1/forces/movements", _flight(150))
    assert r.status_code == 201, r.content
    (warning,) = r.json()["warnings"]
    assert (warning["code"], warning["movement"], warning["aircraft_type"],
            warning["value"], warning["limit"]) == ("seats", r.json()["key"], "IL76MD",
                                                    150, 145)
    assert warning["message"] == ("Movement RA-76777 carries 150 people: the Ilyushin "
                                  "Il-76MD seats at most 145")
    assert Movement.objects.filter(label="RA-76777", superseded_at=None).count() == 1
    # the same warning when the movement is read again, listed, and on the board
    key = r.json()["key"]
    assert call(duty, "get", f"/api/v1/forces/movements/{key}").json()["warnings"] == [
        warning]
    assert [m["warnings"] for m in call(duty, "get", "/api/v1/forces/movements").json()
            ] == [[warning]]
    assert call(duty, "get", "/api/v1/forces/board").json()["warnings"] == [warning]
    # and in the reader's language
    ru = call(duty, "get", f"/api/v1/forces/movements/{key}", accept_language="ru").json()
    assert "RA-76777" in ru["warnings"][0]["message"] and "145" in \
        ru["warnings"][0]["message"]
    assert "people" not in ru["warnings"][0]["message"]
    # the aircraft too (its name was kept in English only)
    assert "Ильюшин Ил-76МД" in ru["warnings"][0]["message"]
    assert "Ilyushin" not in ru["warnings"][0]["message"]


def test_over_the_allowable_load_is_named_with_its_figures(force, token_for):
    r = call(token_for("duty"), "post", "/api/v1/forces/movements",
             _flight(10, {"KamAZ": 5}))
    assert r.status_code == 201, r.content
    load, floor = r.json()["warnings"]  # five KamAZ are over the floor as well
    assert (load["code"], load["value"], load["limit"]) == ("load", 45_000, 40_000)
    assert load["message"] == (
        "Movement RA-76777 carries 45000 kg (vehicles and 100 kg a person): the allowable "
        "cabin load of the Ilyushin Il-76MD is 40000 kg")
    assert floor["code"] == "floor"


def test_a_flight_within_the_limits_has_no_warning(force, token_for):
    r = call(token_for("duty"), "post", "/api/v1/forces/movements",
             _flight(30, {"KamAZ": 2}))
    assert r.status_code == 201 and r.json()["warnings"] == []
    assert call(token_for("duty"), "get", "/api/v1/forces/board").json()["warnings"] == []


def test_the_form_records_it_and_the_board_warns(client, force):
    client.force_login(force.users["duty"])
    r = client.post("/forces/movements/new/", {
        "kind": "flight", "label": "RA-76777", "aircraft_type": "IL76MD", "origin": "UAAA",
        "destination": "UCFM", "actual_departure": "2022-01-14T12:00", "unit_1": "KG-1",
        "personnel_1": "150"}, follow=True)
    body = r.content.decode()
    assert r.redirect_chain and r.redirect_chain[-1][0].endswith("/forces/")
    assert "Movement RA-76777 recorded." in body
    warning = "Movement RA-76777 carries 150 people: the Ilyushin Il-76MD seats at most 145"
    assert f'class="msg warning">⚠ {warning}' in body
    section = body[body.index('id="force-overloads"'):]
    assert warning in section[:section.index("</div>")]
    # a viewer reading the board later sees it too; the outsider does not
    client.force_login(force.users["viewer"])
    assert warning in client.get("/forces/").content.decode()
    client.force_login(force.users["outsider"])
    assert "RA-76777" not in client.get("/forces/").content.decode()


# --- the floor: vehicles end to end in lanes, and vehicles too big for the hold -------------

@pytest.fixture
def fleet(force):
    """KG-1's eight KamAZ (7.9 x 2.5 x 3.0 m), and for these tests jeeps, more trucks and
    two vehicles too big for an Il-76's hold (3.46 m wide, 3.4 m high)."""
    for kind, length, width, height, kg in (("UAZ", 4.03, 1.79, 2.05, 2000),
                                            ("Ural", 7.4, 2.5, 2.9, 8000),
                                            ("Bridge layer", 9.0, 3.6, 3.2, 15000),
                                            ("Radar mast", 7.0, 2.8, 3.7, 12000)):
        services.save_vehicles({"unit": "KG-1", "kind": kind, "count": 12, "weight_kg": kg,
                                "length_m": length, "width_m": width, "height_m": height,
                                "estimate": True}, actor=SYSTEM, source="cli")
    return force


def _floor(r):
    assert r.status_code == 201, r.content
    return [w for w in r.json()["warnings"] if w["code"] in ("floor", "outsize")]


def test_vehicles_longer_than_the_floor_are_warned_with_the_rule(fleet, token_for):
    """Three KamAZ need 3 x 7.9 m and two 0.3 m lashing gaps, 24.3 m: more than the
    Il-76's 20 m floor, which takes one of them abreast. Recorded, and warned."""
    duty = token_for("duty")
    r = call(duty, "post", "/api/v1/forces/movements", _flight(10, {"KamAZ": 3}))
    (warning,) = _floor(r)
    assert (warning["code"], warning["value"], warning["limit"], warning["lanes"],
            warning["gap_m"]) == ("floor", 24.3, 20, 1, 0.3)
    assert warning["message"] == (
        "Movement RA-76777 carries vehicles needing 24.3 m of floor (their lengths and "
        "0.3 m between vehicles): the Ilyushin Il-76MD floor takes 20 m, in 1 lane of 20 m "
        "(as many as its width gives the narrowest vehicle aboard)")
    assert Movement.objects.filter(label="RA-76777", superseded_at=None).count() == 1
    key = r.json()["key"]
    assert call(duty, "get", f"/api/v1/forces/movements/{key}").json()["warnings"] == [
        warning]
    assert call(duty, "get", "/api/v1/forces/board").json()["warnings"] == [warning]
    ru = call(duty, "get", f"/api/v1/forces/movements/{key}", accept_language="ru").json()
    assert "24,3" in ru["warnings"][0]["message"] and "RA-76777" in \
        ru["warnings"][0]["message"]
    # two KamAZ (16.1 m) fit
    r = call(duty, "post", "/api/v1/forces/movements",
             _flight(10, {"KamAZ": 2}, label="RA-76778"))
    assert _floor(r) == []


def test_an_an124_takes_vehicles_two_abreast_and_is_warned_only_beyond(fleet, token_for):
    """The An-124's 6.4 m wide floor takes two 2.5 m trucks side by side: eight Urals
    (61.6 m end to end with their gaps) fit its 36.5 m floor in two lanes and get no
    warning; six KamAZ and four Urals (79.4 m) do not fit even in two lanes."""
    duty = token_for("duty")
    an124 = {"aircraft_type": "AN124", "label": "RA-82010"}
    assert _floor(call(duty, "post", "/api/v1/forces/movements",
                       _flight(20, {"Ural": 8}, **an124))) == []
    r = call(duty, "post", "/api/v1/forces/movements",
             _flight(20, {"KamAZ": 6, "Ural": 4}, **an124 | {"label": "RA-82012"}))
    (warning,) = _floor(r)
    assert (warning["value"], warning["limit"], warning["lanes"]) == (79.4, 73, 2)
    assert warning["message"] == (
        "Movement RA-82012 carries vehicles needing 79.4 m of floor (their lengths and "
        "0.3 m between vehicles): the Antonov An-124 Ruslan floor takes 73 m, in 2 lanes "
        "of 36.5 m side by side (as many as its width gives the narrowest vehicle aboard)")


def test_a_vehicle_too_wide_or_too_high_for_the_hold_is_warned(fleet, token_for):
    duty = token_for("duty")
    r = call(duty, "post", "/api/v1/forces/movements",
             _flight(10, {"Bridge layer": 1, "Radar mast": 1}))
    wide, high = _floor(r)
    assert (wide["code"], wide["vehicle"], wide["unit"], wide["dimension"], wide["value"],
            wide["limit"]) == ("outsize", "Bridge layer", "KG-1", "width", 3.6, 3.46)
    assert wide["message"] == ("Movement RA-76777 carries a Bridge layer 3.6 m wide: the "
                               "Ilyushin Il-76MD floor is 3.46 m wide")
    assert (high["dimension"], high["value"], high["limit"]) == ("height", 3.7, 3.4)
    assert high["message"] == ("Movement RA-76777 carries a Radar mast 3.7 m high: the "
                               "Ilyushin Il-76MD hold is 3.4 m high")
    # the An-124's hold (6.4 m wide, 4.4 m high) takes both
    assert _floor(call(duty, "post", "/api/v1/forces/movements",
                       _flight(10, {"Bridge layer": 1, "Radar mast": 1},
                               aircraft_type="AN124", label="RA-82010"))) == []


def test_the_board_warns_of_the_floor_and_counts_flights(client, fleet):
    """Five KamAZ on an Il-76 are over its load and its floor: two warnings, one flight."""
    client.force_login(fleet.users["duty"])
    r = client.post("/forces/movements/new/", {
        "kind": "flight", "label": "RA-76777", "aircraft_type": "IL76MD", "origin": "UAAA",
        "destination": "UCFM", "actual_departure": "2022-01-14T12:00", "unit_1": "KG-1",
        "personnel_1": "10", "vehicles_1": "KamAZ=5"}, follow=True)
    body = r.content.decode()
    floor = ("Movement RA-76777 carries vehicles needing 40.7 m of floor (their lengths "
             "and 0.3 m between vehicles): the Ilyushin Il-76MD floor takes 20 m")
    assert f'class="msg warning">⚠ {floor}' in body
    client.force_login(fleet.users["viewer"])
    body = client.get("/forces/").content.decode()
    section = body[body.index('id="force-overloads"'):]
    section = section[:section.index("</div>")]
    assert "1 flight carries more than its aircraft allows" in section
    assert section.count("<li>") == 2 and floor in section
    client.force_login(fleet.users["outsider"])
    assert "RA-76777" not in client.get("/forces/").content.decode()
