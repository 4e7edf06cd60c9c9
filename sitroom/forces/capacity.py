"""Whether a recorded flight carries more than its aircraft type allows.

A flight over its seats, its allowable cabin load or its floor is recorded all the same
(what flew, flew: in January 2022 one Il-76 took 200 people out of Almaty), and every
reader is warned, naming the movement, the figure and the aircraft's limit. Seats follow
the planner's rule (airlift notes §4): a type seats `troop_seats` with an empty floor and
loses floor seats in proportion to the floor length its vehicles take, down to `seats`.

The floor (`floor_warnings`): a vehicle wider or higher than the hold, or longer than the
floor, is outsize. Vehicles stand in lanes along the floor, as many lanes as the floor's
width takes of the narrowest vehicle aboard (at least one: an An-124's 6.4 m floor takes
two 2.9 m BMDs side by side, an Il-76's 3.46 m floor one). Each vehicle takes its length
plus the planner's lashing gap between it and the next in its lane (`Capacity.floor_of`:
length + gap a vehicle, against the floor length + one gap). A flight is warned only when
the vehicles could not stand even in that many lanes filled end to end:
sum(length + gap) > lanes x (floor length + gap). This is a bound, so the warning is never
wrong; a mix that passes it might still be awkward to load.
"""

from __future__ import annotations

import math
from typing import Any

from .models import Movement, Vehicle
from .planner.model import Problem

PERSON_KG: int = Problem.__dataclass_fields__["person_kg"].default  # one person with kit
VEHICLE_GAP_M: float = Problem.__dataclass_fields__["vehicle_gap_m"].default

SEATS, LOAD, FLOOR, OUTSIZE = "seats", "load", "floor", "outsize"
GAP_CM: int = round(VEHICLE_GAP_M * 100)


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
                "aircraft_type": k.code, "aircraft_name": k.label()}
        if people > seats:
            out.append(base | {"code": SEATS, "value": people, "limit": seats,
                               "with_vehicles": bool(floor_m), "person_kg": None})
        if kg > k.acl_kg:
            out.append(base | {"code": LOAD, "value": kg, "limit": k.acl_kg,
                               "with_vehicles": None, "person_kg": PERSON_KG})
        out.extend(base | w for w in floor_warnings(m, fleet))
    return [NO_FLOOR | w for w in out]


# Every warning carries every field; those of another kind of warning are None.
NO_FLOOR: dict[str, Any] = {"with_vehicles": None, "person_kg": None, "lanes": None,
                            "gap_m": None, "unit": None, "vehicle": None,
                            "dimension": None}


def lanes_for(widths: list[float], floor_width_m: float) -> int:
    """How many vehicles stand side by side on the floor: as many of the narrowest
    vehicle aboard as its width takes, at least one."""
    narrowest = min(widths) if widths else 0
    if narrowest <= 0:
        return 1
    return max(1, math.floor(floor_width_m / narrowest + 1e-9))


def floor_warnings(m: Movement, fleet: dict[tuple[str, str], Vehicle]) -> list[dict[str, Any]]:
    """The flight's vehicles against its aircraft type's hold (see the module's note):
    one `outsize` warning for each kind of vehicle wider or higher than the hold or longer
    than the floor (the first of these, as the planner names a misfit), and one `floor`
    warning when all of them could not stand on the floor even in as many lanes as its
    width takes. Figures in metres; the arithmetic in whole centimetres, as the planner's
    (`Capacity`)."""
    k = m.aircraft_type
    out: list[dict[str, Any]] = []
    lengths: list[int] = []
    widths: list[float] = []
    for item in m.manifest or []:
        for kind, n in (item.get("vehicles") or {}).items():
            v = fleet.get((item.get("unit"), kind))
            if v is None or int(n) <= 0:
                continue
            lengths += [math.ceil(v.length_m * 100)] * int(n)
            widths.append(v.width_m)
            for dimension, value, limit in (("width", v.width_m, k.floor_width_m),
                                            ("height", v.height_m, k.height_m),
                                            ("length", v.length_m, k.floor_length_m)):
                if value > limit:
                    out.append({"code": OUTSIZE, "value": value, "limit": limit,
                                "unit": item.get("unit"), "vehicle": kind,
                                "dimension": dimension})
                    break
    if not lengths:
        return out
    lanes = lanes_for(widths, k.floor_width_m)
    lane_cm = math.floor(k.floor_length_m * 100) + GAP_CM
    needed = sum(length + GAP_CM for length in lengths)
    if needed > lanes * lane_cm:
        # As the reader counts it: the lengths and the gaps between vehicles in a lane,
        # against the lanes' floor length.
        out.append({"code": FLOOR, "value": (needed - lanes * GAP_CM) / 100,
                    "limit": (lanes * (lane_cm - GAP_CM)) / 100, "lanes": lanes,
                    "gap_m": VEHICLE_GAP_M})
    return out
