import pytest

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
