"""A flight carrying more than its aircraft allows is recorded (what flew, flew: one Il-76
took 200 people out of Almaty in January 2022) and every reader is warned, naming the
movement, the figure and the aircraft's limit: on the API, after the form, on the
board."""

from sitroom.forces.models import Movement
from sitroom.testing.api import call

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
        ru["warnings"][0]["message"] and "Ильюшин" not in ru["warnings"][0]["message"]
    assert "people" not in ru["warnings"][0]["message"]


def test_over_the_allowable_load_is_named_with_its_figures(force, token_for):
    r = call(token_for("duty"), "post", "/api/v1/forces/movements",
             _flight(10, {"KamAZ": 5}))
    assert r.status_code == 201, r.content
    (warning,) = r.json()["warnings"]
    assert (warning["code"], warning["value"], warning["limit"]) == ("load", 45_000, 40_000)
    assert warning["message"] == (
        "Movement RA-76777 carries 45000 kg (vehicles and 100 kg a person): the allowable "
        "cabin load of the Ilyushin Il-76MD is 40000 kg")


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
