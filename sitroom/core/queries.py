"""Every read of the core domain, scoped to the user and aware of `as_of`.

`as_of=None` means now. A moment in the past shows what the EOC knew then: entries that
had occurred *and* been recorded by that moment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Count, Max, QuerySet
from django.db.models.expressions import RawSQL
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import Area, JournalEntry, Organization, Place


@dataclass
class JournalFilter:
    """The timeline's filters; the web page, the API and the live stream share it."""

    area: Area | None = None
    kind: str | None = None
    source: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    q: str | None = None
    as_of: datetime | None = None

    def apply(self, qs: QuerySet) -> QuerySet:
        if self.as_of is not None:
            qs = qs.filter(recorded_at__lte=self.as_of, occurred_at__lte=self.as_of)
        if self.area is not None:
            qs = qs.filter(area_path__startswith=self.area.path)
        if self.kind:
            qs = qs.filter(kind=self.kind)
        if self.source:
            qs = qs.filter(source=self.source)
        if self.since is not None:
            qs = qs.filter(occurred_at__gte=self.since)
        if self.until is not None:
            qs = qs.filter(occurred_at__lte=self.until)
        if self.q:
            qs = apply_search(qs, self.q)
        return qs

    def matches(self, event: dict[str, Any]) -> bool:
        """The same filter over a live event (text search is left to the page)."""
        if self.area is not None and not event["area_path"].startswith(self.area.path):
            return False
        if self.kind and event["kind"] != self.kind:
            return False
        if self.source and event["source"] != self.source:
            return False
        if self.since is not None or self.until is not None:
            occurred = datetime.fromisoformat(event["occurred_at"])
            if self.since is not None and occurred < self.since:
                return False
            if self.until is not None and occurred > self.until:
                return False
        return True


_TERM = re.compile(r"\w+", re.UNICODE)


def apply_search(qs: QuerySet, text: str) -> QuerySet:
    """Full-text search: FTS5 on SQLite, a GIN-indexed tsvector on PostgreSQL.

    Every word must match; each word matches as a prefix ("evac" finds "evacuation").
    """
    terms = _TERM.findall(text.lower())[:12]
    if not terms:
        return qs
    if connection.vendor == "postgresql":
        return qs.filter(RawSQL(
            "to_tsvector('simple', core_journalentry.summary) @@ to_tsquery('simple', %s)",
            [" & ".join(f"{t}:*" for t in terms)], output_field=BooleanField()))
    return qs.filter(seq__in=RawSQL(
        "SELECT rowid FROM core_journal_fts WHERE core_journal_fts MATCH %s",
        [" ".join(f'"{t}"*' for t in terms)]))


def journal_entries(user, flt: JournalFilter | None = None) -> QuerySet:
    """Entries the user may see, newest first by when they happened."""
    qs = JournalEntry.objects.visible_to(user)
    if flt is not None:
        qs = flt.apply(qs)
    return qs.select_related("area", "place", "organization").defer(
        "area__boundary").order_by("-occurred_at", "-seq")


def entry_event(entry: JournalEntry) -> dict[str, Any]:
    """A journal entry as the live stream and the API's clients see it."""
    html = {}
    for code in ("en", "ru", "kk"):
        with translation.override(code):
            html[code] = render_to_string("core/partials/journal_entry.html", {"entry": entry})
    return {
        "seq": entry.seq,
        "hash": entry.hash,
        "occurred_at": entry.occurred_at.isoformat(),
        "recorded_at": entry.recorded_at.isoformat(),
        "kind": entry.kind,
        "subject": entry.subject_id,
        "source": entry.source,
        "summary": entry.summary,
        "area": entry.area.code if entry.area else None,
        "area_path": entry.area_path,
        "organization_id": entry.organization_id,
        "place": entry.place.code if entry.place else None,
        "lat": entry.place.lat if entry.place else (entry.area.lat if entry.area else None),
        "lon": entry.place.lon if entry.place else (entry.area.lon if entry.area else None),
        "html": html,
    }


def areas(user) -> QuerySet:
    return Area.objects.visible_to(user).select_related("parent")


def places(user) -> QuerySet:
    return Place.objects.visible_to(user).select_related("area", "organization").defer(
        "area__boundary")


def organizations(user) -> QuerySet:
    return Organization.objects.visible_to(user).select_related("area").defer(
        "area__boundary")


ACTIVITY_WINDOW = timedelta(hours=24)
# Bookkeeping entries (reference data, accounts) say nothing about the situation.
ADMINISTRATIVE_KINDS = ("area", "place", "organization", "access")


def area_activity(user, as_of: datetime | None = None) -> dict[int, dict[str, Any]]:
    """Per area: entries in the 24 hours up to `as_of` (or now), and the latest time.

    Counted over each area's subtree is left to the map (a region's polygon shows its own
    entries; its cities and districts carry theirs), so the numbers never double-count.
    """
    moment = as_of or timezone.now()
    qs = JournalEntry.objects.visible_to(user).filter(
        recorded_at__lte=moment, occurred_at__lte=moment,
        occurred_at__gt=moment - ACTIVITY_WINDOW).exclude(area=None).exclude(
        kind__in=ADMINISTRATIVE_KINDS)
    rows = qs.values("area_id").annotate(n=Count("seq"), latest=Max("occurred_at"))
    return {r["area_id"]: {"recent": r["n"], "latest": r["latest"]} for r in rows}


def areas_feature_collection(qs, activity: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Areas as GeoJSON: the boundary when loaded, else a point at the centroid."""
    features, attributions = [], []
    for area in qs:
        if area.boundary_source and area.boundary_source not in attributions:
            attributions.append(area.boundary_source)
        act = activity.get(area.pk, {})
        features.append({
            "type": "Feature",
            "id": area.code,
            "geometry": area.boundary or {"type": "Point", "coordinates": [area.lon, area.lat]},
            "properties": {
                "code": area.code, "level": area.level,
                "parent": area.parent.code if area.parent_id else None,
                "name": area.name, "name_kk": area.name_kk, "name_ru": area.name_ru,
                "label": area.label(), "centroid": [area.lon, area.lat],
                "centroid_estimated": area.centroid_estimated,
                "recent_entries": act.get("recent", 0),
                "latest_entry_at": act["latest"].isoformat() if act.get("latest") else None,
            },
        })
    return {"type": "FeatureCollection", "features": features,
            "attribution": " · ".join(attributions)}


def places_feature_collection(qs) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": p.code,
         "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
         "properties": {"code": p.code, "kind": p.kind, "label": p.label(),
                        "kind_label": str(p.get_kind_display()), "area": p.area.code,
                        "estimate": p.estimate, "details": p.details}}
        for p in qs]}
