"""API shapes of the stabilisation force. Inputs name every field; the services check them
(and say which field is wrong and why). Outputs are plain JSON objects built by `*_out`,
documented (and checked on the way out) by the `*Out` schemas."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ninja import Schema
from pydantic import AwareDatetime, ConfigDict, Field


class In(Schema):
    """An input: a field it does not take (a misspelt name) is an error, not ignored."""

    model_config = ConfigDict(extra="forbid")


class ContingentIn(In):
    code: str | None = None
    state: str | None = Field(None, description="ISO 3166-1 alpha-2, e.g. KG")
    name: str | None = Field(None, description="name in English")
    name_kk: str | None = Field(None, description="name in Kazakh (optional)")
    name_ru: str | None = Field(None, description="name in Russian (optional)")
    organization: str | None = Field(None, description="code of the contributing state")
    area: str | None = Field(None, description="area of operation (code)")
    commander: str | None = None
    personnel_declared: int | None = None
    personnel_estimate: bool | None = None
    source: str | None = None
    note: str | None = None


class UnitIn(In):
    code: str | None = None
    contingent: str | None = None
    name: str | None = Field(None, description="name in English")
    name_kk: str | None = Field(None, description="name in Kazakh (optional)")
    name_ru: str | None = Field(None, description="name in Russian (optional)")
    personnel: int | None = None
    estimate: bool | None = None
    arrived_at: AwareDatetime | None = None
    departure_airfield: str | None = None
    home_airfield: str | None = None
    road_allowed: bool | None = None
    road_min: int | None = None
    source: str | None = None
    note: str | None = None


class VehiclesIn(In):
    unit: str
    kind: str
    count: int
    weight_kg: int
    length_m: float
    width_m: float
    height_m: float
    estimate: bool = False
    source: str = ""


class AirfieldIn(In):
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


class AircraftTypeIn(In):
    code: str | None = None
    name: str | None = None
    name_kk: str | None = Field(None, description="name in Kazakh (optional)")
    name_ru: str | None = Field(None, description="name in Russian (optional)")
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


class GuardPostIn(In):
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


class ReliefIn(In):
    key: str | None = None
    place: str | None = None
    relieving_unit: str | None = Field(None, description="the national unit, in English")
    relieving_unit_kk: str | None = Field(None, description="the same in Kazakh (optional)")
    relieving_unit_ru: str | None = Field(None, description="the same in Russian (optional)")
    organization: str | None = None
    start: AwareDatetime | None = None
    estimate: bool | None = None
    source: str | None = None
    note: str | None = None


class ManifestItem(In):
    unit: str
    personnel: int = 0
    vehicles: dict[str, int] = Field(default_factory=dict,
                                     description="vehicle kind -> count")


class MovementIn(In):
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
    plan: int | None = Field(None, description="id of the plan the movement flies; the plan "
                                                "approved now when a sortie is given alone")
    sortie: str | None = Field(None, description="a sortie id of that plan")
    time_estimated: bool | None = None
    estimate: bool | None = None
    source: str | None = None
    note: str | None = None


class PlanIn(In):
    start: AwareDatetime | None = Field(None, description="plan from this moment; now")
    time_limit_s: float = Field(30, gt=0, le=600)
    note: str = ""


# --- outputs -------------------------------------------------------------------------
# The `*_out` functions below build each answer as a plain dict; these schemas document it
# in the OpenAPI document and ninja validates the dict against them. Times are ISO 8601
# strings exactly as `*_out` writes them (UTC with offset), not re-formatted datetimes.

UTC_TIME = "ISO 8601 date and time, UTC"


class ContingentOut(Schema):
    code: str
    state: str = Field(description="ISO 3166-1 alpha-2 code of the contributing state")
    name: str = Field(description="name in English")
    name_kk: str = Field(description="name in Kazakh; empty: not given")
    name_ru: str = Field(description="name in Russian; empty: not given")
    organization: str | None = Field(description="code of the contributing state's "
                                                 "organization, if recorded")
    area: str = Field(description="area of operation (code)")
    commander: str
    personnel_declared: int | None = Field(description="personnel the contingent declared")
    personnel_estimate: bool = Field(description="the personnel figure is an estimate")
    source: str
    note: str


class VehiclesOut(Schema):
    unit: str = Field(description="unit code")
    kind: str = Field(description="vehicle kind, e.g. KamAZ")
    count: int
    weight_kg: int = Field(description="weight of one vehicle (kg)")
    length_m: float = Field(description="length of one vehicle (m)")
    width_m: float = Field(description="width of one vehicle (m)")
    height_m: float = Field(description="height of one vehicle (m)")
    estimate: bool = Field(description="the figures are estimates")
    source: str


class UnitOut(Schema):
    code: str
    contingent: str = Field(description="contingent code")
    name: str = Field(description="name in English")
    name_kk: str = Field(description="name in Kazakh; empty: not given")
    name_ru: str = Field(description="name in Russian; empty: not given")
    personnel: int
    estimate: bool = Field(description="the personnel figure is an estimate")
    arrived_at: str | None = Field(description=f"in country from; {UTC_TIME}")
    departure_airfield: str | None = Field(description="airfield code the unit flies from "
                                                       "(APOE)")
    home_airfield: str | None = Field(description="airfield code the unit flies home to")
    road_allowed: bool = Field(description="the unit may leave by road")
    road_min: int = Field(description="road time home (min)")
    source: str
    note: str
    vehicles: list[VehiclesOut]


class AirfieldOut(Schema):
    code: str
    icao: str = Field(description="ICAO code; empty when unknown")
    name: str
    name_kk: str = Field(description="name in Kazakh; empty: not given")
    name_ru: str = Field(description="name in Russian; empty: not given")
    place: str | None = Field(description="place code (airfields in country)")
    country: str = Field(description="ISO 3166-1 alpha-2; empty when unknown")
    lat: float
    lon: float
    role: str = Field(description="apoe (in country) or apod (home)")
    max_on_ground: int = Field(description="most aircraft on the ground at once")
    opens: str | None = Field(description="local opening time (HH:MM:SS); null = 24 h")
    closes: str | None = Field(description="local closing time (HH:MM:SS); null = 24 h")
    tz: str = Field(description="time zone of opens and closes, e.g. Asia/Almaty")
    estimate: bool = Field(description="the figures are estimates")
    source: str
    note: str


class AircraftTypeOut(Schema):
    code: str
    name: str
    name_kk: str = Field(description="name in Kazakh; empty: not given")
    name_ru: str = Field(description="name in Russian; empty: not given")
    acl_kg: int = Field(description="allowable cabin load (kg)")
    max_payload_kg: int | None = Field(description="maximum payload (kg)")
    floor_length_m: float = Field(description="cargo floor length (m)")
    floor_width_m: float = Field(description="cargo floor width (m)")
    height_m: float = Field(description="cargo hold height (m)")
    seats: int = Field(description="seats beside vehicles")
    troop_seats: int = Field(description="seats when carrying troops only")
    cruise_kmh: int = Field(description="cruise speed (km/h)")
    turnaround_min: int = Field(description="turnaround on the ground (min)")
    airframes_available: int = Field(description="airframes the force may use for the "
                                                 "withdrawal")
    available_from: str | None = Field(description=f"airframes available from; {UTC_TIME}")
    sources: list[str] = Field(description="where the figures come from (addresses)")
    note: str
    estimate: bool = Field(description="the planning figures are estimates")


class RecordOut(Schema):
    """The part every versioned record (guard post, relief, movement) shares."""

    key: str = Field(description="the record's key, kept across its versions")
    recorded_at: str = Field(description=f"when this version was recorded; {UTC_TIME}")
    superseded_at: str | None = Field(description="when a newer version replaced this one; "
                                                  f"null: current; {UTC_TIME}")
    recorded_by: str
    estimate: bool = Field(description="the figures are estimates")
    source: str
    note: str


class GuardPostOut(RecordOut):
    unit: str = Field(description="unit code")
    place: str = Field(description="place code")
    place_name: str
    start: str = Field(description=f"guards from; {UTC_TIME}")
    end: str | None = Field(description=f"guards until; null: still guarding; {UTC_TIME}")
    travel_min: int = Field(description="road time from the site to the airfield (min)")
    overlap_min: int | None = Field(description="required overlap with the relief (min); "
                                                "null: the default")


class ReliefOut(RecordOut):
    place: str = Field(description="place code")
    place_name: str
    relieving_unit: str = Field(description="the national unit taking over the site")
    relieving_unit_kk: str = Field(description="the same in Kazakh; empty: not given")
    relieving_unit_ru: str = Field(description="the same in Russian; empty: not given")
    organization: str | None = Field(description="organization code of the relieving unit")
    start: str = Field(description=f"guards from; {UTC_TIME}")


class LoadWarningOut(Schema):
    """A flight carrying more than its aircraft type allows. It is recorded all the same
    (what flew, flew); this says by how much."""

    code: str = Field(description="seats (people aboard over the seats), load (kg aboard "
                                  "over the allowable cabin load), floor (the vehicles' "
                                  "floor length over what the floor takes in as many "
                                  "lanes as its width gives the narrowest vehicle aboard) "
                                  "or outsize (a vehicle wider or higher than the hold, "
                                  "or longer than its floor)")
    movement: str = Field(description="movement key")
    movement_label: str = Field(description="the movement's call sign (its key when it "
                                            "has none)")
    aircraft_type: str = Field(description="aircraft type code")
    aircraft_name: str = Field(description="aircraft type name")
    value: int | float = Field(description="people aboard (seats), kg aboard (load: "
                                           "vehicles plus person_kg a person), metres of "
                                           "floor the vehicles need: their lengths and "
                                           "gap_m between vehicles in a lane (floor), or "
                                           "the vehicle's metres in `dimension` (outsize)")
    limit: int | float = Field(description="the aircraft's seats (fewer when vehicles take "
                                           "floor space), its allowable cabin load (kg), "
                                           "the metres of floor in `lanes` lanes (floor), "
                                           "or the hold's metres in `dimension` (outsize)")
    with_vehicles: bool | None = Field(description="seats: vehicles aboard take floor "
                                                   "seats; null otherwise")
    person_kg: int | None = Field(description="load: kg counted for a person with kit; "
                                              "null otherwise")
    lanes: int | None = Field(description="floor: how many vehicles stand side by side "
                                          "(the floor's width over the narrowest vehicle "
                                          "aboard's, at least 1); null otherwise")
    gap_m: float | None = Field(description="floor: metres for lashing between vehicles "
                                            "in a lane; null otherwise")
    unit: str | None = Field(description="outsize: the vehicle's unit; null otherwise")
    vehicle: str | None = Field(description="outsize: the kind of vehicle; null otherwise")
    dimension: str | None = Field(description="outsize: width, height or length; null "
                                              "otherwise")
    message: str = Field(description="the warning in one sentence, in the reader's "
                                     "language")


class MovementOut(RecordOut):
    kind: str = Field(description="flight or road")
    label: str = Field(description="call sign or label")
    aircraft_type: str | None = Field(description="aircraft type code (flights)")
    origin: str | None = Field(description="airfield code the flight leaves from (APOE)")
    origin_place: str | None = Field(description="place code a road convoy starts from")
    destination: str | None = Field(description="airfield code")
    destination_text: str = Field(description="destination when it is not an airfield")
    planned_departure: str | None = Field(description=UTC_TIME)
    planned_arrival: str | None = Field(description=UTC_TIME)
    actual_departure: str | None = Field(description=UTC_TIME)
    actual_arrival: str | None = Field(description=UTC_TIME)
    manifest: list[dict[str, Any]] = Field(
        description='who is aboard, as recorded: [{"unit": code, "personnel": n, '
                    '"vehicles": {kind: count}}]')
    personnel: int = Field(description="personnel aboard (sum of the manifest)")
    vehicles: int = Field(description="vehicles aboard (sum of the manifest)")
    plan: int | None = Field(description="id of the withdrawal plan this movement flies")
    sortie: str = Field(description="the plan's sortie id; empty when none")
    time_estimated: bool = Field(description="the times are estimates")
    warnings: list[LoadWarningOut] = Field(description="the flight carries more people "
                                                       "than its aircraft seats, more "
                                                       "weight than its allowable cabin "
                                                       "load, more vehicles than its "
                                                       "floor takes or a vehicle too big "
                                                       "for its hold (recorded all the "
                                                       "same)")


class GapOut(Schema):
    """One gap of the handover rule: a site left unguarded, a relief overlapping the guard
    too little, or a unit boarding before its sites are released plus its travel time."""

    kind: str = Field(description="overlap, unguarded or boarding")
    site_id: str = Field(description="place code (or the plan's site id)")
    site: str = Field(description="site name")
    unit_id: str = Field(description="unit code")
    unit: str = Field(description="unit name (its code when it has none)")
    at: str = Field(description="when the rule is broken: the guard's end, or the boarding; "
                                "ISO 8601")
    shortfall_min: int = Field(description="by how many minutes (0 when not measurable)")
    guard_end: str | None = Field(description="ISO 8601")
    relief_start: str | None = Field(description="ISO 8601")
    overlap_min: int = Field(description="required overlap (min)")
    boards_at: str | None = Field(description="ISO 8601")
    released_at: str | None = Field(description="guard end plus travel: the earliest "
                                                "boarding allowed; ISO 8601")
    travel_min: int = Field(description="road time from the site to the airfield (min)")
    planned: bool = Field(False, description="true when it comes from a movement only "
                                             "planned (no actual departure yet)")
    message: str = Field(description="the gap in one sentence, in the reader's language")


class PlanSummaryOut(Schema):
    """A withdrawal plan's figures, without the plan itself (the list of plans)."""

    id: int
    status: str = Field(description="draft, approved or superseded")
    created_at: str = Field(description=UTC_TIME)
    created_by: str
    approved_by: str
    approved_at: str | None = Field(description=UTC_TIME)
    start: str | None = Field(description=f"the plan starts at; {UTC_TIME}")
    closure: str | None = Field(description=f"closure, the last unit home; {UTC_TIME}")
    solver_status: str = Field(description="e.g. optimal, feasible, stopped, infeasible")
    sorties: int = Field(description="number of sorties flown")
    ratio: float | None = Field(description="closure ÷ best lower bound on closure "
                                            "(1.0 = provably optimal)")
    ratio_bound: str = Field(description="name of the bound binding the closure")
    sortie_ratio: float | None = Field(description="sorties ÷ best lower bound on sorties")
    sortie_bound: str = Field(description="name of the bound binding the sorties")
    seconds: float = Field(description="solve time (s)")
    note: str
    explanation: str | None = Field(description="why the planner found no plan, in the "
                                                "reader's language (Accept-Language); null "
                                                "when it found one")
    reason: dict[str, Any] | None = Field(description="why the planner found no plan, as "
                                                      "{code, params}: a reason code (e.g. "
                                                      "vehicle-fits-no-aircraft, "
                                                      "site-without-relief) and the unit, "
                                                      "site, vehicle, aircraft and figures "
                                                      "it names; null when it found one")


class PlanOut(PlanSummaryOut):
    plan: dict[str, Any] = Field(description="the full machine-readable plan as stored "
                                             "(sorties, road moves, handovers)")


class PlanWithGapsOut(PlanOut):
    gaps: list[GapOut] = Field(description="gaps of the handover rule in this plan, checked "
                                           "against the guard posts and reliefs as recorded "
                                           "now (what approval checks)")
    check_errors: dict[str, list[str]] = Field(
        description="what the force as recorded now lacks for the check (field -> "
                    "problems); empty when the check ran")
    gaps_when_planned: list[GapOut] = Field(description="gaps against the force as it was "
                                                        "when the plan was computed")
    gaps_changed: bool = Field(description="the force changed since the plan was computed "
                                           "and the check now finds other gaps")


# --- the force board -----------------------------------------------------------------

class ForceBoardUnitOut(Schema):
    unit: str = Field(description="unit code")
    name: str
    personnel: int = Field(description="personnel still in country")
    vehicles: int = Field(description="vehicles still in country")


class ForceBoardSiteOut(Schema):
    key: str = Field(description="guard post key")
    place: str = Field(description="place code")
    name: str = Field(description="place name")
    unit: str = Field(description="code of the unit guarding it")
    until: str | None = Field(description="guard ends; null: no end recorded; ISO 8601")
    relief_from: str | None = Field(description="the national relief guards from; null: "
                                                "none recorded; ISO 8601")


class ForceBoardHandoverOut(Schema):
    key: str = Field(description="guard post key")
    place: str = Field(description="place code")
    name: str = Field(description="place name")
    unit: str = Field(description="code of the unit that guarded it")
    guard_end: str = Field(description="ISO 8601")
    relieved_by: str | None = Field(description="the national unit that took over; null: "
                                                "none recorded")


class ForceBoardContingentOut(Schema):
    contingent: ContingentOut
    personnel: int = Field(description="personnel still in country")
    vehicles: int = Field(description="vehicles still in country")
    units: list[ForceBoardUnitOut] = Field(description="units in country by then")
    sites_guarded: list[ForceBoardSiteOut]
    handovers_done: list[ForceBoardHandoverOut]
    gaps: list[GapOut]


class DeviationDetailOut(Schema):
    plan: dict[str, tuple[int, int]] = Field(description="unit code -> [personnel, "
                                                         "vehicles] planned")
    actual: dict[str, tuple[int, int]] = Field(description="unit code -> [personnel, "
                                                           "vehicles] aboard")


class DeviationOut(Schema):
    kind: str = Field(description="late, early, missing, extra or manifest")
    sortie: str | None = Field(description="the plan's sortie id; null for a movement not in "
                                           "the plan")
    movement: str | None = Field(description="movement key; null for a sortie not flown")
    movement_label: str | None = Field(description="the movement's call sign (its key when "
                                                   "it has none); null with movement")
    planned: str | None = Field(description="planned departure; ISO 8601")
    actual: str | None = Field(description="actual departure; ISO 8601")
    minutes: int | None = Field(description="late (+) or early (-) by, in minutes (late and "
                                            "early only)")
    detail: DeviationDetailOut | None = Field(
        None, exclude_if=lambda value: value is None,
        description="planned and actual loads; present only when kind is manifest")


class ForceBoardOut(Schema):
    as_of: str = Field(description="the moment the board is for; ISO 8601")
    personnel: int = Field(description="personnel still in country")
    vehicles: int = Field(description="vehicles still in country")
    gaps: list[GapOut]
    plan: int | None = Field(description="id of the plan approved at as_of; null when none "
                                         "is, or when the reader does not read plans "
                                         "(they cover the whole force)")
    plan_approved: bool = Field(description="a plan is approved at as_of")
    deviations: list[DeviationOut] = Field(description="how the movements differ from the "
                                                       "approved plan, for the units the "
                                                       "reader sees")
    warnings: list[LoadWarningOut] = Field(description="flights the reader sees carrying "
                                                       "more than their aircraft allows, "
                                                       "as known at as_of")
    contingents: list[ForceBoardContingentOut]


def _t(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def contingent_out(c) -> dict[str, Any]:
    return {"code": c.code, "state": c.state, "name": c.name, "name_kk": c.name_kk,
            "name_ru": c.name_ru,
            "organization": c.organization.code if c.organization else None,
            "area": c.area.code, "commander": c.commander,
            "personnel_declared": c.personnel_declared,
            "personnel_estimate": c.personnel_estimate, "source": c.source, "note": c.note}


def unit_out(u) -> dict[str, Any]:
    return {"code": u.code, "contingent": u.contingent.code, "name": u.name,
            "name_kk": u.name_kk, "name_ru": u.name_ru,
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
    return {"code": a.code, "icao": a.icao, "name": a.name, "name_kk": a.name_kk,
            "name_ru": a.name_ru,
            "place": a.place.code if a.place else None, "country": a.country, "lat": a.lat,
            "lon": a.lon, "role": a.role, "max_on_ground": a.max_on_ground,
            "opens": a.opens.isoformat() if a.opens else None,
            "closes": a.closes.isoformat() if a.closes else None, "tz": a.tz,
            "estimate": a.estimate, "source": a.source, "note": a.note}


def aircraft_type_out(t) -> dict[str, Any]:
    return {"code": t.code, "name": t.name, "name_kk": t.name_kk, "name_ru": t.name_ru,
            "acl_kg": t.acl_kg,
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
                         "relieving_unit_kk": r.relieving_unit_kk,
                         "relieving_unit_ru": r.relieving_unit_ru,
                         "organization": r.organization.code if r.organization else None,
                         "start": _t(r.start)}


def movement_out(m, warnings: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A movement with its load warnings (`warnings`: already worked out for a list of
    movements; None: worked out here)."""
    from .capacity import load_warnings
    from .render import load_warning_out

    if warnings is None:
        warnings = load_warnings([m])
    return _record(m) | {
        "warnings": [load_warning_out(w) for w in warnings if w["movement"] == m.uid],
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
           "sortie_bound": p.sortie_bound, "seconds": p.seconds, "note": p.note,
           "explanation": None, "reason": None}
    if p.solver_status == "infeasible":
        from .render import plan_reason_text

        out["explanation"] = plan_reason_text(p.plan)
        out["reason"] = (p.plan or {}).get("reason") or None
    if full:
        out["plan"] = p.plan
    return out
