"""The security situation on the API: incidents, casualty figures, posture, the board."""

from __future__ import annotations

import math
from datetime import datetime

from django.contrib.auth import get_user_model
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Header, Query, Router, Status
from pydantic import AwareDatetime

from sitroom.api.auth import actor_of
from sitroom.api.fast import trusted_json
from sitroom.api.pagination import check_limit, decode_cursor, encode_cursor, next_url
from sitroom.core.choices import JournalSource
from sitroom.core.errors import InvalidInput
from sitroom.core.models import Area, as_uid

from . import queries, services
from .choices import RETRY_KEY_PREFIX, STATUS_ACTIONS, IncidentStatus, Severity
from .models import Incident, IncidentType
from .schemas import (
    BulkAction,
    CasualtyIn,
    CasualtyOut,
    CellOut,
    IncidentIn,
    IncidentOut,
    IncidentPage,
    IncidentPatch,
    MergeIn,
    PostureIn,
    PostureOut,
    RevisionOut,
    SecurityBoardOut,
)

router = Router(tags=["security situation"])
API = JournalSource.API


def _area(user, code: str | None, field: str = "area") -> Area | None:
    if not code:
        return None
    area = Area.objects.visible_to(user).filter(code=code).first()
    if area is None:
        raise InvalidInput({field: _("no area with code %(code)r") % {"code": code}})
    return area


def _bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    if not raw:
        return None
    try:
        parts = [float(p) for p in raw.split(",")]
    except ValueError:
        parts = []
    if (len(parts) != 4 or not all(math.isfinite(p) for p in parts)
            or not (-180 <= parts[0] <= parts[2] <= 180 and -90 <= parts[1] <= parts[3] <= 90)):
        raise InvalidInput({"bbox": _("expected min_lon,min_lat,max_lon,max_lat in degrees "
                                      "(longitude -180 to 180, latitude -90 to 90)")})
    return parts[0], parts[1], parts[2], parts[3]


def _incident(user, uid: str) -> Incident:
    key = as_uid(uid)  # a malformed id is simply no such incident
    found = None if key is None else queries.incidents(
        user, queries.IncidentFilter(include_merged=True)).filter(uid=key).first()
    if found is None:
        raise Http404(f"no incident {uid!r}")
    return found


def incident_filter(request, area=None, type=None, subtype=None, status=None, since=None,
                    until=None, q=None, tag=None, min_severity=None, assignee=None, bbox=None,
                    as_of=None, documents=None) -> queries.IncidentFilter:
    statuses = [s for s in (status or "").split(",") if s]
    errors = {}
    if bad := [s for s in statuses if s not in IncidentStatus.values]:
        errors["status"] = _("unknown status %(code)r; expected one of: %(codes)s") % {
            "code": bad[0], "codes": ", ".join(IncidentStatus.values)}
    # A filter naming nothing that exists is a mistake to point out, not an empty answer.
    types = dict(IncidentType.objects.filter(code__in=[c for c in (type, subtype) if c])
                 .values_list("code", "parent_id"))
    if type and types.get(type, 0) is not None:
        errors["type"] = _("unknown incident type %(code)r") % {"code": type}
    if subtype and types.get(subtype) is None:
        errors["subtype"] = _("unknown sub-type %(code)r") % {"code": subtype}
    if min_severity is not None and min_severity not in Severity.values:
        errors["min_severity"] = _("must be 1 (minor) to 5 (critical)")
    if assignee and not get_user_model().objects.filter(username=assignee).exists():
        errors["assignee"] = _("no user %(name)r") % {"name": assignee}
    if errors:
        raise InvalidInput(errors)
    return queries.IncidentFilter(
        area=_area(request.user, area), type=type, subtype=subtype, statuses=statuses,
        since=since, until=until, q=q, tag=tag, min_severity=min_severity, assignee=assignee,
        bbox=_bbox(bbox), as_of=as_of, documents=documents)


@router.get("/incidents", response=IncidentPage, summary="Incidents, newest first")
def list_incidents(
    request, area: str | None = None, type: str | None = None, subtype: str | None = None,
    status: str | None = None, since: Query[AwareDatetime | None] = None,
    until: Query[AwareDatetime | None] = None, q: str | None = None, tag: str | None = None,
    min_severity: int | None = None, assignee: str | None = None, bbox: str | None = None,
    as_of: Query[AwareDatetime | None] = None, documents: bool | None = None,
    limit: int = 50, cursor: str | None = None,
):
    """`status` takes a comma-separated list; `bbox` is min_lon,min_lat,max_lon,max_lat;
    `as_of` shows what was known then, each incident as it stood at that moment (its facts,
    area and status then), and the filters apply to that state. `documents=true` keeps the
    incidents whose page lists a document (their own or a merged duplicate's, not
    withdrawn), `documents=false` those that list none."""
    check_limit(limit)
    flt = incident_filter(request, area, type, subtype, status, since, until, q, tag,
                          min_severity, assignee, bbox, as_of, documents)
    if cursor:
        value = decode_cursor(cursor)
        try:
            occurred, last_id = datetime.fromisoformat(value[0]), int(value[1])
            if occurred.tzinfo is None:
                raise ValueError(value[0])
        except (IndexError, TypeError, ValueError):
            raise InvalidInput({"cursor": _("is not a cursor this API issued")}) from None
        flt.older_than = occurred, last_id
    rows = list(queries.incidents(request.user, flt)[: limit + 1])
    more, rows = len(rows) > limit, rows[:limit]
    nxt = encode_cursor([rows[-1].occurred_at.isoformat(), rows[-1].pk]) if more else None
    return IncidentPage(items=IncidentOut.all(rows, flt.as_of), next=next_url(request, nxt))


@router.post("/incidents", response={201: IncidentOut, 200: IncidentOut},
             summary="Report an incident")
def create_incident(request, body: IncidentIn,
                    idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    """Send an `Idempotency-Key` so that a device retrying on a flaky connection never
    creates a duplicate: a repeated key returns the incident first created (status 200);
    the same key with another report (another type, title or time) is refused."""
    external_id = _retry_key(request, idempotency_key)
    if body.area:
        _area(request.user, body.area)
    try:
        incident, created = services.report_incident(
            actor=actor_of(request), source=API, external_id=external_id, **body.dict())
    except InvalidInput as exc:
        if "external_id" in exc.errors:  # the key is the external id
            raise _key_reused() from None
        raise
    return Status(201 if created else 200, IncidentOut.all([incident])[0])


def _retry_key(request, key: str | None) -> str | None:
    """The external id an `Idempotency-Key` is kept under: the user's own namespace."""
    if key is None:
        return None
    if not 1 <= len(key) <= 100:
        raise InvalidInput({"Idempotency-Key": _("must be 1 to 100 characters long")})
    return f"{RETRY_KEY_PREFIX}{request.user.pk}:{key}"


def _key_reused() -> InvalidInput:
    return InvalidInput({"Idempotency-Key": [
        _("was already used for another report; send a new key with a new report")]})


def _same(stored, data: dict, fields: tuple[str, ...]) -> bool:
    """Whether a retried request is the one first stored under its key."""
    def value(name):
        v = getattr(stored, name)
        return v.code if hasattr(v, "code") else v
    return all(value(name) == data[name] for name in fields)


@router.get("/incidents/map", response=list[CellOut],
            summary="Incident counts by grid cell, for the map")
def incident_map(
    request, cell: float = 0.5, area: str | None = None, type: str | None = None,
    subtype: str | None = None, status: str | None = None,
    since: Query[AwareDatetime | None] = None, until: Query[AwareDatetime | None] = None,
    q: str | None = None, tag: str | None = None, min_severity: int | None = None,
    assignee: str | None = None, bbox: str | None = None,
    as_of: Query[AwareDatetime | None] = None, documents: bool | None = None,
):
    """The same filters as the incident list (`GET /incidents`), so the map shows
    exactly the incidents the list does; `cell` is the grid's cell size in degrees."""
    if not 0.0001 <= cell <= 10:
        raise InvalidInput({"cell": _("must be between 0.0001 and 10 degrees")})
    flt = incident_filter(request, area, type, subtype, status, since, until, q, tag,
                          min_severity, assignee, bbox, as_of, documents)
    return trusted_json(queries.map_cells(request.user, flt, cell))


@router.post("/incidents/bulk", response=list[IncidentOut],
             summary="Verify, close, discard, reopen or assign many incidents at once")
def bulk(request, body: BulkAction):
    uids = [as_uid(i) for i in body.ids]
    found = {str(i.uid): i for i in queries.incidents(
        request.user, queries.IncidentFilter(include_merged=True)).filter(
            uid__in=[u for u in uids if u is not None])}
    if missing := [i for i in body.ids if str(as_uid(i)) not in found]:
        raise InvalidInput({"ids": _("no incident %(id)r") % {"id": missing[0]}})
    items = list(found.values())
    if body.action == "assign" and ("assignee" not in body.model_fields_set
                                    or body.assignee == ""):
        # Unassigning is said explicitly (null), never read from a forgotten field.
        raise InvalidInput({"assignee": _(
            "is required with action=assign: a user name, or null to unassign")})
    if body.action == "assign":
        done = services.assign(items, body.assignee, actor=actor_of(request), source=API)
    else:
        done = services.set_status(items, STATUS_ACTIONS[body.action], actor=actor_of(request),
                                   source=API)
    return IncidentOut.all(done)


@router.get("/incidents/{uid}", response=IncidentOut)
def get_incident(request, uid: str, as_of: Query[AwareDatetime | None] = None):
    """The incident now; with `as_of`, as it stood at that moment (its facts, area,
    status and document count then; 404 if it was not known yet)."""
    incident = _incident(request.user, uid)
    if as_of is not None:
        incident = _then(incident, as_of)
    return IncidentOut.all([incident], as_of)[0]


def _then(incident, as_of):
    then = queries.incident_then(incident, as_of)
    if then is None:
        raise Http404(_("incident %(id)s was not known yet at %(as_of)s")
                       % {"id": incident.uid, "as_of": as_of.isoformat()})
    return then


@router.patch("/incidents/{uid}", response=IncidentOut, summary="Correct an incident's facts")
def patch_incident(request, uid: str, body: IncidentPatch):
    changes = body.dict(exclude_unset=True)
    version = changes.pop("version", None)
    if changes.get("area"):
        _area(request.user, changes["area"])
    incident = services.edit_incident(_incident(request.user, uid), changes,
                                      actor=actor_of(request), source=API,
                                      expected_version=version)
    return IncidentOut.all([incident])[0]


@router.get("/incidents/{uid}/history", response=list[RevisionOut])
def incident_history(request, uid: str, as_of: Query[AwareDatetime | None] = None):
    """Every revision, with those of the duplicates merged into it; with `as_of`, those
    recorded by then (of the duplicates merged by then)."""
    return [RevisionOut(incident=str(r.incident.uid), number=r.number,
                        recorded_at=r.recorded_at, actor=r.actor_label, change=r.change,
                        status=r.status, state=r.state)
            for r in queries.history(_incident(request.user, uid), as_of)]


@router.post("/incidents/{uid}/merge", response=IncidentOut,
             summary="Merge a duplicate report into this incident")
def merge(request, uid: str, body: MergeIn):
    keep = services.merge(_incident(request.user, uid), _incident(request.user, body.duplicate),
                          actor=actor_of(request), source=API)
    return IncidentOut.all([keep])[0]


@router.get("/casualties", response=list[CasualtyOut],
            summary="Casualty and detention figures, every report kept")
def list_casualties(request, area: str | None = None,
                    as_of: Query[AwareDatetime | None] = None):
    return [CasualtyOut.of(r) for r in queries.casualty_reports(
        request.user, area=_area(request.user, area), as_of=as_of)]


@router.post("/casualties", response={201: CasualtyOut, 200: CasualtyOut},
             summary="Record one body's figure")
def create_casualty(request, body: CasualtyIn,
                    idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    """An `Idempotency-Key` makes a retry return the figure first recorded (status 200)."""
    _area(request.user, body.area)
    data = body.dict()
    report, created = services.record_casualties(
        source_ref=data.pop("source"), actor=actor_of(request), source=API,
        external_id=_retry_key(request, idempotency_key), **data)
    if not created and not _same(report, data, ("area", "reporting_body", "category",
                                                "group", "count", "as_of")):
        raise _key_reused()
    return Status(201 if created else 200, CasualtyOut.of(report))


@router.get("/posture", response=list[PostureOut],
            summary="Posture changes of an area, of those above it and of those inside it")
def list_posture(request, area: str):
    """A measure declared for the whole country applies to the area too, so it is shown to
    whoever may see the area."""
    return [PostureOut.of(c) for c in queries.posture_history(_area(request.user, area))]


@router.post("/posture", response={201: PostureOut, 200: PostureOut},
             summary="Record a change of measure or state in an area")
def create_posture(request, body: PostureIn,
                   idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    """An `Idempotency-Key` makes a retry return the change first recorded (status 200)."""
    _area(request.user, body.area)
    data = body.dict()
    change, created = services.change_posture(
        source_ref=data.pop("source"), actor=actor_of(request), source=API,
        external_id=_retry_key(request, idempotency_key), **data)
    if not created and not _same(change, data, ("area", "kind", "state", "effective_at")):
        raise _key_reused()
    return Status(201 if created else 200, PostureOut.of(change))


@router.get("/board", response=SecurityBoardOut, summary="The country board at a moment")
def board(request, as_of: Query[AwareDatetime | None] = None):
    data = queries.country_board(request.user, as_of)
    return SecurityBoardOut(moment=data["moment"], rows=[
        {"area": r["area"].code, "name": r["area"].name, "incidents_24h": r["incidents_24h"],
         "posture": {k: {key: v[key] for key in ("state", "since", "hours", "decree",
                                                  "estimate", "inherited")}
                     for k, v in r["cells"].items()}} for r in data["rows"]])
