"""The stabilisation force on the API, under /api/v1/forces/.

Reads are scoped (a record outside the reader's areas is "not found"); writes go through
the services, which name the bad field (422) or refuse the actor (403). Answers are built as
plain dicts by the `*_out` functions and typed by the `*Out` schemas of `schemas.py`, so
the OpenAPI document shows their shape.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from ninja import Query, Router, Status
from pydantic import AwareDatetime

from sitroom.api.auth import actor_of
from sitroom.core.choices import JournalSource

from . import queries, services
from .capacity import load_warnings
from .models import AircraftType, Airfield, Unit
from .render import gap_out, load_warning_out
from .schemas import (
    AircraftTypeIn,
    AircraftTypeOut,
    AirfieldIn,
    AirfieldOut,
    ContingentIn,
    ContingentOut,
    ForceBoardOut,
    GapOut,
    GuardPostIn,
    GuardPostOut,
    MovementIn,
    MovementOut,
    PlanIn,
    PlanOut,
    PlanSummaryOut,
    PlanWithGapsOut,
    ReliefIn,
    ReliefOut,
    UnitIn,
    UnitOut,
    VehiclesIn,
    VehiclesOut,
    aircraft_type_out,
    airfield_out,
    contingent_out,
    guard_post_out,
    movement_out,
    plan_out,
    relief_out,
    unit_out,
    vehicles_out,
)

router = Router(tags=["forces"])
API = JournalSource.API
P = "/forces"


def _found(obj, what: str, key: Any):
    if obj is None:
        raise Http404(f"no {what} {key!r} visible to you")
    return obj


def _body(body) -> dict[str, Any]:
    return body.dict(exclude_unset=True)


def _saved(result, out):
    obj, changed = result
    return Status(201 if changed else 200, out(obj))


# --- contingents ---------------------------------------------------------------------

@router.get(f"{P}/contingents", response=list[ContingentOut], summary="Contingents")
def list_contingents(request):
    return [contingent_out(c) for c in queries.contingents(request.user)]


@router.get(f"{P}/contingents/{{code}}", response=ContingentOut, summary="One contingent")
def get_contingent(request, code: str):
    return contingent_out(_found(queries.contingents(request.user).filter(code=code).first(),
                                 "contingent", code))


@router.post(f"{P}/contingents", response={200: ContingentOut, 201: ContingentOut},
             summary="Create or update a contingent by its code")
def post_contingent(request, body: ContingentIn):
    return _saved(services.save_contingent(_body(body), actor=actor_of(request), source=API),
                  contingent_out)


@router.patch(f"{P}/contingents/{{code}}", response=ContingentOut,
              summary="Change a contingent")
def patch_contingent(request, code: str, body: ContingentIn):
    c = _found(queries.contingents(request.user).filter(code=code).first(), "contingent",
               code)
    data = services_data(c, ["state", "name", "name_kk", "name_ru", "commander",
                             "personnel_declared", "personnel_estimate", "source", "note"])
    data |= {"code": code, "area": c.area.code,
             "organization": c.organization.code if c.organization else None}
    return contingent_out(services.save_contingent(data | _body(body) | {"code": code},
                                                   actor=actor_of(request), source=API)[0])


def services_data(obj, names: list[str]) -> dict[str, Any]:
    return {n: getattr(obj, n) for n in names}


# --- units and vehicles --------------------------------------------------------------

@router.get(f"{P}/units", response=list[UnitOut], summary="Units with their vehicles")
def list_units(request, contingent: str | None = None):
    qs = queries.units(request.user).prefetch_related("vehicles__unit")
    if contingent:
        qs = qs.filter(contingent__code=contingent)
    return [unit_out(u) for u in qs]


@router.get(f"{P}/units/{{code}}", response=UnitOut, summary="One unit")
def get_unit(request, code: str):
    return unit_out(_found(queries.units(request.user).filter(code=code).first(), "unit",
                           code))


def _unit_data(u: Unit) -> dict[str, Any]:
    return services_data(u, ["name", "name_kk", "name_ru", "personnel", "estimate",
                             "arrived_at", "road_allowed", "road_min", "source",
                             "note"]) | {
        "code": u.code, "contingent": u.contingent.code,
        "departure_airfield": u.departure_airfield.code if u.departure_airfield else None,
        "home_airfield": u.home_airfield.code if u.home_airfield else None}


@router.post(f"{P}/units", response={200: UnitOut, 201: UnitOut},
             summary="Create or update a unit by its code")
def post_unit(request, body: UnitIn):
    return _saved(services.save_unit(_body(body), actor=actor_of(request), source=API),
                  unit_out)


@router.patch(f"{P}/units/{{code}}", response=UnitOut, summary="Change a unit")
def patch_unit(request, code: str, body: UnitIn):
    u = _found(queries.units(request.user).filter(code=code).first(), "unit", code)
    return unit_out(services.save_unit(_unit_data(u) | _body(body) | {"code": code},
                                       actor=actor_of(request), source=API)[0])


@router.put(f"{P}/vehicles", response={200: VehiclesOut, 201: VehiclesOut},
            summary="Set a unit's vehicles of one kind")
def put_vehicles(request, body: VehiclesIn):
    return _saved(services.save_vehicles(body.dict(), actor=actor_of(request), source=API),
                  vehicles_out)


# --- airfields and aircraft types (reference data) -----------------------------------

@router.get(f"{P}/airfields", response=list[AirfieldOut], summary="Airfields")
def list_airfields(request):
    return [airfield_out(a) for a in Airfield.objects.visible_to(request.user)
            .select_related("place")]


@router.get(f"{P}/airfields/{{code}}", response=AirfieldOut, summary="One airfield")
def get_airfield(request, code: str):
    return airfield_out(_found(Airfield.objects.visible_to(request.user)
                               .filter(code=code).first(), "airfield", code))


@router.post(f"{P}/airfields", response={200: AirfieldOut, 201: AirfieldOut},
             summary="Create or update an airfield by its code")
def post_airfield(request, body: AirfieldIn):
    return _saved(services.save_airfield(_body(body), actor=actor_of(request), source=API),
                  airfield_out)


@router.patch(f"{P}/airfields/{{code}}", response=AirfieldOut,
              summary="Change an airfield")
def patch_airfield(request, code: str, body: AirfieldIn):
    a = _found(Airfield.objects.visible_to(request.user).filter(code=code).first(),
               "airfield", code)
    data = airfield_out(a)
    return airfield_out(services.save_airfield(data | _body(body) | {"code": code},
                                               actor=actor_of(request), source=API)[0])


@router.get(f"{P}/aircraft-types", response=list[AircraftTypeOut],
            summary="Aircraft types with their sources")
def list_aircraft_types(request):
    return [aircraft_type_out(t) for t in AircraftType.objects.visible_to(request.user)]


@router.get(f"{P}/aircraft-types/{{code}}", response=AircraftTypeOut,
            summary="One aircraft type")
def get_aircraft_type(request, code: str):
    return aircraft_type_out(_found(AircraftType.objects.visible_to(request.user)
                                    .filter(code=code).first(), "aircraft type", code))


@router.post(f"{P}/aircraft-types",
             response={200: AircraftTypeOut, 201: AircraftTypeOut},
             summary="Create or update an aircraft type (directors)")
def post_aircraft_type(request, body: AircraftTypeIn):
    return _saved(services.save_aircraft_type(_body(body), actor=actor_of(request),
                                              source=API), aircraft_type_out)


@router.patch(f"{P}/aircraft-types/{{code}}", response=AircraftTypeOut,
              summary="Change an aircraft type, e.g. airframes available (directors)")
def patch_aircraft_type(request, code: str, body: AircraftTypeIn):
    _found(AircraftType.objects.visible_to(request.user).filter(code=code).first(),
           "aircraft type", code)
    changes = _body(body)
    changes.pop("code", None)
    return aircraft_type_out(services.update_aircraft_type(code, changes,
                                                           actor=actor_of(request),
                                                           source=API))


# --- guard posts, reliefs, movements (versioned, as-of aware) -------------------------

@router.get(f"{P}/guard-posts", response=list[GuardPostOut],
            summary="Guard posts as known at `as_of` (now)")
def list_guard_posts(request, as_of: Query[AwareDatetime | None] = None):
    return [guard_post_out(g) for g in queries.guard_posts(request.user, as_of)]


@router.get(f"{P}/guard-posts/{{key}}", response=GuardPostOut, summary="One guard post")
def get_guard_post(request, key: str, as_of: Query[AwareDatetime | None] = None):
    return guard_post_out(_found(queries.guard_posts(request.user, as_of)
                                 .filter(uid=key).first(), "guard post", key))


@router.post(f"{P}/guard-posts", response={200: GuardPostOut, 201: GuardPostOut},
             summary="Record that a unit guards a place")
def post_guard_post(request, body: GuardPostIn):
    return _saved(services.record_guard_post(_body(body), actor=actor_of(request),
                                             source=API), guard_post_out)


@router.patch(f"{P}/guard-posts/{{key}}", response=GuardPostOut,
              summary="Change a guard post (a new version; the old one is kept)")
def patch_guard_post(request, key: str, body: GuardPostIn):
    _found(queries.guard_posts(request.user).filter(uid=key).first(), "guard post", key)
    return guard_post_out(services.update_guard_post(key, _body(body), actor=actor_of(request),
                                                     source=API))


@router.get(f"{P}/reliefs", response=list[ReliefOut],
            summary="National reliefs as known at `as_of` (now)")
def list_reliefs(request, as_of: Query[AwareDatetime | None] = None):
    return [relief_out(r) for r in queries.reliefs(request.user, as_of)]


@router.get(f"{P}/reliefs/{{key}}", response=ReliefOut, summary="One national relief")
def get_relief(request, key: str, as_of: Query[AwareDatetime | None] = None):
    return relief_out(_found(queries.reliefs(request.user, as_of).filter(uid=key).first(),
                             "relief", key))


@router.post(f"{P}/reliefs", response={200: ReliefOut, 201: ReliefOut},
             summary="Record a national unit taking over a site")
def post_relief(request, body: ReliefIn):
    return _saved(services.record_relief(_body(body), actor=actor_of(request), source=API),
                  relief_out)


@router.patch(f"{P}/reliefs/{{key}}", response=ReliefOut,
              summary="Change a national relief")
def patch_relief(request, key: str, body: ReliefIn):
    _found(queries.reliefs(request.user).filter(uid=key).first(), "relief", key)
    return relief_out(services.update_relief(key, _body(body), actor=actor_of(request),
                                             source=API))


def _movement_body(body: MovementIn) -> dict[str, Any]:
    data = _body(body)
    if body.manifest is not None:
        data["manifest"] = [item.dict() for item in body.manifest]
    return data


@router.get(f"{P}/movements", response=list[MovementOut],
            summary="Flights and convoys as known at `as_of` (now)")
def list_movements(request, as_of: Query[AwareDatetime | None] = None):
    moves = list(queries.movements(request.user, as_of))
    warnings = load_warnings(moves)
    return [movement_out(m, warnings) for m in moves]


@router.get(f"{P}/movements/{{key}}", response=MovementOut, summary="One movement")
def get_movement(request, key: str, as_of: Query[AwareDatetime | None] = None):
    return movement_out(_found(queries.movements(request.user, as_of).filter(uid=key).first(),
                               "movement", key))


@router.post(f"{P}/movements", response={200: MovementOut, 201: MovementOut},
             summary="Record a flight or road convoy")
def post_movement(request, body: MovementIn):
    return _saved(services.record_movement(_movement_body(body), actor=actor_of(request),
                                           source=API), movement_out)


@router.patch(f"{P}/movements/{{key}}", response=MovementOut,
              summary="Record what happened: actual departure, arrival, manifest")
def patch_movement(request, key: str, body: MovementIn):
    _found(queries.movements(request.user).filter(uid=key).first(), "movement", key)
    return movement_out(services.update_movement(key, _movement_body(body),
                                                 actor=actor_of(request), source=API))


# --- board, gaps, plans -----------------------------------------------------------------

@router.get(f"{P}/board", response=ForceBoardOut,
            summary="Per contingent: still in country, sites guarded, handovers, gaps")
def board(request, as_of: Query[AwareDatetime | None] = None):
    data = queries.board(request.user, as_of)
    return {
        "as_of": data["as_of"].isoformat(), "personnel": data["personnel"],
        "vehicles": data["vehicles"], "gaps": data["gaps"],
        "plan": data["plan"].pk if data["plan"] else None,
        "plan_approved": data["plan_approved"],
        "warnings": [load_warning_out(w) for w in data["load_warnings"]],
        "deviations": [d | {"planned": d["planned"].isoformat() if d["planned"] else None,
                            "actual": d["actual"].isoformat() if d["actual"] else None,
                            "kind": str(d["kind"])} for d in data["deviations"]],
        "contingents": [{
            "contingent": contingent_out(row["contingent"]),
            "personnel": row["personnel"], "vehicles": row["vehicles"],
            "units": [{"unit": r["unit"].code, "name": r["unit"].name,
                       "personnel": r["personnel"], "vehicles": r["vehicles"]}
                      for r in row["units"]],
            "sites_guarded": [{"key": s["post"].uid, "place": s["post"].place.code,
                               "name": s["post"].place.label(), "unit": s["post"].unit.code,
                               "until": s["post"].end.isoformat() if s["post"].end else None,
                               "relief_from": s["relief"].start.isoformat()
                               if s["relief"] else None}
                              for s in row["sites_guarded"]],
            "handovers_done": [{"key": s["post"].uid, "place": s["post"].place.code,
                                "name": s["post"].place.label(),
                                "unit": s["post"].unit.code,
                                "guard_end": s["post"].end.isoformat(),
                                "relieved_by": s["relief"].relieving_unit
                                if s["relief"] else None}
                               for s in row["handovers_done"]],
            "gaps": row["gaps"]} for row in data["contingents"]],
    }


@router.get(f"{P}/gaps", response=list[GapOut],
            summary="Every gap of the handover rule in what is recorded")
def gaps(request, as_of: Query[AwareDatetime | None] = None):
    return [gap_out(g) for g in services.check_force(as_of, user=request.user)]


@router.get(f"{P}/plans", response=list[PlanSummaryOut],
            summary="Withdrawal plans, newest first")
def list_plans(request):
    return [plan_out(p, full=False) for p in queries.plans(request.user)]


@router.post(f"{P}/plans", response={201: PlanWithGapsOut},
             summary="Run the planner on the stored force and keep the plan as a draft")
def post_plan(request, body: PlanIn):
    from .access import require_write
    from .planning import plan_withdrawal

    require_write(actor_of(request), None, what="withdrawal plans")
    row = plan_withdrawal(actor=actor_of(request), start=body.start,
                          time_limit_s=body.time_limit_s, source=API, user=request.user)
    if body.note:
        row.note = body.note
        row.save(update_fields=["note"])
    return Status(201, _plan_with_gaps(row))


@router.get(f"{P}/plans/{{plan_id}}", response=PlanWithGapsOut,
            summary="One plan, with its gaps")
def get_plan(request, plan_id: int):
    row = _found(queries.plans(request.user).filter(pk=plan_id).first(), "plan", plan_id)
    return _plan_with_gaps(row)


def _plan_with_gaps(row) -> dict[str, Any]:
    """The plan with its handover check against the force now and when planned."""
    check = services.plan_check(row)
    return plan_out(row) | {
        "gaps": [gap_out(g) for g in check["gaps"]],
        "check_errors": check["errors"],
        "gaps_when_planned": [gap_out(g) for g in check["gaps_when_planned"]],
        "gaps_changed": check["changed"]}


@router.post(f"{P}/plans/{{plan_id}}/approve", response=PlanOut,
             summary="Approve a plan (directors); refused when it leaves a site unguarded")
def approve_plan(request, plan_id: int):
    _found(queries.plans(request.user).filter(pk=plan_id).first(), "plan", plan_id)
    return plan_out(services.approve_plan(plan_id, actor_of(request), source=API))
