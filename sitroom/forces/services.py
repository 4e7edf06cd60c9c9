"""Every write of the stabilisation force, and the handover check of what was recorded.

Each function takes the data as a caller sends it (codes for references, ISO 8601 times
with offset or aware datetimes), checks all of it and raises InvalidInput naming every
bad field before anything is written, checks the actor's right (`access`), writes the
rows and one journal entry in one transaction. A second call with the same data changes
nothing and journals nothing, so the demo loader and retries are harmless.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import replace
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from sitroom.core.actors import Actor
from sitroom.core.choices import BACKDATABLE_SOURCES
from sitroom.core.errors import InvalidInput
from sitroom.core.i18n import described
from sitroom.core.models import Area, Organization, Place
from sitroom.core.services import EntryDraft, names_in, record_entries

from .access import APPROVERS, SITE_WRITERS, WRITERS, require_write
from .choices import AirfieldRole, MovementKind, PlanStatus
from .models import (
    AircraftType,
    Airfield,
    Contingent,
    GuardPost,
    Movement,
    Relief,
    Unit,
    Vehicle,
    WithdrawalPlan,
)
from .planner.handover import Gap, boarding_gaps, site_gaps
from .render import moment_text

AIRCRAFT_DATA = Path(__file__).resolve().parent / "data" / "aircraft_types.json"
DEFAULT_OVERLAP_MIN = 60
Errors = dict[str, list[str]]


# --- checking input ----------------------------------------------------------------

def _err(errors: Errors, name: str, message: str) -> None:
    errors.setdefault(name, []).append(str(message))


def _text(data: dict, name: str, errors: Errors, *, required: bool = False,
          max_len: int = 200) -> str:
    value = data.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str):
        _err(errors, name, _("must be text"))
        return ""
    value = value.strip()
    if required and not value:
        _err(errors, name, _("must not be empty"))
    elif len(value) > max_len:
        _err(errors, name, _("at most %(n)d characters") % {"n": max_len})
    return value


def _names(data: dict, name: str, errors: Errors, *, required: bool = False
           ) -> dict[str, str]:
    """A name in English, Kazakh and Russian, in either form `names_in` reads, each
    checked as text. English is the one required; the others fall back to it when
    shown."""
    given = names_in(data, name)
    return {key: _text(given, key, errors, required=required and key == name)
            for key in given}


def _number(data: dict, name: str, errors: Errors, *, required: bool = False,
            integer: bool = True, low: float = 0, high: float | None = None,
            default: Any = None) -> Any:
    value = data.get(name, default)
    if value is None:
        if required:
            _err(errors, name, _("is required"))
        return None
    ok = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok:
        _err(errors, name, _("must be a whole number") if integer else _("must be a number"))
        return None
    if value < low or (high is not None and value > high):
        if high is None:
            _err(errors, name, _("must be at least %(low)s") % {"low": low})
        else:
            _err(errors, name, _("must be between %(low)s and %(high)s")
                 % {"low": low, "high": high})
        return None
    return value


def _moment(data: dict, name: str, errors: Errors, *, required: bool = False
            ) -> datetime | None:
    value = data.get(name)
    if value in (None, ""):
        if required:
            _err(errors, name, _("is required"))
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            _err(errors, name, _("must be an ISO 8601 date and time, e.g. "
                                 "2022-01-13T10:00:00+06:00"))
            return None
    if not isinstance(value, datetime):
        _err(errors, name, _("must be a date and time"))
        return None
    if timezone.is_naive(value):
        _err(errors, name, _("needs a time-zone offset, e.g. 2022-01-13T10:00:00+06:00"))
        return None
    return value


def _clock(data: dict, name: str, errors: Errors) -> time | None:
    value = data.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        _err(errors, name, _("must be a time of day, e.g. 07:00"))
        return None


def _ref(model, data: dict, name: str, errors: Errors, *, required: bool = False,
         key: str = "code"):
    code = data.get(name)
    if code in (None, ""):
        if required:
            _err(errors, name, _("is required"))
        return None
    found = model.objects.filter(**{key: code}).first()
    if found is None:
        _err(errors, name, _("no %(model)s with code %(code)r")
             % {"model": model._meta.verbose_name, "code": code})
    return found


def _flag(data: dict, name: str, errors: Errors, default: bool = False) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        _err(errors, name, _("must be true or false"))
        return default
    return value


def _code(data: dict, errors: Errors) -> str:
    code = data.get("code")
    if not isinstance(code, str) or not 0 < len(code) <= 40 or not code.isascii() or \
            not all(ch.isalnum() or ch in "-_." for ch in code):
        _err(errors, "code", _("must be 1 to 40 ASCII letters, digits, '-', '_' or '.'"))
        return ""
    return code


def _raise(errors: Errors) -> None:
    if errors:
        raise InvalidInput(errors)


def _actor(actor: Actor | Any) -> Actor:
    return Actor.of(actor)


# --- journal -----------------------------------------------------------------------

def _journal(actor: Actor, source: str, msgid: str, *, subject: tuple[str, str],
             payload: dict | None = None, area: Area | None = None,
             place: Place | None = None, organization: Organization | None = None,
             occurred_at: datetime | None = None, recorded_at: datetime | None = None,
             estimate: bool = False, params: dict[str, Any] | None = None):
    text = described(msgid, **(params or {}))
    now = timezone.now()
    if occurred_at is not None and occurred_at > now:
        occurred_at = None  # a planned time: the entry is about now
    backdate = source in BACKDATABLE_SOURCES and recorded_at is not None
    if backdate and occurred_at is not None and recorded_at < occurred_at:
        occurred_at = recorded_at
    draft = EntryDraft(kind="force", summary=text["summary"], area=area, place=place,
                       organization=organization, occurred_at=occurred_at,
                       recorded_at=recorded_at if backdate else None,
                       subject=("forces", subject[0], str(subject[1])), estimate=estimate,
                       payload=json.loads(json.dumps((payload or {}) | {"i18n": text["i18n"]},
                                                     default=str)))
    return record_entries([draft], actor=actor, source=source, checked=True)[0]


def _changes(obj, fields: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields that would change."""
    out = {}
    for key, value in fields.items():
        old = getattr(obj, key)
        if old != value:
            out[key] = [str(old) if old is not None else None,
                        str(value) if value is not None else None]
    return out


def _upsert(model, lookup: dict[str, Any], fields: dict[str, Any], *, actor: Actor,
            source: str, msg_added: str, msg_changed: str, subject: str, name: str,
            area: Area | None = None, organization: Organization | None = None):
    """Create or update a row in place; journal the change with old and new values."""
    obj = model.objects.filter(**lookup).first()
    created = obj is None
    changes = {k: [None, str(v)] for k, v in fields.items()} if created else \
        _changes(obj, fields)
    if not changes:
        return obj, False
    if created:
        obj = model(**lookup)
    for key, value in fields.items():
        setattr(obj, key, value)
    obj.save()
    key = lookup.get("code") or obj.pk
    _journal(actor, source, msg_added if created else msg_changed, subject=(subject, key),
             payload={"changes": changes, "created": created}, area=area,
             organization=organization,
             params={"name": obj if hasattr(obj, "name_ru") else name})
    return obj, True


# --- contingents, units, vehicles, airfields, aircraft types ------------------------

@transaction.atomic
def save_contingent(data: dict[str, Any], *, actor: Actor | Any, source: str):
    """Create or update a contingent by its code. Returns (contingent, changed)."""
    actor = _actor(actor)
    errors: Errors = {}
    code = _code(data, errors)
    state = _text(data, "state", errors, required=True, max_len=2)
    if state and (len(state) != 2 or not state.isalpha()):
        _err(errors, "state", _("must be an ISO 3166-1 alpha-2 code"))
    fields = {
        "state": state.upper(),
        **_names(data, "name", errors, required=True),
        "organization": _ref(Organization, data, "organization", errors),
        "area": _ref(Area, data, "area", errors, required=True),
        "commander": _text(data, "commander", errors),
        "personnel_declared": _number(data, "personnel_declared", errors),
        "personnel_estimate": _flag(data, "personnel_estimate", errors),
        "source": _text(data, "source", errors, max_len=4000),
        "note": _text(data, "note", errors, max_len=4000),
    }
    _raise(errors)
    require_write(actor, fields["area"], what=_("contingents"))
    return _upsert(Contingent, {"code": code}, fields, actor=actor, source=source,
                   msg_added=gettext_noop("Contingent %(name)s added"),
                   msg_changed=gettext_noop("Contingent %(name)s updated"),
                   subject="contingent", name=fields["name"], area=fields["area"],
                   organization=fields["organization"])


@transaction.atomic
def save_unit(data: dict[str, Any], *, actor: Actor | Any, source: str):
    """Create or update a unit by its code. Returns (unit, changed)."""
    actor = _actor(actor)
    errors: Errors = {}
    code = _code(data, errors)
    contingent = _ref(Contingent, data, "contingent", errors, required=True)
    fields = {
        "contingent": contingent,
        **_names(data, "name", errors, required=True),
        "personnel": _number(data, "personnel", errors, required=True),
        "estimate": _flag(data, "estimate", errors),
        "arrived_at": _moment(data, "arrived_at", errors, required=True),
        "departure_airfield": _ref(Airfield, data, "departure_airfield", errors),
        "home_airfield": _ref(Airfield, data, "home_airfield", errors),
        "road_allowed": _flag(data, "road_allowed", errors),
        "road_min": _number(data, "road_min", errors, default=0),
        "source": _text(data, "source", errors, max_len=4000),
        "note": _text(data, "note", errors, max_len=4000),
    }
    if fields["departure_airfield"] and fields["departure_airfield"].role != AirfieldRole.APOE:
        _err(errors, "departure_airfield", _("is not an airfield in country (APOE)"))
    if fields["home_airfield"] and fields["home_airfield"].role != AirfieldRole.APOD:
        _err(errors, "home_airfield", _("is not a home airfield (APOD)"))
    _raise(errors)
    require_write(actor, contingent.area, what=_("units"))
    return _upsert(Unit, {"code": code}, fields, actor=actor, source=source,
                   msg_added=gettext_noop("Unit %(name)s added"),
                   msg_changed=gettext_noop("Unit %(name)s updated"),
                   subject="unit", name=fields["name"], area=contingent.area)


@transaction.atomic
def save_vehicles(data: dict[str, Any], *, actor: Actor | Any, source: str):
    """Set a unit's vehicles of one kind (count 0 keeps the kind with none left)."""
    actor = _actor(actor)
    errors: Errors = {}
    unit = _ref(Unit, data, "unit", errors, required=True)
    kind = _text(data, "kind", errors, required=True, max_len=60)
    fields = {
        "count": _number(data, "count", errors, required=True),
        "weight_kg": _number(data, "weight_kg", errors, required=True, low=1, high=200_000),
        "length_m": _number(data, "length_m", errors, required=True, integer=False, low=0.1,
                            high=50),
        "width_m": _number(data, "width_m", errors, required=True, integer=False, low=0.1,
                           high=10),
        "height_m": _number(data, "height_m", errors, required=True, integer=False, low=0.1,
                            high=10),
        "estimate": _flag(data, "estimate", errors),
        "source": _text(data, "source", errors, max_len=4000),
    }
    _raise(errors)
    require_write(actor, unit.contingent.area, what=_("vehicles"))
    return _upsert(Vehicle, {"unit": unit, "kind": kind}, fields, actor=actor, source=source,
                   msg_added=gettext_noop("Vehicles %(name)s added"),
                   msg_changed=gettext_noop("Vehicles %(name)s updated"),
                   subject="vehicle", name=f"{unit.code}: {kind}",
                   area=unit.contingent.area)


@transaction.atomic
def save_airfield(data: dict[str, Any], *, actor: Actor | Any, source: str):
    """Create or update an airfield by its code. An in-country airfield names its place."""
    actor = _actor(actor)
    errors: Errors = {}
    code = _code(data, errors)
    place = _ref(Place, data, "place", errors)
    role = data.get("role")
    if role not in AirfieldRole.values:
        _err(errors, "role", _("must be one of: %(s)s") % {"s": ", ".join(AirfieldRole.values)})
    lat = _number(data, "lat", errors, integer=False, low=-90, high=90,
                  default=place.lat if place else None, required=place is None)
    lon = _number(data, "lon", errors, integer=False, low=-180, high=180,
                  default=place.lon if place else None, required=place is None)
    fields = {
        "icao": _text(data, "icao", errors, max_len=4).upper(),
        **_names(data, "name", errors, required=True),
        "place": place, "lat": lat, "lon": lon, "role": role,
        "country": _text(data, "country", errors, max_len=2).upper(),
        "max_on_ground": _number(data, "max_on_ground", errors, low=1, high=500, default=4),
        "opens": _clock(data, "opens", errors),
        "closes": _clock(data, "closes", errors),
        "tz": _text(data, "tz", errors, max_len=60) or "Asia/Almaty",
        "estimate": _flag(data, "estimate", errors),
        "source": _text(data, "source", errors, max_len=4000),
        "note": _text(data, "note", errors, max_len=4000),
    }
    if (fields["opens"] is None) != (fields["closes"] is None):
        _err(errors, "closes", _("give both opening and closing times, or neither"))
    if role == AirfieldRole.APOE and place is None and not errors:
        _err(errors, "place", _("an airfield in country names its place"))
    _raise(errors)
    require_write(actor, place.area if place else None, what=_("airfields"))
    return _upsert(Airfield, {"code": code}, fields, actor=actor, source=source,
                   msg_added=gettext_noop("Airfield %(name)s added"),
                   msg_changed=gettext_noop("Airfield %(name)s updated"),
                   subject="airfield", name=fields["name"],
                   area=place.area if place else None)


AIRCRAFT_FIELDS = ("name", "name_kk", "name_ru", "acl_kg", "max_payload_kg", "floor_length_m",
                   "floor_width_m", "height_m", "seats", "troop_seats", "cruise_kmh",
                   "turnaround_min", "airframes_available", "available_from", "sources", "note",
                   "estimate")


def _aircraft_fields(data: dict[str, Any], errors: Errors) -> dict[str, Any]:
    sources = data.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        _err(errors, "sources", _("must be a list of addresses"))
        sources = []
    return {
        "name": _text(data, "name", errors, required=True),
        "name_kk": _text(data, "name_kk", errors),
        "name_ru": _text(data, "name_ru", errors),
        "acl_kg": _number(data, "acl_kg", errors, required=True, low=1, high=300_000),
        "max_payload_kg": _number(data, "max_payload_kg", errors, high=300_000),
        "floor_length_m": _number(data, "floor_length_m", errors, required=True,
                                  integer=False, low=1, high=60),
        "floor_width_m": _number(data, "floor_width_m", errors, required=True,
                                 integer=False, low=1, high=10),
        "height_m": _number(data, "height_m", errors, required=True, integer=False, low=1,
                            high=10),
        "seats": _number(data, "seats", errors, required=True, high=1000),
        "troop_seats": _number(data, "troop_seats", errors, high=1000, default=0),
        "cruise_kmh": _number(data, "cruise_kmh", errors, required=True, low=100,
                              high=1200),
        "turnaround_min": _number(data, "turnaround_min", errors, required=True, low=0,
                                  high=24 * 60),
        "airframes_available": _number(data, "airframes_available", errors, high=1000,
                                       default=0),
        "available_from": _moment(data, "available_from", errors),
        "sources": sources,
        "note": _text(data, "note", errors, max_len=4000),
        "estimate": _flag(data, "estimate", errors, default=True),
    }


@transaction.atomic
def save_aircraft_type(data: dict[str, Any], *, actor: Actor | Any, source: str):
    """Create or update an aircraft type (reference data: directors only)."""
    actor = _actor(actor)
    errors: Errors = {}
    code = _code(data, errors)
    fields = _aircraft_fields(data, errors)
    _raise(errors)
    require_write(actor, None, roles=APPROVERS, what=_("aircraft types"))
    return _upsert(AircraftType, {"code": code}, fields, actor=actor, source=source,
                   msg_added=gettext_noop("Aircraft type %(name)s added"),
                   msg_changed=gettext_noop("Aircraft type %(name)s updated"),
                   subject="aircrafttype", name=fields["name"])


@transaction.atomic
def update_aircraft_type(code: str, changes: dict[str, Any], *, actor: Actor | Any,
                         source: str):
    """Change some figures of an aircraft type (e.g. airframes available)."""
    current = AircraftType.objects.filter(code=code).first()
    if current is None:
        raise InvalidInput({"code": [_("no aircraft type %(code)r") % {"code": code}]})
    if unknown := sorted(set(changes) - set(AIRCRAFT_FIELDS)):
        raise InvalidInput({name: [_("cannot be changed here")] for name in unknown})
    data = {k: getattr(current, k) for k in AIRCRAFT_FIELDS} | {"code": code} | changes
    return save_aircraft_type(data, actor=actor, source=source)[0]


def load_aircraft_types(*, actor: Actor | Any, source: str = "cli",
                        path: Path | None = None) -> int:
    """Load the aircraft types from the data file (all or nothing). Keeps the airframes
    available already set unless the file gives them. Returns how many changed."""
    actor = _actor(actor)
    try:
        rows = json.loads(Path(path or AIRCRAFT_DATA).read_text(encoding="utf-8"))
        rows = rows["aircraft_types"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput({"file": [_("cannot read the aircraft types: %(e)s")
                                     % {"e": exc}]}) from exc
    changed = 0
    with transaction.atomic():
        for i, row in enumerate(rows):
            current = AircraftType.objects.filter(code=row.get("code")).first()
            data = dict(row)
            if current is not None and "airframes_available" not in row:
                data["airframes_available"] = current.airframes_available
                data["available_from"] = current.available_from
            try:
                changed += save_aircraft_type(data, actor=actor, source=source)[1]
            except InvalidInput as exc:
                raise InvalidInput({f"aircraft_types[{i}].{k}": v
                                    for k, v in exc.errors.items()}) from exc
    return changed


# --- versioned records: guard posts, reliefs, movements ------------------------------

def _versioned(model, uid: str, fields: dict[str, Any], *, actor: Actor, source: str,
               recorded_at: datetime | None, msgid: str, params: dict[str, Any],
               area: Area, place: Place | None = None, occurred_at: datetime | None = None):
    """Store a new version of record `uid` unless the current one already says the same.
    Returns (row, changed)."""
    current = model.objects.filter(uid=uid, superseded_at__isnull=True).first()
    if current is not None and not _changes(current, fields):
        return current, False
    now = timezone.now()
    when = recorded_at if (recorded_at and source in BACKDATABLE_SOURCES) else now
    if current is not None:
        if current.recorded_at > when:
            when = current.recorded_at
        current.superseded_at = when
        current.save(update_fields=["superseded_at"])
    row = model(uid=uid, recorded_at=when, actor_label=actor.label, **fields)
    entry = _journal(actor, source, msgid, subject=(model.__name__.lower(), uid),
                     payload={"uid": uid, "version": "new" if current is None else "change",
                              "changes": _changes(current, fields) if current else {}},
                     area=area, place=place, occurred_at=occurred_at or when,
                     recorded_at=when, estimate=bool(fields.get("estimate")), params=params)
    row.journal_seq = entry.seq
    row.save()
    return row, True


def _uid(data: dict, errors: Errors) -> str:
    key = data.get("key") or data.get("uid")
    if key is None:
        return uuid.uuid4().hex[:16]
    if not isinstance(key, str) or not 0 < len(key) <= 40:
        _err(errors, "key", _("must be 1 to 40 characters long"))
        return ""
    return key


def _record_fields(data: dict, errors: Errors) -> dict[str, Any]:
    return {"estimate": _flag(data, "estimate", errors),
            "source": _text(data, "source", errors, max_len=4000),
            "note": _text(data, "note", errors, max_len=4000)}


@transaction.atomic
def record_guard_post(data: dict[str, Any], *, actor: Actor | Any, source: str):
    """A unit guards a place from `start` (until `end`, when known). `key` names the
    record: the same key again records a new version. Returns (guard post, changed)."""
    actor = _actor(actor)
    errors: Errors = {}
    uid = _uid(data, errors)
    fields = {
        "unit": _ref(Unit, data, "unit", errors, required=True),
        "place": _ref(Place, data, "place", errors, required=True),
        "start": _moment(data, "start", errors, required=True),
        "end": _moment(data, "end", errors),
        "travel_min": _number(data, "travel_min", errors, high=24 * 60, default=60),
        "overlap_min": _number(data, "overlap_min", errors, high=24 * 60),
    } | _record_fields(data, errors)
    if fields["start"] and fields["end"] and fields["end"] <= fields["start"]:
        _err(errors, "end", _("is not after start"))
    _raise(errors)
    place = fields["place"]
    require_write(actor, place.area, roles=SITE_WRITERS, what=_("guard posts"))
    return _versioned(GuardPost, uid, fields, actor=actor, source=source,
                      recorded_at=_moment(data, "recorded_at", {}), area=place.area,
                      place=place, occurred_at=fields["end"] or fields["start"],
                      msgid=gettext_noop("%(unit)s guards %(place)s"),
                      params={"unit": fields["unit"], "place": place})


@transaction.atomic
def record_relief(data: dict[str, Any], *, actor: Actor | Any, source: str):
    """A national unit takes over the guard of a place from `start`."""
    actor = _actor(actor)
    errors: Errors = {}
    uid = _uid(data, errors)
    fields = {
        "place": _ref(Place, data, "place", errors, required=True),
        **_names(data, "relieving_unit", errors, required=True),
        "organization": _ref(Organization, data, "organization", errors),
        "start": _moment(data, "start", errors, required=True),
    } | _record_fields(data, errors)
    _raise(errors)
    place = fields["place"]
    require_write(actor, place.area, roles=SITE_WRITERS, what=_("national reliefs"))
    # the journal names the relieving unit in each language (English where none is given)
    unit = {"en": fields["relieving_unit"], "ru": fields["relieving_unit_ru"],
            "kk": fields["relieving_unit_kk"]}
    return _versioned(Relief, uid, fields, actor=actor, source=source,
                      recorded_at=_moment(data, "recorded_at", {}), area=place.area,
                      place=place, occurred_at=fields["start"],
                      msgid=gettext_noop("%(unit)s takes over %(place)s"),
                      params={"unit": unit, "place": place})


MANIFEST_ITEM_FIELDS = ("unit", "personnel", "vehicles")


def _in_country(units: list[Unit], leaves: datetime, uid: str
                ) -> tuple[Counter, dict[str, Counter]]:
    """Personnel and vehicles (by kind) of `units` that could still leave at `leaves`: the
    unit's strength (nothing before it arrived) less what every other recorded movement
    carries out, whenever it flew, for people recorded as leaving later are not here to
    leave now as well. The movement `uid` itself is left out, so correcting it does not
    count it twice."""
    codes = {u.code for u in units}
    gone_people: Counter = Counter()
    gone_vehicles: dict[str, Counter] = {code: Counter() for code in codes}
    for m in Movement.objects.known_at(None).filter(
            removed=False, actual_departure__isnull=False).exclude(uid=uid):
        for item in m.manifest or []:
            code = item.get("unit")
            if code in codes:
                gone_people[code] += int(item.get("personnel") or 0)
                gone_vehicles[code].update({k: int(n) for k, n in
                                            (item.get("vehicles") or {}).items()})
    people: Counter = Counter()
    vehicles: dict[str, Counter] = {}
    for u in units:
        here = u.arrived_at is None or u.arrived_at <= leaves
        people[u.code] = max(0, u.personnel - gone_people[u.code]) if here else 0
        vehicles[u.code] = Counter({v.kind: max(0, v.count - gone_vehicles[u.code][v.kind])
                                    if here else 0 for v in u.vehicles.all()})
    return people, vehicles


def _manifest(value: Any, errors: Errors, *, actor: Actor, leaves: datetime | None = None,
              uid: str = "") -> list[dict[str, Any]]:
    """The units aboard. A unit the actor may not see is "no unit", as one that does not
    exist: a write names nothing the actor may not read. When the movement has left
    (`leaves`), each unit carries no more than it still has in country then."""
    if not isinstance(value, list) or not value:
        _err(errors, "manifest", _("must list at least one unit"))
        return []
    out = []
    unit_qs = Unit.objects.filter(code__in=[i.get("unit") for i in value
                                            if isinstance(i, dict)])
    if actor.user is not None:
        unit_qs = unit_qs.visible_to(actor.user)
    units = {u.code: u for u in unit_qs.prefetch_related("vehicles")}
    people_left, vehicles_left = _in_country(list(units.values()), leaves, uid) \
        if leaves is not None else (None, None)
    for i, item in enumerate(value):
        where = f"manifest[{i}]"
        if not isinstance(item, dict):
            _err(errors, where, _("must be an object with unit, personnel and vehicles"))
            continue
        for name in sorted(set(item) - set(MANIFEST_ITEM_FIELDS)):
            _err(errors, f"{where}.{name}", _("is not a field this request takes"))
        unit = units.get(item.get("unit"))
        if unit is None:
            _err(errors, f"{where}.unit", _("no unit with code %(code)r")
                 % {"code": item.get("unit")})
            continue
        personnel = _number(item, "personnel", sub := {}, default=0, high=unit.personnel)
        for msgs in sub.values():
            _err(errors, f"{where}.personnel", " ".join(msgs))
        if people_left is not None and personnel and personnel > people_left[unit.code]:
            _err(errors, f"{where}.personnel", ngettext(
                "%(unit)s has %(n)d person left in country at %(t)s; the manifest says "
                "%(m)d",
                "%(unit)s has %(n)d people left in country at %(t)s; the manifest says "
                "%(m)d", people_left[unit.code])
                % {"unit": unit.code, "n": people_left[unit.code], "t": moment_text(leaves),
                   "m": personnel})
        vehicles = item.get("vehicles") or {}
        if not isinstance(vehicles, dict):
            _err(errors, f"{where}.vehicles", _("must map vehicle kinds to counts"))
            vehicles = {}
        kinds = {v.kind: v.count for v in unit.vehicles.all()}
        clean: dict[str, int] = {}
        for kind, count in vehicles.items():
            if kind not in kinds:
                _err(errors, f"{where}.vehicles.{kind}", _("unit %(unit)s has no %(kind)s")
                     % {"unit": unit.code, "kind": kind})
            elif isinstance(count, bool) or not isinstance(count, int) or \
                    not 0 <= count <= kinds[kind]:
                _err(errors, f"{where}.vehicles.{kind}", _("must be 0 to %(n)d")
                     % {"n": kinds[kind]})
            elif count and vehicles_left is not None and \
                    count > vehicles_left[unit.code][kind]:
                _err(errors, f"{where}.vehicles.{kind}", _(
                    "%(unit)s has %(n)d %(kind)s left in country at %(t)s; the manifest "
                    "says %(m)d") % {"unit": unit.code, "n": vehicles_left[unit.code][kind],
                                     "kind": kind, "t": moment_text(leaves), "m": count})
            elif count:
                clean[kind] = count
        out.append({"unit": unit.code, "personnel": personnel or 0, "vehicles": clean})
    return out


def _sortie_plan(data: dict, plan: WithdrawalPlan | None, errors: Errors
                 ) -> tuple[str, WithdrawalPlan | None]:
    """The sortie a movement flies and its plan: a sortie of the plan named, or of the
    plan approved now when none is named."""
    sortie = _text(data, "sortie", errors, max_len=40)
    if not sortie or "plan" in errors or "sortie" in errors:
        return sortie, plan
    named = plan is not None
    if plan is None:
        plan = WithdrawalPlan.objects.filter(status=PlanStatus.APPROVED).first()
        if plan is None:
            _err(errors, "sortie", _("no plan is approved: name the plan of sortie %(s)r")
                 % {"s": sortie})
            return sortie, None
    if sortie not in {s.get("id") for s in (plan.plan or {}).get("sorties") or []}:
        _err(errors, "sortie", (_("plan %(id)s has no sortie %(s)r") if named else
                                _("the approved plan (%(id)s) has no sortie %(s)r"))
             % {"id": plan.pk, "s": sortie})
    return sortie, plan


MOVEMENT_FIELDS = ("kind", "label", "aircraft_type", "origin", "origin_place", "destination",
                   "destination_text", "planned_departure", "planned_arrival",
                   "actual_departure", "actual_arrival", "manifest", "plan", "sortie",
                   "time_estimated", "estimate", "source", "note")


@transaction.atomic
def record_movement(data: dict[str, Any], *, actor: Actor | Any, source: str):
    """A flight or road convoy, planned or flown. Recording one that boards a unit before
    its sites are released is accepted (it happened) and shows as a gap."""
    actor = _actor(actor)
    errors: Errors = {}
    uid = _uid(data, errors)
    kind = data.get("kind")
    if kind not in MovementKind.values:
        _err(errors, "kind", _("must be one of: %(s)s") % {"s": ", ".join(MovementKind.values)})
    plan = None
    if data.get("plan") not in (None, ""):
        plan = WithdrawalPlan.objects.filter(pk=data["plan"]).first() \
            if isinstance(data["plan"], int) else None
        if plan is None:
            _err(errors, "plan", _("no plan %(id)r") % {"id": data["plan"]})
    fields = {
        "kind": kind,
        "label": _text(data, "label", errors, max_len=100),
        "aircraft_type": _ref(AircraftType, data, "aircraft_type", errors),
        "origin": _ref(Airfield, data, "origin", errors),
        "origin_place": _ref(Place, data, "origin_place", errors),
        "destination": _ref(Airfield, data, "destination", errors),
        "destination_text": _text(data, "destination_text", errors),
        "planned_departure": _moment(data, "planned_departure", errors),
        "planned_arrival": _moment(data, "planned_arrival", errors),
        "actual_departure": _moment(data, "actual_departure", errors),
        "actual_arrival": _moment(data, "actual_arrival", errors),
        "time_estimated": _flag(data, "time_estimated", errors),
    } | _record_fields(data, errors)
    fields["manifest"] = _manifest(data.get("manifest"), errors, actor=actor,
                                   leaves=fields["actual_departure"], uid=uid)
    fields["sortie"], fields["plan"] = _sortie_plan(data, plan, errors)
    if kind == MovementKind.FLIGHT:
        if fields["aircraft_type"] is None and "aircraft_type" not in errors:
            _err(errors, "aircraft_type", _("is required for a flight"))
        if fields["origin"] is None and "origin" not in errors:
            _err(errors, "origin", _("is required for a flight"))
    if kind == MovementKind.ROAD and fields["origin"] is None and \
            fields["origin_place"] is None and "origin_place" not in errors:
        _err(errors, "origin_place", _("a convoy starts at a site or an airfield"))
    origin = fields["origin"]
    if origin is not None and origin.role != AirfieldRole.APOE:
        _err(errors, "origin", _("is not an airfield in country (APOE)"))
    if not (fields["planned_departure"] or fields["actual_departure"]) and \
            "actual_departure" not in errors and "planned_departure" not in errors:
        _err(errors, "actual_departure", _("give a planned or an actual departure"))
    for dep, arr in (("planned_departure", "planned_arrival"),
                     ("actual_departure", "actual_arrival")):
        if fields[dep] and fields[arr] and fields[arr] < fields[dep]:
            _err(errors, arr, _("is before %(f)s") % {"f": dep})
    if fields["actual_departure"] and fields["actual_departure"] > \
            timezone.now() + timedelta(minutes=5):
        _err(errors, "actual_departure", _("is in the future"))
    _raise(errors)
    place = origin.place if origin is not None else fields["origin_place"]
    require_write(actor, place.area, what=_("movements"))
    params = {"label": fields["label"] or uid,
              "origin": origin or place,
              "destination": fields["destination"] or fields["destination_text"] or "—"}
    return _versioned(Movement, uid, fields | {"area": place.area}, actor=actor, source=source,
                      recorded_at=_moment(data, "recorded_at", {}), area=place.area,
                      place=place, occurred_at=fields["actual_departure"]
                      or fields["planned_departure"],
                      msgid=gettext_noop("Movement %(label)s: %(origin)s → %(destination)s"),
                      params=params)


def movement_data(m: Movement) -> dict[str, Any]:
    """A movement as the data `record_movement` takes (codes, aware datetimes)."""
    return {
        "key": m.uid, "kind": m.kind, "label": m.label,
        "aircraft_type": m.aircraft_type.code if m.aircraft_type else None,
        "origin": m.origin.code if m.origin else None,
        "origin_place": m.origin_place.code if m.origin_place else None,
        "destination": m.destination.code if m.destination else None,
        "destination_text": m.destination_text,
        "planned_departure": m.planned_departure, "planned_arrival": m.planned_arrival,
        "actual_departure": m.actual_departure, "actual_arrival": m.actual_arrival,
        "manifest": m.manifest, "plan": m.plan_id, "sortie": m.sortie,
        "time_estimated": m.time_estimated, "estimate": m.estimate, "source": m.source,
        "note": m.note,
    }


def guard_post_data(g: GuardPost) -> dict[str, Any]:
    return {"key": g.uid, "unit": g.unit.code, "place": g.place.code, "start": g.start,
            "end": g.end, "travel_min": g.travel_min, "overlap_min": g.overlap_min,
            "estimate": g.estimate, "source": g.source, "note": g.note}


def relief_data(r: Relief) -> dict[str, Any]:
    return {"key": r.uid, "place": r.place.code, "relieving_unit": r.relieving_unit,
            "relieving_unit_kk": r.relieving_unit_kk, "relieving_unit_ru": r.relieving_unit_ru,
            "organization": r.organization.code if r.organization else None,
            "start": r.start, "estimate": r.estimate, "source": r.source, "note": r.note}


def _update(model, to_data, record, uid: str, changes: dict[str, Any], *, actor, source):
    current = model.objects.filter(uid=uid, superseded_at__isnull=True).first()
    if current is None:
        raise InvalidInput({"key": [_("no record %(key)r") % {"key": uid}]})
    data = to_data(current)
    if unknown := sorted(set(changes) - set(data) - {"recorded_at"}):
        raise InvalidInput({name: [_("cannot be changed here")] for name in unknown})
    return record(data | changes | {"key": uid}, actor=actor, source=source)[0]


def update_guard_post(uid: str, changes: dict[str, Any], *, actor, source: str) -> GuardPost:
    """Change a guard post (e.g. set its end): a new version, the old one kept."""
    return _update(GuardPost, guard_post_data, record_guard_post, uid, changes, actor=actor,
                   source=source)


def update_relief(uid: str, changes: dict[str, Any], *, actor, source: str) -> Relief:
    return _update(Relief, relief_data, record_relief, uid, changes, actor=actor,
                   source=source)


def update_movement(uid: str, changes: dict[str, Any], *, actor, source: str) -> Movement:
    """Record what happened to a movement (actual departure, arrival, manifest…)."""
    return _update(Movement, movement_data, record_movement, uid, changes, actor=actor,
                   source=source)


# --- the handover rule over what was recorded --------------------------------------

def check_force(as_of: datetime | None = None, *, user=None) -> list[Gap]:
    """Every gap in the recorded force as known at `as_of` (now when None): sites whose
    guard ends without a relief overlapping it by the required minutes, units that left
    (actual departure by `as_of`) before their sites were released plus travel, and units
    whose planned movement (no actual departure yet) would (marked `planned`).
    With `user`, only the records the user may see."""
    guards = GuardPost.objects.known_at(as_of).filter(removed=False)
    reliefs = Relief.objects.known_at(as_of).filter(removed=False)
    known = Movement.objects.known_at(as_of).filter(removed=False)
    movements = known.filter(actual_departure__isnull=False)
    if as_of is not None:
        movements = movements.filter(actual_departure__lte=as_of)
    planned = known.filter(actual_departure__isnull=True, planned_departure__isnull=False)
    if user is not None:
        guards, reliefs = guards.visible_to(user), reliefs.visible_to(user)
        movements, planned = movements.visible_to(user), planned.visible_to(user)
    guards = list(guards.select_related("unit", "place"))
    first_relief: dict[int, Relief] = {}
    for r in reliefs.order_by("start"):
        first_relief.setdefault(r.place_id, r)
    gaps: list[Gap] = []
    for g in guards:
        relief = first_relief.get(g.place_id)
        gaps += site_gaps(g.place.code, g.place.label(), g.unit.code, g.end,
                          relief.start if relief else None,
                          g.overlap_min if g.overlap_min is not None else DEFAULT_OVERLAP_MIN,
                          unit_name=g.unit.label())
    def first_departures(rows, when: str) -> dict[str, datetime]:
        out: dict[str, datetime] = {}
        for m in rows:
            for item in m.manifest or []:
                code, at = item.get("unit"), getattr(m, when)
                if code and (code not in out or at < out[code]):
                    out[code] = at
        return out

    boards = first_departures(movements, "actual_departure")
    intended = first_departures(planned, "planned_departure")
    by_unit: dict[str, list[GuardPost]] = {}
    for g in guards:
        by_unit.setdefault(g.unit.code, []).append(g)
    for code, posts in by_unit.items():
        leaves, is_planned = boards.get(code), False
        if leaves is None:
            leaves, is_planned = intended.get(code), True
        if leaves is None:
            continue
        releases = [(g.place.code, g.place.label(), g.end, g.travel_min) for g in posts
                    if g.start <= leaves]
        found = boarding_gaps(code, leaves, releases, unit_name=posts[0].unit.label())
        gaps += [replace(g, planned=True) for g in found] if is_planned else found
    gaps.sort(key=lambda gap: (gap.at, gap.site_id, gap.kind))
    return gaps


# --- plans ---------------------------------------------------------------------------

def _plan_json(plan: Any) -> dict[str, Any]:
    if isinstance(plan, dict):
        return plan
    return plan.to_json()


@transaction.atomic
def save_plan(plan: Any, actor: Actor | Any, *, problem: Any = None, source: str = "cli",
              note: str = "") -> WithdrawalPlan:
    """Store a planner result (a `Plan` or its JSON) as a draft."""
    actor = _actor(actor)
    require_write(actor, None, roles=WRITERS, what=_("withdrawal plans"))
    data = _plan_json(plan)
    problem_data = problem.to_json() if hasattr(problem, "to_json") else (problem or {})

    def _when(name):
        value = data.get(name)
        return datetime.fromisoformat(value) if isinstance(value, str) and value else None

    row = WithdrawalPlan(
        created_at=timezone.now(), created_by=actor.label, status=PlanStatus.DRAFT,
        start=_when("start"), closure=_when("closure"),
        solver_status=str(data.get("status", "")), sorties=len(data.get("sorties") or []),
        ratio=data.get("ratio"), ratio_bound=str(data.get("closure_bound_name", "")),
        sortie_ratio=data.get("sortie_ratio"),
        sortie_bound=str(data.get("sortie_bound_name", "")),
        seconds=float(data.get("seconds") or 0), plan=data, problem=problem_data, note=note)
    row.save()
    entry = _journal(actor, source, gettext_noop("Withdrawal plan %(id)s drafted: "
                                                 "%(sorties)s sorties"),
                     subject=("withdrawalplan", row.pk),
                     payload={"plan": row.pk, "status": row.solver_status, "ratio": row.ratio},
                     params={"id": row.pk, "sorties": row.sorties})
    row.journal_seq = entry.seq
    row.save(update_fields=["journal_seq"])
    return row


def planned_gaps(row: WithdrawalPlan) -> list[Gap]:
    """The handover check of a stored plan against the problem it was computed for (the
    force as it was then)."""
    from .planner.handover import check_handover
    from .planner.model import Plan, Problem

    if not row.problem:
        return []
    return check_handover(Problem.from_json(row.problem), Plan.from_json(row.plan))


def current_problem(row: WithdrawalPlan):
    """The withdrawal problem of the force as recorded now, from the plan's start, built
    as the planner builds it. Raises InvalidInput naming what the force now lacks."""
    from .planner.model import Problem
    from .planning import problem_from_db

    start = row.start
    if start is None and row.problem:
        start = Problem.from_json(row.problem).start
    return problem_from_db(start=start)


def plan_gaps(row: WithdrawalPlan) -> list[Gap]:
    """The handover check of a stored plan's sorties and road moves against the guard
    posts and reliefs as they are now (a relief moved later after the plan was computed
    is a gap). Raises InvalidInput when the force now lacks what the check needs."""
    from .planner.handover import check_handover
    from .planner.model import Plan

    return check_handover(current_problem(row), Plan.from_json(row.plan))


def _gap_key(gap: Gap) -> tuple:
    return (gap.kind, gap.site_id, gap.unit_id, gap.at, gap.shortfall_min)


def plan_check(row: WithdrawalPlan) -> dict[str, Any]:
    """What a plan's page and the API show of its handover check: `gaps` against the
    force now, `errors` when the force now cannot be checked (what is missing, by
    field), `gaps_when_planned` against the force it was computed for, and `changed`
    when the two differ."""
    try:
        gaps, errors = plan_gaps(row), {}
    except InvalidInput as exc:
        gaps, errors = [], exc.errors
    when_planned = planned_gaps(row)
    changed = bool(errors) or sorted(map(_gap_key, gaps)) != sorted(
        map(_gap_key, when_planned))
    return {"gaps": gaps, "errors": errors, "gaps_when_planned": when_planned,
            "changed": changed and bool(row.problem)}


@transaction.atomic
def approve_plan(plan_id: int, actor: Actor | Any, *, source: str = "cli") -> WithdrawalPlan:
    """Approve a draft plan (directors). Refused, naming the site and the time, when the
    handover check of the plan against the force as recorded now (not as it was when
    the plan was computed) finds a gap, or when the planner found no plan. The plan
    approved before is superseded."""
    actor = _actor(actor)
    require_write(actor, None, roles=APPROVERS, what=_("withdrawal plans"))
    row = WithdrawalPlan.objects.select_for_update().filter(pk=plan_id).first()
    if row is None:
        raise InvalidInput({"plan": [_("no plan %(id)s") % {"id": plan_id}]})
    if row.status != PlanStatus.DRAFT:
        raise InvalidInput({"status": [_("only a draft can be approved; this plan is %(s)s")
                                       % {"s": row.status}]})
    if row.solver_status == "infeasible" or not row.plan.get("sorties") and \
            not row.plan.get("road_moves"):
        raise InvalidInput({"plan": [_("the planner found no plan to approve")]})
    gaps = plan_gaps(row)
    if gaps:
        from .render import gap_text

        raise InvalidInput({"handover": [gap_text(g) for g in gaps]})
    now = timezone.now()
    WithdrawalPlan.objects.filter(status=PlanStatus.APPROVED).update(
        status=PlanStatus.SUPERSEDED, superseded_at=now)
    row.status, row.approved_by, row.approved_at = PlanStatus.APPROVED, actor.label, now
    row.save(update_fields=["status", "approved_by", "approved_at"])
    _journal(actor, source, gettext_noop("Withdrawal plan %(id)s approved"),
             subject=("withdrawalplan", row.pk), payload={"plan": row.pk},
             params={"id": row.pk})
    return row
