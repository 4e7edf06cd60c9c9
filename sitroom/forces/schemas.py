"""API shapes of the stabilisation force. Inputs name every field; the services check them
(and say which field is wrong and why). Outputs are plain JSON objects built by `*_out`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ninja import Schema
from pydantic import AwareDatetime, Field


class ContingentIn(Schema):
    code: str | None = None
    state: str | None = Field(None, description="ISO 3166-1 alpha-2, e.g. KG")
    name: str | None = None
    organization: str | None = Field(None, description="code of the contributing state")
    area: str | None = Field(None, description="area of operation (code)")
    commander: str | None = None
    personnel_declared: int | None = None
    personnel_estimate: bool | None = None
    source: str | None = None
    note: str | None = None


class UnitIn(Schema):
    code: str | None = None
    contingent: str | None = None
    name: str | None = None
    personnel: int | None = None
    estimate: bool | None = None
    arrived_at: AwareDatetime | None = None
    departure_airfield: str | None = None
    home_airfield: str | None = None
    road_allowed: bool | None = None
    road_min: int | None = None
    source: str | None = None
    note: str | None = None


class VehiclesIn(Schema):
    unit: str
    kind: str
    count: int
    weight_kg: int
    length_m: float
    width_m: float
    height_m: float
    estimate: bool = False
    source: str = ""


class AirfieldIn(Schema):
    code: str | None = None
    icao: str | None = None
    name: str | None = None
    place: str | None = Field(None, description="place code (airfields in country)")
    country: str | None = None
    lat: float | None = None
    lon: float | None = None
    role: str | None = Field(None, description="apoe (in country) or apod (home)")
    max_on_ground: int | None = None
    opens: str | None = Field(None, description="local time, e.g. 07:00; empty = 24 h")
    closes: str | None = None
    tz: str | None = None
    estimate: bool | None = None
    source: str | None = None
    note: str | None = None


class AircraftTypeIn(Schema):
    code: str | None = None
    name: str | None = None
    acl_kg: int | None = None
    max_payload_kg: int | None = None
    floor_length_m: float | None = None
    floor_width_m: float | None = None
    height_m: float | None = None
    seats: int | None = None
    troop_seats: int | None = None
    cruise_kmh: int | None = None
    turnaround_min: int | None = None
    airframes_available: int | None = None
    available_from: AwareDatetime | None = None
    sources: list[str] | None = None
    note: str | None = None
    estimate: bool | None = None


class GuardPostIn(Schema):
    key: str | None = Field(None, description="your key for this record (kept across "
                                               "versions); generated when absent")
    unit: str | None = None
    place: str | None = None
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    travel_min: int | None = None
    overlap_min: int | None = None
    estimate: bool | None = None
    source: str | None = None
    note: str | None = None


class ReliefIn(Schema):
    key: str | None = None
    place: str | None = None
    relieving_unit: str | None = None
    organization: str | None = None
    start: AwareDatetime | None = None
    estimate: bool | None = None
    source: str | None = None
    note: str | None = None


class ManifestItem(Schema):
    unit: str
    personnel: int = 0
    vehicles: dict[str, int] = Field(default_factory=dict,
                                     description="vehicle kind -> count")


class MovementIn(Schema):
    key: str | None = None
    kind: str | None = Field(None, description="flight or road")
    label: str | None = None
    aircraft_type: str | None = None
    origin: str | None = Field(None, description="airfield code (in country)")
    origin_place: str | None = Field(None, description="site a road convoy starts from")
    destination: str | None = None
    destination_text: str | None = None
    planned_departure: AwareDatetime | None = None
    planned_arrival: AwareDatetime | None = None
    actual_departure: AwareDatetime | None = None
    actual_arrival: AwareDatetime | None = None
    manifest: list[ManifestItem] | None = None
    plan: int | None = None
    sortie: str | None = None
    time_estimated: bool | None = None
    estimate: bool | None = None
    source: str | None = None
    note: str | None = None


class PlanIn(Schema):
    start: AwareDatetime | None = Field(None, description="plan from this moment; now")
    time_limit_s: float = Field(30, gt=0, le=600)
    note: str = ""


def _t(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def contingent_out(c) -> dict[str, Any]:
    return {"code": c.code, "state": c.state, "name": c.name,
            "organization": c.organization.code if c.organization else None,
            "area": c.area.code, "commander": c.commander,
            "personnel_declared": c.personnel_declared,
            "personnel_estimate": c.personnel_estimate, "source": c.source, "note": c.note}


def unit_out(u) -> dict[str, Any]:
    return {"code": u.code, "contingent": u.contingent.code, "name": u.name,
            "personnel": u.personnel, "estimate": u.estimate, "arrived_at": _t(u.arrived_at),
            "departure_airfield": u.departure_airfield.code if u.departure_airfield else None,
            "home_airfield": u.home_airfield.code if u.home_airfield else None,
            "road_allowed": u.road_allowed, "road_min": u.road_min, "source": u.source,
            "note": u.note,
            "vehicles": [vehicles_out(v) for v in u.vehicles.all()]}


def vehicles_out(v) -> dict[str, Any]:
    return {"unit": v.unit.code, "kind": v.kind, "count": v.count, "weight_kg": v.weight_kg,
            "length_m": v.length_m, "width_m": v.width_m, "height_m": v.height_m,
            "estimate": v.estimate, "source": v.source}


def airfield_out(a) -> dict[str, Any]:
    return {"code": a.code, "icao": a.icao, "name": a.name,
            "place": a.place.code if a.place else None, "country": a.country, "lat": a.lat,
            "lon": a.lon, "role": a.role, "max_on_ground": a.max_on_ground,
            "opens": a.opens.isoformat() if a.opens else None,
            "closes": a.closes.isoformat() if a.closes else None, "tz": a.tz,
            "estimate": a.estimate, "source": a.source, "note": a.note}


def aircraft_type_out(t) -> dict[str, Any]:
    return {"code": t.code, "name": t.name, "acl_kg": t.acl_kg,
            "max_payload_kg": t.max_payload_kg, "floor_length_m": t.floor_length_m,
            "floor_width_m": t.floor_width_m, "height_m": t.height_m, "seats": t.seats,
            "troop_seats": t.troop_seats, "cruise_kmh": t.cruise_kmh,
            "turnaround_min": t.turnaround_min, "airframes_available": t.airframes_available,
            "available_from": _t(t.available_from), "sources": t.sources, "note": t.note,
            "estimate": t.estimate}


def _record(r) -> dict[str, Any]:
    return {"key": r.uid, "recorded_at": _t(r.recorded_at),
            "superseded_at": _t(r.superseded_at), "recorded_by": r.actor_label,
            "estimate": r.estimate, "source": r.source, "note": r.note}


def guard_post_out(g) -> dict[str, Any]:
    return _record(g) | {"unit": g.unit.code, "place": g.place.code,
                         "place_name": g.place.label(), "start": _t(g.start),
                         "end": _t(g.end), "travel_min": g.travel_min,
                         "overlap_min": g.overlap_min}


def relief_out(r) -> dict[str, Any]:
    return _record(r) | {"place": r.place.code, "place_name": r.place.label(),
                         "relieving_unit": r.relieving_unit,
                         "organization": r.organization.code if r.organization else None,
                         "start": _t(r.start)}


def movement_out(m) -> dict[str, Any]:
    return _record(m) | {
        "kind": m.kind, "label": m.label,
        "aircraft_type": m.aircraft_type.code if m.aircraft_type else None,
        "origin": m.origin.code if m.origin else None,
        "origin_place": m.origin_place.code if m.origin_place else None,
        "destination": m.destination.code if m.destination else None,
        "destination_text": m.destination_text,
        "planned_departure": _t(m.planned_departure),
        "planned_arrival": _t(m.planned_arrival),
        "actual_departure": _t(m.actual_departure), "actual_arrival": _t(m.actual_arrival),
        "manifest": m.manifest, "personnel": m.personnel(), "vehicles": m.vehicles(),
        "plan": m.plan_id, "sortie": m.sortie, "time_estimated": m.time_estimated}


def plan_out(p, *, full: bool = True) -> dict[str, Any]:
    out = {"id": p.pk, "status": p.status, "created_at": _t(p.created_at),
           "created_by": p.created_by, "approved_by": p.approved_by,
           "approved_at": _t(p.approved_at), "start": _t(p.start), "closure": _t(p.closure),
           "solver_status": p.solver_status, "sorties": p.sorties, "ratio": p.ratio,
           "ratio_bound": p.ratio_bound, "sortie_ratio": p.sortie_ratio,
           "sortie_bound": p.sortie_bound, "seconds": p.seconds, "note": p.note}
    if full:
        out["plan"] = p.plan
    return out
