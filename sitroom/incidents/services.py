"""Every write of the security situation: domain rows + history row + journal entry."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from sitroom.core import bulk
from sitroom.core.actors import Actor
from sitroom.core.choices import BACKDATABLE_SOURCES
from sitroom.core.errors import InvalidInput, NotAllowed
from sitroom.core.geo import area_id_at, boundaries, boundaries_by_code, outside
from sitroom.core.i18n import described
from sitroom.core.models import Area, Organization
from sitroom.core.permissions import (
    FIGURES_RECORD,
    INCIDENTS_MANAGE,
    INCIDENTS_REPORT,
    VIEW,
    can,
    require,
    scope_of,
)
from sitroom.core.services import EntryDraft, lookup_by_code, record_entries

from . import cells
from .choices import (
    LIST_SEPARATOR,
    POSTURE_STATES,
    REOPEN,
    REOPENED_AS,
    STATUS_FLOW,
    CasualtyCategory,
    CasualtyGroup,
    IncidentStatus,
    PostureKind,
    Severity,
)
from .models import CasualtyReport, Incident, IncidentRevision, IncidentType, PostureChange

DATA_DIR = Path(__file__).resolve().parent / "data"
FUTURE_TOLERANCE = timedelta(minutes=5)
EDITABLE = ("type", "subtype", "title", "description", "tags", "occurred_at", "lat", "lon",
            "area", "actors", "fatalities", "injured", "sources", "severity", "estimate")


# --- Reference data -----------------------------------------------------------------

@transaction.atomic
def load_incident_types(*, actor: Actor | Any, source: str = "cli") -> int:
    """Load (or update) the incident taxonomy from data/incident_types.json."""
    actor = Actor.of(actor)
    data = json.loads((DATA_DIR / "incident_types.json").read_text(encoding="utf-8"))
    changed = 0
    by_code: dict[str, IncidentType] = {}
    for row in data["types"]:
        fields = {"name": row["name"]["en"], "name_ru": row["name"]["ru"],
                  "name_kk": row["name"]["kk"], "disorder_type": row["disorder_type"],
                  "cameo": row["cameo"], "position": row["position"],
                  "parent": by_code.get(row["parent"]) if row["parent"] else None}
        obj, created = IncidentType.objects.get_or_create(code=row["code"], defaults=fields)
        if not created and any(getattr(obj, k) != v for k, v in fields.items()):
            for key, value in fields.items():
                setattr(obj, key, value)
            obj.save()
            created = True
        changed += created
        by_code[obj.code] = obj
    if changed:
        text = described(gettext_noop("Incident taxonomy loaded: %(n)d type(s) added or "
                                      "changed"), n=changed)
        record_entries([EntryDraft(kind="incident", summary=text["summary"],
                                   payload={"i18n": text["i18n"], "version": data["version"]},
                                   subject=("incidents", "incidenttype", ""))],
                       actor=actor, source=source, checked=True)
    return changed


# --- Incidents ------------------------------------------------------------------------

@dataclass
class IncidentDraft:
    """What a caller reports; `report_incidents` checks and stores it."""

    type: str
    title: str
    occurred_at: datetime | None = None
    subtype: str | None = None
    description: str = ""
    tags: list[str] | None = None
    lat: float | None = None
    lon: float | None = None
    area: str | None = None
    actors: list[str] | None = None
    fatalities: int | None = None
    injured: int | None = None
    sources: list[str] | None = None
    severity: int = Severity.MODERATE
    estimate: bool = False
    recorded_at: datetime | None = None
    external_id: str | None = None


class IncidentRefs:
    """Reference rows (types, areas by code and by point), each looked up once: per
    batch, or per import when the importer keeps one across its batches."""

    def __init__(self):
        self.types = {t.code: t for t in IncidentType.objects.all()}
        self.areas: dict[str, Area | None] = {}
        self.by_id: dict[int, Area] = {}
        self.shapes = None
        self.by_code = None

    def area(self, code: str) -> Area | None:
        if code not in self.areas:
            self.areas[code] = Area.objects.defer("boundary").filter(code=code).first()
        return self.areas[code]

    def outside(self, lat: float, lon: float, area: Area) -> bool:
        """Whether the point lies outside the area's boundary (see `geo.outside`)."""
        if self.by_code is None:
            self.by_code = boundaries_by_code()
        return outside(lat, lon, area.path, self.by_code)

    def area_at(self, lat: float, lon: float) -> Area | None:
        if self.shapes is None:
            self.shapes = boundaries()
        pk = area_id_at(lat, lon, self.shapes)
        if pk is not None and pk not in self.by_id:
            self.by_id[pk] = Area.objects.defer("boundary").get(pk=pk)
        return self.by_id.get(pk) if pk is not None else None


_SEVERITIES = frozenset(Severity.values)
_HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")  # curfew hours
MAX_COUNT = 1_000_000  # people killed or injured in one incident: more is a typing error
MAX_FIGURE = 100_000_000  # a casualty or detention figure for an area


def _str_list(value: Any, field: str, errors: dict[str, list[str]], limit: int = 50):
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors[field] = [_("must be a list of texts")]
        return []
    items = [v.strip() for v in value if v and v.strip()]
    if len(items) > limit:
        errors[field] = [_("at most %(n)d items") % {"n": limit}]
    if any(len(v) > 500 for v in items):
        errors[field] = [_("each item may be at most 500 characters long")]
    elif any(LIST_SEPARATOR in v for v in items):
        # Files list the items separated by it: one holding it would come back as two.
        errors[field] = [_("an item may not contain “%(sep)s”; give two items instead")
                         % {"sep": LIST_SEPARATOR}]
    return items


def _check(values: dict[str, Any], refs: IncidentRefs, now: datetime, source: str,
           ) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Validate incident fields; returns the clean values and the errors by field."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    if "type" in values:
        itype = refs.types.get(values["type"] or "")
        if itype is None or itype.parent_id is not None:
            errors["type"] = [_("unknown incident type %(code)r") % {"code": values["type"]}]
        out["type"] = itype
    if "subtype" in values:
        sub = refs.types.get(values["subtype"] or "") if values["subtype"] else None
        if values["subtype"] and (sub is None or sub.parent_id is None):
            errors["subtype"] = [_("unknown sub-type %(code)r") % {"code": values["subtype"]}]
        elif sub is not None and out.get("type") is not None and sub.parent_id != out["type"].pk:
            errors["subtype"] = [_("%(sub)s is not a kind of %(type)s")
                                 % {"sub": sub.label(), "type": out["type"].label()}]
        out["subtype"] = sub
    if "title" in values:
        title = (values["title"] or "").strip()
        if not title:
            errors["title"] = [_("must not be empty")]
        elif len(title) > 200:
            errors["title"] = [_("at most 200 characters")]
        out["title"] = title
    if "description" in values:
        out["description"] = (values["description"] or "").strip()
        if len(out["description"]) > 20_000:
            errors["description"] = [_("at most 20,000 characters")]
    for name in ("occurred_at", "recorded_at"):
        if name in values and values[name] is not None:
            when = values[name]
            if not isinstance(when, datetime):
                errors[name] = [_("must be a date and time")]
            elif timezone.is_naive(when):
                errors[name] = [_("needs a time-zone offset, e.g. 2022-01-05T12:00:00+06:00")]
            elif when > now + FUTURE_TOLERANCE:
                errors[name] = [_("is in the future")]
            out[name] = when
    if values.get("recorded_at") is not None and source not in BACKDATABLE_SOURCES:
        errors["recorded_at"] = [_("is set by the server for entries from this source")]
    if "lat" in values or "lon" in values:
        lat, lon = values.get("lat"), values.get("lon")
        if (lat is None) != (lon is None):
            errors["lat" if lat is None else "lon"] = [_("give both latitude and longitude")]
        for name, value, bound in (("lat", lat, 90), ("lon", lon, 180)):
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                errors[name] = [_("must be a number")]
            elif not -bound <= value <= bound:
                errors[name] = [_("must be between %(lo)d and %(hi)d")
                                % {"lo": -bound, "hi": bound}]
        out["lat"], out["lon"] = lat, lon
    if "area" in values:
        code = values["area"]
        if code:
            out["area"] = refs.area(code)
            if out["area"] is None:
                errors["area"] = [_("no area with code %(code)r") % {"code": code}]
            elif out.get("lat") is not None and out.get("lon") is not None \
                    and "lat" not in errors and "lon" not in errors \
                    and refs.outside(out["lat"], out["lon"], out["area"]):
                errors["area"] = [_("the point %(lat)s, %(lon)s lies outside %(area)s")
                                  % {"lat": out["lat"], "lon": out["lon"],
                                     "area": out["area"].label()}]
        elif "lat" in errors or "lon" in errors:
            pass  # a point was given, wrongly: its own error says what to mend
        elif out.get("lat") is not None:
            out["area"] = refs.area_at(out["lat"], out["lon"])
            if out["area"] is None:
                errors["area"] = [_("the point lies in no known area; name the area")]
        else:
            errors["area"] = [_("give the area or a point on the map")]
    for name in ("fatalities", "injured"):
        if name in values:
            value = values[name]
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 0):
                errors[name] = [_("must be a whole number, 0 or more")]
            elif value is not None and value > MAX_COUNT:
                errors[name] = [_("must be at most %(n)s") % {"n": f"{MAX_COUNT:,}"}]
            out[name] = value
    if "severity" in values:
        if values["severity"] not in _SEVERITIES:
            errors["severity"] = [_("must be 1 (minor) to 5 (critical)")]
        out["severity"] = values["severity"]
    for name in ("tags", "actors", "sources"):
        if name in values:
            out[name] = _str_list(values[name], name, errors)
    if "estimate" in values:
        out["estimate"] = bool(values["estimate"])
    return out, errors


def snapshot(incident: Incident) -> dict[str, Any]:
    """The incident's state as stored in a revision (a large import writes the same with
    SQL: `staging.StagedReports._state`)."""
    return {
        "type": incident.type.code, "subtype": incident.subtype.code if incident.subtype else None,
        "title": incident.title, "description": incident.description, "tags": incident.tags,
        "occurred_at": incident.occurred_at.isoformat(), "lat": incident.lat,
        "lon": incident.lon, "area": incident.area.code, "actors": incident.actors,
        "fatalities": incident.fatalities, "injured": incident.injured,
        "sources": incident.sources, "severity": incident.severity,
        "status": incident.status,
        "assignee": incident.assignee.get_username() if incident.assignee_id else None,
        "merged_into": str(incident.merged_into.uid) if incident.merged_into_id else None,
        "estimate": incident.estimate,
    }


# An import of more reports than this is journaled as one entry per batch (with the
# incidents' ids), not one per incident: the journal keeps the fact, and the live picture
# is not flooded with thousands of lines at once. Each incident still gets its revision.
IMPORT_SUMMARY_OVER = 50


def _common_area(areas: list[Area]) -> Area | None:
    """The most specific area holding all of them (None if they share no country)."""
    chains = [a.path.rstrip("/").split("/") for a in areas]
    common: list[str] = []
    for parts in zip(*chains, strict=False):
        if len(set(parts)) > 1:
            break
        common.append(parts[0])
    if not common:
        return None
    return Area.objects.defer("boundary").filter(path="/".join(common) + "/").first()


def import_summary(count: int, areas: list[Area], first: datetime, last: datetime,
                   uids: list[str], actor: Actor, source: str):
    """The one journal entry of `count` imported incidents in these areas, that occurred
    from `first` and were recorded until `last`; `uids` are the first ones' (up to 1000)."""
    text = described(gettext_noop("Incidents imported: %(n)d"), n=count)
    return record_entries([EntryDraft(
        kind="incident", summary=text["summary"], area=_common_area(areas),
        occurred_at=first, recorded_at=last if source in BACKDATABLE_SOURCES else None,
        subject=("incidents", "incident", ""),
        payload={"i18n": text["i18n"], "change": "imported", "count": count,
                 # every incident's revision points to this entry; the first ids for a reader
                 "first_incidents": uids[:1000]})],
        actor=actor, source=source, checked=True)[0]


def _import_summary(items: list[tuple[Incident, str, dict[str, Any]]], actor: Actor,
                    source: str):
    incidents = [inc for inc, _c, _t in items]
    entry = import_summary(
        len(incidents), list({i.area_id: i.area for i in incidents}.values()),
        min(i.occurred_at for i in incidents), max(i.recorded_at for i in incidents),
        [str(i.uid) for i in incidents[:1000]], actor, source)
    return [entry] * len(items)


def _journal_and_revisions(items: list[tuple[Incident, str, dict[str, Any] | None]],
                           actor: Actor, source: str, extra: dict[str, Any] | None = None
                           ) -> list:
    """One journal entry and one revision per (incident, change, text), as of the
    incident's `updated_at` (its `recorded_at` for a new report). A large import is one
    journal entry for the batch. A new report's text (None) is made here, only when it
    gets an entry of its own. `extra` is added to each entry's payload. Returns each
    item's journal entry."""
    if len(items) > IMPORT_SUMMARY_OVER and all(c == "reported" for _i, c, _t in items):
        entries = _import_summary(items, actor, source)
        _write_revisions(items, entries, actor)
        return entries
    items = [(inc, change, text or described(gettext_noop("Incident reported: %(title)s"),
                                             title=inc.title))
             for inc, change, text in items]
    drafts = [EntryDraft(
        kind="incident", summary=text["summary"], area=inc.area,
        occurred_at=inc.occurred_at if change == "reported" else inc.updated_at,
        recorded_at=inc.updated_at if source in BACKDATABLE_SOURCES else None,
        subject=("incidents", "incident", str(inc.uid)),
        payload={"i18n": text["i18n"], "change": change, "status": inc.status,
                 "incident": str(inc.uid), **(extra or {})},
        estimate=inc.estimate) for inc, change, text in items]
    entries = record_entries(drafts, actor=actor, source=source, checked=True)
    _write_revisions(items, entries, actor)
    return entries


def _write_revisions(items: list[tuple[Incident, str, dict[str, Any]]], entries: list,
                     actor: Actor) -> None:
    revisions = [
        _new_revision({"incident_id": inc.pk, "number": inc.version,
                       "recorded_at": inc.updated_at, "actor_label": actor.label,
                       "change": change, "status": inc.status, "state": snapshot(inc),
                       "journal_seq": entry.seq}, {"incident": inc})
        for (inc, change, _t), entry in zip(items, entries, strict=True)]
    for revision, pk in zip(revisions, bulk.reserve_ids(IncidentRevision, len(revisions)),
                            strict=True):
        revision.pk = pk
    bulk.insert(revisions)


_new_incident = bulk.Builder(Incident)
_new_revision = bulk.Builder(IncidentRevision)


def _check_draft(d: IncidentDraft, refs: IncidentRefs, now: datetime, source: str
                 ) -> tuple[dict[str, Any], dict[str, list[str]]]:
    values = {k: getattr(d, k) for k in ("type", "subtype", "title", "description", "tags",
                                         "occurred_at", "lat", "lon", "area", "actors",
                                         "fatalities", "injured", "sources", "severity",
                                         "estimate", "recorded_at")}
    if values["occurred_at"] is None:
        values["occurred_at"] = now
    out, problems = _check(values, refs, now, source)
    if d.external_id is not None and not 0 < len(d.external_id) <= 200:
        problems["external_id"] = [_("must be 1 to 200 characters long")]
    if not problems and out.get("recorded_at") and out["recorded_at"] < out["occurred_at"]:
        problems["recorded_at"] = [_("is earlier than occurred_at")]
    return out, problems


def draft_problems(draft: IncidentDraft, *, source: str, refs: IncidentRefs | None = None
                   ) -> dict[str, list[str]]:
    """What `report_incidents` would object to in one draft, by field, storing nothing:
    for an importer that found problems of its own in a row and reports the rest too."""
    return _check_draft(draft, refs or IncidentRefs(), timezone.now(), source)[1]


def _identity(type_code: str, title: str, occurred_at: datetime) -> tuple:
    """What makes two reports under one id the same report: type, title and time."""
    return type_code, title, occurred_at


def _same_report(known: tuple, draft: IncidentDraft, out: dict[str, Any]) -> bool:
    """Whether a report is the known one (an `_identity`) again; a report that gave no
    time (it was taken as now) is compared on type and title."""
    mine = _identity(out["type"].code, out["title"], out["occurred_at"])
    return known[:2] == mine[:2] and (draft.occurred_at is None or known[2] == mine[2])


def _refuse_reused_ids(drafts: list[IncidentDraft], clean: list[dict[str, Any]],
                       existing: dict[str, Incident],
                       staged: dict[str, list[tuple]] | None = None) -> None:
    """A report whose external id is already taken is the stored incident again (a
    retried request, a file imported twice) only if it is that report: same type, title
    and time as one of the incident's states, or as the report earlier in the batch (or
    in the import: `staged`, the `_identity` of reports not stored yet, by id).
    Another report under a taken id is refused by name, never dropped in silence."""
    known: dict[str, list[tuple]] = defaultdict(list, staged or {})  # by external id
    if existing:
        ids = {inc.pk: key for key, inc in existing.items()}
        for pk, state in IncidentRevision.objects.filter(
                incident__in=list(existing.values())).values_list("incident_id", "state"):
            known[ids[pk]].append(_identity(state["type"], state["title"],
                                            datetime.fromisoformat(state["occurred_at"])))
    errors: dict[str, list[str]] = {}
    for i, (d, out) in enumerate(zip(drafts, clean, strict=True)):
        if not d.external_id:
            continue
        if d.external_id not in known:  # the first report under this id: it is the one
            known[d.external_id] = [_identity(out["type"].code, out["title"],
                                              out["occurred_at"])]
            continue
        same = any(_same_report(k, d, out) for k in known[d.external_id])
        if not same:
            errors[f"items[{i}].external_id" if len(drafts) > 1 else "external_id"] = [
                _("%(id)r is already the id of another report; give this one an id of its "
                  "own") % {"id": d.external_id}]
    if errors:
        raise InvalidInput(errors)


def checked_drafts(drafts: list[IncidentDraft], *, actor: Actor, source: str,
                   refs: IncidentRefs, now: datetime) -> list[dict[str, Any]]:
    """The drafts' clean values, all or nothing: InvalidInput with every problem by field
    ("items[i].field" when there are several), then NotAllowed for an area where the
    actor may not report."""
    errors: dict[str, list[str]] = {}
    clean: list[dict[str, Any]] = []
    for i, d in enumerate(drafts):
        out, problems = _check_draft(d, refs, now, source)
        for name, messages in problems.items():
            errors[name if len(drafts) == 1 else f"items[{i}].{name}"] = messages
        clean.append(out)
    if errors:
        raise InvalidInput(errors)
    for area in {out["area"].pk: out["area"] for out in clean}.values():
        require(actor, INCIDENTS_REPORT, area=area)
    return clean


def stored_by_external_id(keys: list[str]) -> dict[str, Incident]:
    """The stored incidents under these external ids, by id."""
    if not keys:
        return {}
    return {i.external_id: i for i in Incident.objects.filter(
        external_id__isnull=False, external_id__in=keys)}


def report_incidents(drafts: list[IncidentDraft], *, actor: Actor | Any, source: str,
                     refs: IncidentRefs | None = None) -> list[tuple[Incident, bool]]:
    """Store new incident reports, all or nothing. Returns (incident, created) per draft;
    a draft whose external_id is already stored returns the stored incident. An importer
    passes one `refs` for all its batches."""
    actor = Actor.of(actor)
    now = timezone.now()
    clean = checked_drafts(drafts, actor=actor, source=source, refs=refs or IncidentRefs(),
                           now=now)
    with transaction.atomic():
        existing = stored_by_external_id([d.external_id for d in drafts if d.external_id])
        _refuse_reused_ids(drafts, clean, existing)
        results: list[tuple[Incident, bool]] = []
        new: list[Incident] = []
        for d, out in zip(drafts, clean, strict=True):
            if d.external_id and d.external_id in existing:
                results.append((existing[d.external_id], False))
                continue
            recorded = out.pop("recorded_at", None) or now
            related = {"type": out.pop("type"), "subtype": out.pop("subtype"),
                       "area": out.pop("area")}
            inc = _new_incident(
                {**out, "type_id": related["type"].pk,
                 "subtype_id": related["subtype"].pk if related["subtype"] else None,
                 "area_id": related["area"].pk, "recorded_at": recorded,
                 "updated_at": recorded, "area_path": related["area"].path,
                 "reported_by": actor.label,
                 "reporter_id": actor.user.pk if actor.user is not None else None,
                 "external_id": d.external_id},
                {**related, "reporter": actor.user, "assignee": None, "merged_into": None})
            if d.external_id:
                existing[d.external_id] = inc
            new.append(inc)
            results.append((inc, True))
        for inc, pk in zip(new, bulk.reserve_ids(Incident, len(new)), strict=True):
            inc.pk = pk
        bulk.insert(new)
        _journal_and_revisions([(inc, "reported", None) for inc in new], actor, source)
        cells.apply((inc, 1) for inc in new)
    return results


def report_incident(*, actor: Actor | Any, source: str, **fields: Any) -> tuple[Incident, bool]:
    """Store one incident report (see `report_incidents`)."""
    return report_incidents([IncidentDraft(**fields)], actor=actor, source=source)[0]


def _editable(actor: Actor, incident: Incident, action: str) -> None:
    require(actor, action, area=incident.area)
    if incident.status == IncidentStatus.MERGED:
        raise InvalidInput({"status": [_("this report was merged into another; edit that one")]})


@transaction.atomic
def edit_incident(incident: Incident, changes: dict[str, Any], *, actor: Actor | Any,
                  source: str, expected_version: int | None = None) -> Incident:
    """Change an incident's facts. With `expected_version`, a concurrent edit is refused
    rather than silently overwritten."""
    actor = Actor.of(actor)
    incident = Incident.objects.select_for_update(of=("self",)).select_related(
        "area", "type", "subtype").get(pk=incident.pk)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise InvalidInput({name: [_("cannot be changed here")] for name in unknown})
    manager = actor.user is None or INCIDENTS_MANAGE in _actions(scope_of(actor.user).role)
    if not manager and incident.reporter_id != actor.user.pk:
        raise NotAllowed(_("only the reporter or an incident manager may edit this report"))
    _editable(actor, incident, INCIDENTS_REPORT)
    if not manager and incident.status in (IncidentStatus.CLOSED, IncidentStatus.DISCARDED):
        raise InvalidInput({"status": [
            _("this report is %(status)s; an incident manager may reopen it")
            % {"status": incident.get_status_display().lower()}]})
    if expected_version is not None and expected_version != incident.version:
        raise InvalidInput({"version": [
            _("this report was changed by someone else (now version %(v)d); reload it")
            % {"v": incident.version}]})
    values = dict(changes)
    if "type" in values and "subtype" not in values and incident.subtype_id:
        values["subtype"] = None
    if "subtype" in values and "type" not in values:
        values["type"] = incident.type.code
    if ("lat" in values) != ("lon" in values) and incident.lat is not None:
        values.setdefault("lat", incident.lat)  # one coordinate moved: the other stays
        values.setdefault("lon", incident.lon)
    if ("lat" in values or "lon" in values) and "area" not in values:
        values["area"] = None  # found again from the new point
    elif values.get("area") and "lat" not in values and incident.lat is not None:
        values["lat"], values["lon"] = incident.lat, incident.lon  # must lie in the new area
    out, errors = _check(values, IncidentRefs(), timezone.now(), source)
    if errors:
        raise InvalidInput(errors)
    if "area" in out:
        require(actor, INCIDENTS_REPORT, area=out["area"])
        incident.area_path = out["area"].path
    changed = [k for k, v in out.items() if getattr(incident, k) != v]
    if not changed:
        return incident
    before = cells.state(incident)
    for key in changed:
        setattr(incident, key, out[key])
    text = gettext_noop("Incident edited: %(title)s (%(fields)s)")
    if not manager and incident.status == IncidentStatus.VERIFIED:
        # The verification covered the facts as they were: changed, they need it again.
        incident.status = IncidentStatus.REPORTED
        text = gettext_noop("Incident edited: %(title)s (%(fields)s); to be verified again")
    _bump_and_save(incident, actor, source, "edited",
                   described(text, title=incident.title, fields=_field_labels(changed)),
                   before)
    return incident


def _field_labels(names: list[str]) -> dict[str, str]:
    """The changed fields as each language names them, for the journal's line (the
    reader sees theirs; the codes, "occurred_at", were shown on every page)."""
    out = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            out[language] = ", ".join(str(Incident._meta.get_field(n).verbose_name)
                                      for n in names)
    return out


def _actions(role: str | None) -> set[str]:
    from sitroom.core.permissions import ROLE_ACTIONS

    return ROLE_ACTIONS.get(role, set())


def _bump_and_save(incident: Incident, actor: Actor, source: str, change: str,
                   text: dict[str, Any], before: dict[str, Any],
                   at: datetime | None = None, extra: dict[str, Any] | None = None):
    """Save a change with its revision and journal entry (returned); move it on the map's
    counts. `at` backdates the change, for sources that replay the past (scenario,
    import); `extra` goes into the journal entry's payload."""
    if cells.state(incident) != before:
        cells.apply([(before, -1), (incident, 1)])
    incident.version += 1
    incident.updated_at = at or timezone.now()
    incident.save()
    return _journal_and_revisions([(incident, change, text)], actor, source, extra)[0]


STATUS_TEXT = {
    IncidentStatus.VERIFIED: gettext_noop("Incident verified: %(title)s"),
    IncidentStatus.CLOSED: gettext_noop("Incident closed: %(title)s"),
    IncidentStatus.DISCARDED: gettext_noop("Incident discarded as false: %(title)s"),
    IncidentStatus.REPORTED: gettext_noop("Incident reopened: %(title)s"),
}


@transaction.atomic
def set_status(incidents: list[Incident], status: str, *, actor: Actor | Any,
               source: str, at: datetime | None = None) -> list[Incident]:
    """Verify, close, discard or reopen (`REOPEN`: a closed incident to verified, a
    discarded one to reported) incidents: a bulk action, all or nothing. `at` (scenario
    and import sources only) says when the change was made."""
    actor = Actor.of(actor)
    if at is not None and source not in BACKDATABLE_SOURCES:
        raise InvalidInput({"at": [_("is set by the server for changes from this source")]})
    if status not in STATUS_TEXT and status != REOPEN:
        raise InvalidInput({"status": [_("must be one of: %(s)s")
                                       % {"s": ", ".join([*STATUS_TEXT, REOPEN])}]})
    locked = list(Incident.objects.select_for_update(of=("self",)).select_related("area", "type")
                  .filter(pk__in=[i.pk for i in incidents]).order_by("pk"))
    errors, targets = {}, {}
    for inc in locked:
        require(actor, INCIDENTS_MANAGE, area=inc.area)
        target = REOPENED_AS.get(inc.status) if status == REOPEN else status
        if target is None:
            errors[f"incident {inc.uid}"] = [
                _("%(title)s is %(a)s: only a closed or discarded incident can be reopened")
                % {"title": inc.title, "a": inc.get_status_display()}]
        elif target != inc.status and target not in STATUS_FLOW[inc.status]:
            errors[f"incident {inc.uid}"] = [
                _("%(title)s cannot go from %(a)s to %(b)s")
                % {"title": inc.title, "a": inc.get_status_display(),
                   "b": IncidentStatus(target).label}]
        targets[inc.pk] = target
    if errors:
        raise InvalidInput(errors)
    for inc in locked:
        target = targets[inc.pk]
        if inc.status == target:
            continue
        if at is not None and at < inc.recorded_at:
            raise InvalidInput({"at": [_("is earlier than the report itself")]})
        before = cells.state(inc)
        inc.status = target
        text = STATUS_TEXT[IncidentStatus.REPORTED if status == REOPEN else target]
        _bump_and_save(inc, actor, source, target, described(text, title=inc.title), before, at)
    return locked


@transaction.atomic
def assign(incidents: list[Incident], username: str | None, *, actor: Actor | Any,
           source: str) -> list[Incident]:
    """Give incidents to a person to follow up (None: unassign)."""
    actor = Actor.of(actor)
    user = None
    if username:
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise InvalidInput({"assignee": [_("no active user %(u)r") % {"u": username}]})
    locked = list(Incident.objects.select_for_update(of=("self",)).select_related("area", "type")
                  .filter(pk__in=[i.pk for i in incidents]).order_by("pk"))
    for inc in locked:
        _editable(actor, inc, INCIDENTS_MANAGE)
        if user is not None and not can(user, VIEW, area=inc.area):
            raise InvalidInput({"assignee": [
                _("%(user)s cannot see incidents in %(area)s; assign someone who can")
                % {"user": username, "area": inc.area.label()}]})
    for inc in locked:
        if inc.assignee_id == (user.pk if user else None):
            continue
        before = cells.state(inc)
        inc.assignee = user
        _bump_and_save(inc, actor, source, "assigned",
                       described(gettext_noop("Incident %(title)s assigned to %(user)s"),
                                 title=inc.title, user=username or "—"), before)
    return locked


@transaction.atomic
def merge(keep: Incident, duplicate: Incident, *, actor: Actor | Any,
          source: str) -> Incident:
    """Two reports of the same event become one. Nothing is deleted: the duplicate keeps
    its history and points to the one kept, whose history shows both."""
    actor = Actor.of(actor)
    if keep.pk == duplicate.pk:
        raise InvalidInput({"duplicate": [_("an incident cannot be merged into itself")]})
    locked = Incident.objects.select_for_update(of=("self",)).select_related("area", "type")
    keep, duplicate = (locked.get(pk=p) for p in (keep.pk, duplicate.pk))
    _editable(actor, keep, INCIDENTS_MANAGE)
    _editable(actor, duplicate, INCIDENTS_MANAGE)
    keep_before, duplicate_before = cells.state(keep), cells.state(duplicate)
    # The kept report gains what only the duplicate knew.
    keep.sources = keep.sources + [s for s in duplicate.sources if s not in keep.sources]
    keep.tags = keep.tags + [t for t in duplicate.tags if t not in keep.tags]
    keep.actors = keep.actors + [a for a in duplicate.actors if a not in keep.actors]
    if keep.description and duplicate.description and \
            duplicate.description not in keep.description:
        keep.description += "\n\n" + duplicate.description
    elif not keep.description:
        keep.description = duplicate.description
    for name in ("fatalities", "injured"):
        if getattr(keep, name) is None and getattr(duplicate, name) is not None:
            setattr(keep, name, getattr(duplicate, name))
            # A figure taken from an estimate stays labelled an estimate.
            keep.estimate = keep.estimate or duplicate.estimate
    duplicate.status, duplicate.merged_into = IncidentStatus.MERGED, keep
    _bump_and_save(duplicate, actor, source, "merged",
                   described(gettext_noop("Incident %(dup)s merged into %(keep)s"),
                             dup=duplicate.title, keep=keep.title), duplicate_before)
    _bump_and_save(keep, actor, source, "absorbed",
                   described(gettext_noop("Incident %(keep)s absorbed the duplicate %(dup)s"),
                             dup=duplicate.title, keep=keep.title), keep_before)
    return keep


# --- Casualty figures and area posture ---------------------------------------------------

def _figure_checks(area: str, recorded_at: datetime | None, source: str,
                   errors: dict[str, list[str]]) -> Area | None:
    """Checks shared by casualty figures and posture changes: the area, and who may set
    recorded_at."""
    area_obj = lookup_by_code(Area, "area", area, errors)
    if recorded_at is not None and source not in BACKDATABLE_SOURCES:
        errors["recorded_at"] = [_("is set by the server for entries from this source")]
    return area_obj


def _source_list(source_ref: str) -> list[str]:
    return [s.strip() for s in source_ref.split(";") if s.strip()]


def _aware(name: str, value: Any, now: datetime, errors: dict[str, list[str]]) -> None:
    if not isinstance(value, datetime):
        errors[name] = [_("must be a date and time")]
    elif timezone.is_naive(value):
        errors[name] = [_("needs a time-zone offset, e.g. 2022-01-05T12:00:00+06:00")]
    elif value > now + FUTURE_TOLERANCE:
        errors[name] = [_("is in the future")]


@transaction.atomic
def record_casualties(*, area: str, reporting_body: str, category: str, count: int,
                      as_of: datetime, group: str = CasualtyGroup.ALL, estimate: bool = False,
                      source_ref: str = "", note: str = "", recorded_at: datetime | None = None,
                      external_id: str | None = None, actor: Actor | Any,
                      source: str) -> tuple[CasualtyReport, bool]:
    """Keep one body's figure. Never replaces another body's (or its own earlier) figure."""
    actor = Actor.of(actor)
    now, errors = timezone.now(), {}
    area_obj = _figure_checks(area, recorded_at, source, errors)
    body = lookup_by_code(Organization, "reporting_body", reporting_body, errors)
    if category not in CasualtyCategory.values:
        errors["category"] = [_("must be one of: %(s)s") % {"s": ", ".join(CasualtyCategory)}]
    if group not in CasualtyGroup.values:
        errors["group"] = [_("must be one of: %(s)s") % {"s": ", ".join(CasualtyGroup)}]
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        errors["count"] = [_("must be a whole number, 0 or more")]
    elif count > MAX_FIGURE:
        errors["count"] = [_("must be at most %(n)s") % {"n": f"{MAX_FIGURE:,}"}]
    _aware("as_of", as_of, now, errors)
    if errors:
        raise InvalidInput(errors)
    require(actor, FIGURES_RECORD, area=area_obj)
    if external_id and (found := CasualtyReport.objects.filter(external_id=external_id).first()):
        return found, False
    report = CasualtyReport.objects.create(
        area=area_obj, area_path=area_obj.path, reporting_body=body, category=category,
        group=group, count=count, as_of=as_of, recorded_at=recorded_at or now,
        estimate=estimate, source=source_ref, note=note, actor_label=actor.label,
        external_id=external_id)
    text = described(gettext_noop("%(body)s: %(count)d %(category)s in %(area)s as of "
                                  "%(as_of)s"), body=body, count=count,
                     category=CasualtyCategory(category).label, area=area_obj,
                     as_of=timezone.localtime(as_of).strftime("%Y-%m-%d %H:%M"))
    record_entries([EntryDraft(
        kind="casualty_report", summary=text["summary"], area=area_obj, organization=body,
        occurred_at=as_of, recorded_at=report.recorded_at if recorded_at else None,
        subject=("incidents", "casualtyreport", str(report.pk)), estimate=estimate,
        payload={"i18n": text["i18n"], "category": category, "group": group, "count": count,
                 "sources": _source_list(source_ref)})],
        actor=actor, source=source, checked=True)
    return report, True


@transaction.atomic
def change_posture(*, area: str, kind: str, state: str, effective_at: datetime,
                   hours: str = "", decree: str = "", source_ref: str = "", note: str = "",
                   estimate: bool = False, recorded_at: datetime | None = None,
                   external_id: str | None = None, actor: Actor | Any,
                   source: str) -> tuple[PostureChange, bool]:
    """Record that a measure or state changed in an area from a given moment."""
    actor = Actor.of(actor)
    now, errors = timezone.now(), {}
    area_obj = _figure_checks(area, recorded_at, source, errors)
    if kind not in PostureKind.values:
        errors["kind"] = [_("must be one of: %(s)s") % {"s": ", ".join(PostureKind)}]
    elif state not in POSTURE_STATES[kind]:
        errors["state"] = [_("must be one of: %(s)s") % {"s": ", ".join(POSTURE_STATES[kind])}]
    _aware("effective_at", effective_at, now + timedelta(days=366), errors)
    if hours and not _HOURS.match(hours):
        errors["hours"] = [_("give the hours as HH:MM-HH:MM, e.g. 23:00-07:00")]
    if errors:
        raise InvalidInput(errors)
    require(actor, FIGURES_RECORD, area=area_obj)
    if external_id and (found := PostureChange.objects.filter(external_id=external_id).first()):
        return found, False
    change = PostureChange.objects.create(
        area=area_obj, area_path=area_obj.path, kind=kind, state=state,
        effective_at=effective_at, recorded_at=recorded_at or now, hours=hours, decree=decree,
        source=source_ref, note=note, estimate=estimate, actor_label=actor.label,
        external_id=external_id)
    text = described(gettext_noop("%(area)s: %(kind)s — %(state)s"), area=area_obj,
                     kind=PostureKind(kind).label, state=POSTURE_STATES[kind][state])
    # A change announced ahead ("lifted from 07:00 tomorrow") is journaled when announced.
    record_entries([EntryDraft(
        kind="posture", summary=text["summary"], area=area_obj,
        occurred_at=min(effective_at, change.recorded_at),
        recorded_at=change.recorded_at if recorded_at else None,
        subject=("incidents", "posturechange", str(change.pk)), estimate=estimate,
        payload={"i18n": text["i18n"], "kind": kind, "state": state, "hours": hours,
                 "decree": decree, "sources": _source_list(source_ref)})],
        actor=actor, source=source, checked=True)
    return change, True
