"""Every write of the core domain. One transaction: domain rows + journal entry.

Callers (web views, API handlers, commands, importers, tests) pass the actor and the
door (`source`) explicitly; nothing here reads a request.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from . import bulk, journal, live
from .actors import Actor
from .choices import (
    AREA_LEVEL_RANK,
    BACKDATABLE_SOURCES,
    JOURNAL_KINDS,
    AreaLevel,
    JournalSource,
    OrganizationKind,
    PlaceKind,
)
from .errors import InvalidInput
from .i18n import described
from .models import Area, JournalEntry, Organization, Place
from .permissions import AREAS_MANAGE, JOURNAL_ADD, ORGANIZATIONS_MANAGE, PLACES_MANAGE, require

SUMMARY_MAX = 4000
PAYLOAD_MAX_BYTES = 64 * 1024
FUTURE_TOLERANCE = timedelta(minutes=5)


@dataclass
class EntryDraft:
    """What a caller wants recorded; `record_entries` validates and chains it."""

    kind: str
    summary: str
    occurred_at: datetime | None = None
    recorded_at: datetime | None = None
    area: Area | None = None
    place: Place | None = None
    organization: Organization | None = None
    subject: tuple[str, str, str] = ("", "", "")
    payload: dict[str, Any] = field(default_factory=dict)
    external_id: str | None = None
    estimate: bool = False


def _check_draft(draft: EntryDraft, source: str, now: datetime) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if draft.kind not in JOURNAL_KINDS:
        add("kind", _("unknown kind %(kind)r; expected one of: %(kinds)s")
            % {"kind": draft.kind, "kinds": ", ".join(sorted(JOURNAL_KINDS))})
    summary = (draft.summary or "").strip()
    if not summary:
        add("summary", _("must not be empty"))
    elif len(summary) > SUMMARY_MAX:
        add("summary", _("is %(n)d characters long; at most %(max)d are allowed")
            % {"n": len(summary), "max": SUMMARY_MAX})
    for name in ("occurred_at", "recorded_at"):
        value = getattr(draft, name)
        if value is not None and timezone.is_naive(value):
            add(name, _("needs a time-zone offset, e.g. 2022-01-05T12:00:00+06:00"))
    if draft.occurred_at is not None and timezone.is_aware(draft.occurred_at):
        if draft.occurred_at > now + FUTURE_TOLERANCE:
            add("occurred_at", _("is in the future"))
    if draft.recorded_at is not None and source not in BACKDATABLE_SOURCES:
        add("recorded_at", _("is set by the server for entries from this source"))
    if (draft.occurred_at and draft.recorded_at and timezone.is_aware(draft.occurred_at)
            and timezone.is_aware(draft.recorded_at)
            and draft.recorded_at < draft.occurred_at):
        add("recorded_at", _("is earlier than occurred_at"))
    if not isinstance(draft.payload, dict):
        add("payload", _("must be a JSON object"))
    else:
        try:
            text = json.dumps(draft.payload, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            add("payload", _("is not valid JSON: %(error)s") % {"error": exc})
        else:
            if "\\u0000" in text:
                add("payload", _("must not contain NUL characters"))
            elif len(text.encode()) > PAYLOAD_MAX_BYTES:
                add("payload", _("is larger than %(max)d bytes") % {"max": PAYLOAD_MAX_BYTES})
    if draft.place is not None and draft.area is not None:
        if not draft.place.area.path.startswith(draft.area.path):
            add("place", _("lies outside the area %(area)s") % {"area": draft.area.code})
    if draft.external_id is not None and not (0 < len(draft.external_id) <= 200):
        add("external_id", _("must be 1 to 200 characters long"))
    return errors


def record_entries(
    drafts: Sequence[EntryDraft], *, actor: Actor | Any, source: str, checked: bool = False
) -> list[JournalEntry]:
    """Append entries to the journal in one transaction, all or nothing.

    An entry whose (source, external_id) is already in the journal is not written again;
    the stored one is returned in its place, so retries and re-imports are harmless.
    Errors are reported per entry as "items[i].field" when more than one is given.
    `checked=True` is for services that journal their own writes and have already
    checked the actor's right to make them.
    """
    actor = Actor.of(actor)
    if source not in JournalSource.values:
        raise InvalidInput({"source": f"unknown source {source!r}"})
    now = timezone.now()
    errors: dict[str, list[str]] = {}
    for i, draft in enumerate(drafts):
        if draft.place is not None and draft.area is None:
            draft.area = draft.place.area
        for name, messages in _check_draft(draft, source, now).items():
            errors[name if len(drafts) == 1 else f"items[{i}].{name}"] = messages
    if errors:
        raise InvalidInput(errors)
    for draft in [] if checked else drafts:
        require(actor, JOURNAL_ADD, area=draft.area, organization=draft.organization)

    with transaction.atomic():
        journal.lock_for_append()
        existing: dict[str, JournalEntry] = {}
        wanted = [d.external_id for d in drafts if d.external_id]
        if wanted:
            for i in range(0, len(wanted), 500):
                for e in JournalEntry.objects.filter(
                    source=source, external_id__in=wanted[i:i + 500]
                ):
                    existing[e.external_id] = e
        seq, prev = journal.chain_head()
        new: list[JournalEntry] = []
        result: list[JournalEntry] = []
        for draft in drafts:
            if draft.external_id and draft.external_id in existing:
                result.append(existing[draft.external_id])
                continue
            seq += 1
            entry = JournalEntry(
                seq=seq,
                occurred_at=draft.occurred_at or now,
                recorded_at=draft.recorded_at or now,
                actor=actor.user,
                actor_label=actor.label,
                source=source,
                area=draft.area,
                area_path=draft.area.path if draft.area else "",
                place=draft.place,
                organization=draft.organization,
                subject_app=draft.subject[0],
                subject_model=draft.subject[1],
                subject_id=str(draft.subject[2]),
                kind=draft.kind,
                summary=draft.summary.strip(),
                payload=json.loads(json.dumps(draft.payload)),
                external_id=draft.external_id,
                estimate=draft.estimate,
                prev_hash=prev,
            )
            entry.hash = prev = journal.entry_hash(entry)
            if draft.external_id:
                existing[draft.external_id] = entry
            new.append(entry)
            result.append(entry)
        bulk.insert(new)
        if new:
            last = new[-1].seq
            transaction.on_commit(lambda: live.notify(last))
    return result


def record_entry(*, actor: Actor | Any, source: str, kind: str, summary: str,
                 checked: bool = False, **fields: Any) -> JournalEntry:
    """Append one entry to the journal (see `record_entries`)."""
    return record_entries([EntryDraft(kind=kind, summary=summary, **fields)],
                          actor=actor, source=source, checked=checked)[0]


def _journal_change(actor: Actor, source: str, *, kind: str, text: dict[str, Any],
                    payload: dict[str, Any], **fields: Any) -> JournalEntry:
    """Journal a change a service has already checked the actor may make."""
    return record_entry(actor=actor, source=source, checked=True, kind=kind,
                        summary=text["summary"], payload=payload | {"i18n": text["i18n"]},
                        **fields)


# --- Areas, places, organizations --------------------------------------------------

def names_in(data: dict[str, Any], field: str = "name") -> dict[str, Any]:
    """A name given in three languages, as `field` (English) with `field_kk` and
    `field_ru` beside it, or as `field`: {"en": …, "kk": …, "ru": …}; returned in the
    first form, as given (the caller checks the values)."""
    keys = (field, f"{field}_kk", f"{field}_ru")
    value = data.get(field)
    if isinstance(value, dict):
        return dict(zip(keys, (value.get("en"), value.get("kk"), value.get("ru")),
                        strict=True))
    return {k: data.get(k) for k in keys}


def _check_point(lat: Any, lon: Any) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, value, bound in (("lat", lat, 90), ("lon", lon, 180)):
        if not isinstance(value, int | float) or isinstance(value, bool):
            errors[name] = [_("must be a number")]
        elif not -bound <= value <= bound:
            errors[name] = [_("must be between %(lo)d and %(hi)d") % {"lo": -bound, "hi": bound}]
    return errors


def _check_code(code: Any) -> list[str]:
    if not isinstance(code, str) or not code or len(code) > 40:
        return [_("must be 1 to 40 characters long")]
    if not all(ch.isalnum() or ch in "-_." for ch in code) or not code.isascii():
        return [_("may contain only ASCII letters, digits, '-', '_' and '.'")]
    return []


def _check_named(data: dict[str, Any], kinds: list[str] | None = None
                 ) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Checks shared by reference data: code, English name and (optionally) kind."""
    errors: dict[str, list[str]] = {}
    if problems := _check_code(data.get("code")):
        errors["code"] = problems
    names = {k: v or "" for k, v in names_in(data).items()}
    if not names["name"]:
        errors["name"] = [_("must not be empty")]
    if kinds is not None and data.get("kind") not in kinds:
        errors["kind"] = [_("must be one of: %(kinds)s") % {"kinds": ", ".join(kinds)}]
    return errors, names


def lookup_by_code(model, field: str, code: Any, errors: dict[str, list[str]]):
    """The row with this code, or None; an unknown code is recorded in `errors`."""
    if not code:
        return None
    found = model.objects.filter(code=code).first()
    if found is None:
        errors[field] = [_("no %(model)s with code %(code)r")
                         % {"model": model._meta.verbose_name, "code": code}]
    return found


@transaction.atomic
def save_area(data: dict[str, Any], *, actor: Actor | Any, source: str) -> tuple[Area, bool]:
    """Create or update an area by its code. Returns (area, created)."""
    actor = Actor.of(actor)
    errors, names = _check_named(data)
    errors |= _check_point(data.get("lat"), data.get("lon"))
    code = data.get("code")
    level = data.get("level")
    if level not in AreaLevel.values:
        errors["level"] = [_("must be one of: %(levels)s")
                           % {"levels": ", ".join(AreaLevel.values)}]
    parent = lookup_by_code(Area, "parent", data.get("parent"), errors)
    if parent is not None:
        if level in AreaLevel.values and AREA_LEVEL_RANK[parent.level] >= AREA_LEVEL_RANK[level]:
            errors["parent"] = [_("a %(level)s cannot lie inside a %(parent)s")
                                % {"level": level, "parent": parent.level}]
    elif not data.get("parent") and level != AreaLevel.COUNTRY:
        errors["parent"] = [_("is required below country level")]
    if errors:
        raise InvalidInput(errors)
    require(actor, AREAS_MANAGE, area=parent)
    area = Area.objects.filter(code=code).first()
    created = area is None
    if created:
        area = Area(code=code)
    elif area.parent_id != (parent.pk if parent else None):
        raise InvalidInput({"parent": [_("moving an area to another parent is not supported")]})
    for key, value in names.items():
        setattr(area, key, value)
    area.level, area.parent = level, parent
    area.lat, area.lon = float(data["lat"]), float(data["lon"])
    area.centroid_estimated = bool(data.get("estimate", data.get("centroid_estimated", False)))
    area.population = data.get("population")
    area.source = data.get("source", "") or ""
    area.note = data.get("note", "") or ""
    area.path = (parent.path if parent else "") + code + "/"
    changed = created or _dirty(area)
    area.save()
    if changed:
        _journal_change(
            actor, source, kind="area", area=area, subject=("core", "area", area.code),
            text=described(gettext_noop("Area %(name)s added") if created
                           else gettext_noop("Area %(name)s updated"), name=area),
            payload={"code": area.code, "level": area.level, "created": created})
    return area, created


def _dirty(instance) -> bool:
    """Whether saving would change the stored row (so a re-run journals nothing)."""
    stored = type(instance).objects.filter(pk=instance.pk).values().first()
    if stored is None:
        return True
    return any(stored[f.attname] != getattr(instance, f.attname)
               for f in instance._meta.concrete_fields if f.attname in stored)


@transaction.atomic
def set_area_boundary(area: Area, geometry: dict[str, Any], *, boundary_source: str,
                      actor: Actor | Any, source: str) -> bool:
    """Attach a GeoJSON geometry to an area. Returns whether anything changed."""
    actor = Actor.of(actor)
    require(actor, AREAS_MANAGE, area=area)
    if area.boundary == geometry and area.boundary_source == boundary_source:
        return False
    area.boundary, area.boundary_source = geometry, boundary_source
    area.save(update_fields=["boundary", "boundary_source"])
    _journal_change(
        actor, source, kind="area", area=area, subject=("core", "area", area.code),
        text=described(gettext_noop("Boundary of %(name)s loaded"), name=area),
        payload={"code": area.code, "boundary_source": boundary_source})
    return True


@transaction.atomic
def save_place(data: dict[str, Any], *, actor: Actor | Any, source: str) -> tuple[Place, bool]:
    """Create or update a place by its code. The area is found from the point when not given."""
    from .geo import area_at

    actor = Actor.of(actor)
    errors, names = _check_named(data, PlaceKind.values)
    errors |= _check_point(data.get("lat"), data.get("lon"))
    area = lookup_by_code(Area, "area", data.get("area"), errors)
    if not data.get("area") and not errors:
        area = area_at(float(data["lat"]), float(data["lon"]))
        if area is None:
            errors["area"] = [_("the point lies in no known area; name the area")]
    organization = lookup_by_code(Organization, "organization", data.get("organization"), errors)
    if errors:
        raise InvalidInput(errors)
    require(actor, PLACES_MANAGE, area=area)
    place = Place.objects.filter(code=data["code"]).first()
    created = place is None
    if created:
        place = Place(code=data["code"])
    else:
        require(actor, PLACES_MANAGE, area=place.area)
    for key, value in names.items():
        setattr(place, key, value)
    place.kind, place.area, place.organization = data["kind"], area, organization
    place.lat, place.lon = float(data["lat"]), float(data["lon"])
    for key in ("details", "source", "note"):
        setattr(place, key, data.get(key, "") or "")
    place.estimate = bool(data.get("estimate", False))
    changed = created or _dirty(place)
    place.save()
    if changed:
        _journal_change(
            actor, source, kind="place", area=area, place=place,
            subject=("core", "place", place.code),
            text=described(gettext_noop("Place %(name)s added") if created
                           else gettext_noop("Place %(name)s updated"), name=place),
            payload={"code": place.code, "lat": place.lat, "lon": place.lon, "created": created})
    return place, created


@transaction.atomic
def save_organization(data: dict[str, Any], *, actor: Actor | Any,
                      source: str) -> tuple[Organization, bool]:
    """Create or update an organization by its code."""
    actor = Actor.of(actor)
    errors, names = _check_named(data, OrganizationKind.values)
    area = lookup_by_code(Area, "area", data.get("area"), errors)
    country = data.get("country", "") or ""
    if country and (len(country) != 2 or not country.isalpha()):
        errors["country"] = [_("must be an ISO 3166-1 alpha-2 code")]
    if errors:
        raise InvalidInput(errors)
    require(actor, ORGANIZATIONS_MANAGE, area=area)
    org = Organization.objects.filter(code=data["code"]).first()
    created = org is None
    if created:
        org = Organization(code=data["code"])
    for key, value in names.items():
        setattr(org, key, value)
    org.kind, org.area, org.country = data["kind"], area, country.upper()
    org.source, org.note = data.get("source", "") or "", data.get("note", "") or ""
    changed = created or _dirty(org)
    org.save()
    if changed:
        _journal_change(
            actor, source, kind="organization", area=area, organization=org,
            subject=("core", "organization", org.code),
            text=described(gettext_noop("Organization %(name)s added") if created
                           else gettext_noop("Organization %(name)s updated"), name=org),
            payload={"code": org.code, "kind": org.kind, "created": created})
    return org, created
