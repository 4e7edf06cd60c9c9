"""Whether a recorded flight carries more than its aircraft type allows.

A flight over its seats or its allowable cabin load is recorded all the same (what flew,
flew: in January 2022 one Il-76 took 200 people out of Almaty), and every reader is
warned, naming the movement, the figure and the aircraft's limit. Seats follow the
planner's rule (airlift notes §4): a type seats `troop_seats` with an empty floor and
loses floor seats in proportion to the floor length its vehicles take, down to `seats`.
"""

from __future__ import annotations

import math
from typing import Any

from .models import Movement, Vehicle
from .planner.model import Problem

PERSON_KG: int = Problem.__dataclass_fields__["person_kg"].default  # one person with kit
VEHICLE_GAP_M: float = Problem.__dataclass_fields__["vehicle_gap_m"].default

SEATS, LOAD = "seats", "load"


def _vehicle_rows(movements: list[Movement]) -> dict[tuple[str, str], Vehicle]:
    codes = {item.get("unit") for m in movements for item in m.manifest or []}
    return {(v.unit.code, v.kind): v for v in
            Vehicle.objects.filter(unit__code__in=codes).select_related("unit")}


def load_warnings(movements: list[Movement]) -> list[dict[str, Any]]:
    """For each flight over its aircraft type's seats or allowable cabin load: the
    movement (key and label), the aircraft type, the figure (`seats`: people aboard;
    `load`: kg aboard, vehicles plus PERSON_KG a person), its value and the limit."""
    flights = [m for m in movements if m.aircraft_type_id is not None]
    fleet = _vehicle_rows(flights) if flights else {}
    out: list[dict[str, Any]] = []
    for m in flights:
        k = m.aircraft_type
        people, kg, floor_m = m.personnel(), 0, 0.0
        for item in m.manifest or []:
            people_kg = int(item.get("personnel") or 0) * PERSON_KG
            kg += people_kg
            for kind, n in (item.get("vehicles") or {}).items():
                v = fleet.get((item.get("unit"), kind))
                if v is not None:
                    kg += v.weight_kg * int(n)
                    floor_m += (v.length_m + VEHICLE_GAP_M) * int(n)
        full = max(k.seats, k.troop_seats)
        lost = full - k.seats
        share = min(1.0, floor_m / k.floor_length_m) if k.floor_length_m else 1.0
        seats = full - math.ceil(lost * share) if floor_m else full
        base = {"movement": m.uid, "movement_label": m.label or m.uid,
                "aircraft_type": k.code, "aircraft_name": k.name}
        if people > seats:
            out.append(base | {"code": SEATS, "value": people, "limit": seats,
                               "with_vehicles": bool(floor_m), "person_kg": None})
        if kg > k.acl_kg:
            out.append(base | {"code": LOAD, "value": kg, "limit": k.acl_kg,
                               "with_vehicles": None, "person_kg": PERSON_KG})
    return out
