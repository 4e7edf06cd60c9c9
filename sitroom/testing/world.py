"""A small world: Kazakhstan, Almaty with two districts, Mangystau; and the personas.

Personas (password for all: PASSWORD):
- director: sees and does everything;
- duty: duty officer, all areas;
- reporter: field reporter scoped to Almaty city;
- viewer: viewer, all areas (cannot write);
- outsider: analyst scoped to Mangystau only.
"""

from __future__ import annotations

from dataclasses import dataclass

from sitroom.accounts.services import create_user
from sitroom.core.actors import Actor
from sitroom.core.models import Area
from sitroom.core.services import save_area, save_place

PASSWORD = "correct-horse-battery-7"
SYSTEM = Actor.system_actor("tests")

AREAS = [
    {"code": "KZ", "level": "country", "name": "Kazakhstan", "name_ru": "Казахстан",
     "name_kk": "Қазақстан", "lat": 48.0, "lon": 67.0},
    {"code": "KZ-ALA", "level": "city", "parent": "KZ", "name": "Almaty", "name_ru": "Алматы",
     "name_kk": "Алматы", "lat": 43.2155, "lon": 76.9429},
    {"code": "KZ751110", "level": "district", "parent": "KZ-ALA", "name": "Almaly",
     "name_ru": "Алмалинский район", "lat": 43.2522, "lon": 76.9088},
    {"code": "KZ751910", "level": "district", "parent": "KZ-ALA", "name": "Turksib",
     "name_ru": "Турксибский район", "lat": 43.3409, "lon": 76.9857},
    {"code": "KZ-MAN", "level": "region", "parent": "KZ", "name": "Mangystau Region",
     "name_ru": "Мангистауская область", "lat": 44.1075, "lon": 53.9394},
]


@dataclass
class World:
    areas: dict[str, Area]
    users: dict


def build_world() -> World:
    areas = {}
    for data in AREAS:
        areas[data["code"]], _ = save_area(data, actor=SYSTEM, source="cli")
    save_place({"code": "ALA-AIRPORT", "kind": "airport", "name": "Almaty International Airport",
                "lat": 43.35528, "lon": 77.04472, "area": "KZ751910"},
               actor=SYSTEM, source="cli")
    users = {}
    for name, role, all_areas, scope in [
        ("director", "director", True, []),
        ("duty", "duty_officer", True, []),
        ("reporter", "field_reporter", False, ["KZ-ALA"]),
        ("viewer", "viewer", True, []),
        ("outsider", "analyst", False, ["KZ-MAN"]),
    ]:
        users[name] = create_user(name, role=role, password=PASSWORD, all_areas=all_areas,
                                 areas=scope, actor=SYSTEM, source="cli")
    return World(areas=areas, users=users)
