import pytest

from sitroom.accounts.services import create_user
from sitroom.core.actors import Actor
from sitroom.core.services import save_place
from sitroom.forces import services
from sitroom.testing.world import SYSTEM

T0 = "2022-01-08T14:00:00+06:00"


@pytest.fixture
def force(world):
    """The small world with one Kyrgyz unit guarding CHP-2, relieved on 13 January."""
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
                        "home_airfield": "UCFM", "road_allowed": True, "road_min": 300},
                       actor=SYSTEM, source="cli")
    services.save_vehicles({"unit": "KG-1", "kind": "KamAZ", "count": 8, "weight_kg": 8800,
                            "length_m": 7.9, "width_m": 2.5, "height_m": 3.0,
                            "estimate": True}, actor=SYSTEM, source="cli")
    services.record_guard_post({"key": "G-CHP2", "unit": "KG-1", "place": "CHP2",
                                "start": T0, "travel_min": 30}, actor=SYSTEM, source="cli")
    services.record_relief({"key": "R-CHP2", "place": "CHP2",
                            "relieving_unit": "National Guard",
                            "start": "2022-01-14T06:00:00+06:00"}, actor=SYSTEM, source="cli")
    return world


@pytest.fixture
def director(db):
    """The demo scenario (with its force and generated plan) and a director to read it."""
    from sitroom.core.demo import load_demo

    load_demo()
    user = create_user("director", role="director", all_areas=True,
                       password="long-test-password-1", check_password=False,
                       actor=Actor.system_actor("tests"), source="cli")
    return user


@pytest.fixture
def recorded_gaps(force):
    """`force` with two gaps of the handover rule at CHP-2. The relief begins 06:00 and the
    guard ends 06:30 (30 min short of the 60-min overlap); the convoy leaves 06:40, before
    release (06:30) plus 30 min travel."""
    services.update_guard_post("G-CHP2", {"end": "2022-01-14T06:30:00+06:00"},
                               actor=SYSTEM, source="cli")
    services.record_movement({"key": "KG-ROAD", "kind": "road", "origin_place": "CHP2",
                              "actual_departure": "2022-01-14T06:40:00+06:00",
                              "manifest": [{"unit": "KG-1", "personnel": 150,
                                            "vehicles": {"KamAZ": 8}}]},
                             actor=SYSTEM, source="cli")
    return force
