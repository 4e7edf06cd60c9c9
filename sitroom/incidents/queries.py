"""Every read of the security situation, scoped to the user and aware of `as_of`."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, F, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Floor
from django.utils import timezone

from sitroom.core.choices import AreaLevel
from sitroom.core.models import Area
from sitroom.core.permissions import scope_of

from . import cells
from .choices import POSTURE_STATES, IncidentStatus, PostureKind
from .models import (
    CELL_COARSER,
    CELL_SIZES,
    CasualtyReport,
    Incident,
    IncidentCell,
    IncidentHour,
    IncidentRevision,
    PostureChange,
)


@dataclass
class IncidentFilter:
    """Filters shared by the incident list page, the API, the map and the exports."""

    area: Area | None = None
    type: str | None = None
    subtype: str | None = None
    statuses: list[str] = field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None
    q: str | None = None
    tag: str | None = None
    min_severity: int | None = None
    assignee: str | None = None
    bbox: tuple[float, float, float, float] | None = None  # min lon, min lat, max lon, max lat
    as_of: datetime | None = None
    include_merged: bool = False

    def apply(self, qs: QuerySet) -> QuerySet:
        if self.as_of is not None:
            qs = qs.filter(recorded_at__lte=self.as_of, occurred_at__lte=self.as_of)
            qs = qs.annotate(status_then=Subquery(
                IncidentRevision.objects.filter(incident=OuterRef("pk"),
                                                recorded_at__lte=self.as_of)
                .order_by("-number").values("status")[:1]))
            status_field = "status_then"
        else:
            qs = qs.annotate(status_then=F("status"))
            status_field = "status"
        if self.statuses:
            qs = qs.filter(**{f"{status_field}__in": self.statuses})
        elif not self.include_merged:
            qs = qs.exclude(**{status_field: IncidentStatus.MERGED})
        if self.area is not None:
            qs = qs.filter(area__path__startswith=self.area.path)
        if self.type:
            qs = qs.filter(type__code=self.type)
        if self.subtype:
            qs = qs.filter(subtype__code=self.subtype)
        if self.since is not None:
            qs = qs.filter(occurred_at__gte=self.since)
        if self.until is not None:
            qs = qs.filter(occurred_at__lte=self.until)
        if self.q:
            for word in self.q.split()[:8]:
                qs = qs.filter(Q(title__icontains=word) | Q(description__icontains=word))
        if self.tag:
            qs = qs.filter(tags__icontains=f'"{self.tag}"')
        if self.min_severity:
            qs = qs.filter(severity__gte=self.min_severity)
        if self.assignee:
            qs = qs.filter(assignee__username=self.assignee)
        if self.bbox is not None:
            min_lon, min_lat, max_lon, max_lat = self.bbox
            qs = qs.filter(lat__gte=min_lat, lat__lte=max_lat, lon__gte=min_lon,
                           lon__lte=max_lon)
        return qs


ORDERINGS = {
    "-occurred_at": ("-occurred_at", "-id"), "occurred_at": ("occurred_at", "id"),
    "-severity": ("-severity", "-occurred_at", "-id"), "-recorded_at": ("-recorded_at", "-id"),
    "-fatalities": ("-fatalities", "-occurred_at", "-id"),
}


def incidents(user, flt: IncidentFilter | None = None, order: str = "-occurred_at") -> QuerySet:
    qs = Incident.objects.visible_to(user)
    qs = (flt or IncidentFilter()).apply(qs)
    # Not the areas' boundaries: a region's polygon is up to 100 KB of JSON per row.
    return qs.select_related("type", "subtype", "area", "assignee").defer(
        "area__boundary").order_by(
        *ORDERINGS.get(order, ORDERINGS["-occurred_at"]))


def history(incident: Incident) -> QuerySet:
    """Every revision of the incident and of the duplicates merged into it, in order."""
    ids = [incident.pk, *Incident.objects.filter(merged_into=incident).values_list("pk",
                                                                                   flat=True)]
    return IncidentRevision.objects.filter(incident_id__in=ids).select_related(
        "incident").order_by("recorded_at", "incident_id", "number")


def _counts_serve(user, flt: IncidentFilter, cell_degrees: float) -> float | None:
    """The cell size of the kept counts that can answer this map request, if any: the
    counts know type, status and place only, and cover everything, so they serve users
    who see everything and filters on type, status and bounding box."""
    if not scope_of(user).everything or cell_degrees * CELL_COARSER < min(CELL_SIZES):
        return None
    if any([flt.area, flt.subtype, flt.since, flt.until, flt.q, flt.tag, flt.min_severity,
            flt.assignee, flt.as_of, flt.include_merged]):
        return None
    return max(size for size in CELL_SIZES if size <= cell_degrees * CELL_COARSER)


def map_cells(user, flt: IncidentFilter, cell_degrees: float) -> list[dict[str, Any]]:
    """Incidents grouped into square cells of the grid, for the map at any zoom.

    Zoomed out, with simple filters, it reads the kept counts (IncidentCell); otherwise it
    groups the incidents themselves, which a zoomed-in bounding box keeps few."""
    size = _counts_serve(user, flt, cell_degrees)
    if size is not None:
        return _cells_from_counts(flt, size)
    qs = flt.apply(Incident.objects.visible_to(user)).exclude(lat=None)
    rows = (qs.annotate(cy=Floor(F("lat") / cell_degrees), cx=Floor(F("lon") / cell_degrees))
            .values("cy", "cx").annotate(n=Count("id"), lat=Avg("lat"), lon=Avg("lon"),
                                         severity=Max("severity")).order_by())
    return [{"lat": r["lat"], "lon": r["lon"], "count": r["n"], "severity": r["severity"]}
            for r in rows]


def _cells_from_counts(flt: IncidentFilter, size: float) -> list[dict[str, Any]]:
    qs = IncidentCell.objects.filter(size=size, n__gt=0)
    statuses = flt.statuses or [s for s in IncidentStatus.values if s != IncidentStatus.MERGED]
    qs = qs.filter(status__in=statuses)
    if flt.type:
        qs = qs.filter(type__code=flt.type)
    if flt.bbox is not None:
        min_lon, min_lat, max_lon, max_lat = flt.bbox
        qs = qs.filter(cx__gte=math.floor(min_lon / size), cx__lte=math.floor(max_lon / size),
                       cy__gte=math.floor(min_lat / size), cy__lte=math.floor(max_lat / size))
    rows = qs.values("cx", "cy").annotate(
        n=Sum("n"), slat=Sum("sum_lat"), slon=Sum("sum_lon"), ssev=Sum("sum_severity")
    ).filter(n__gt=0).order_by()
    return [{"lat": r["slat"] / r["n"], "lon": r["slon"] / r["n"], "count": r["n"],
             "severity": round(r["ssev"] / r["n"])} for r in rows]


# --- Casualty figures -----------------------------------------------------------------

def casualty_reports(user, *, area: Area | None = None, as_of: datetime | None = None
                     ) -> QuerySet:
    qs = CasualtyReport.objects.visible_to(user).select_related(
        "area", "reporting_body").defer("area__boundary")
    if area is not None:
        qs = qs.filter(area_path__startswith=area.path)
    if as_of is not None:
        qs = qs.filter(recorded_at__lte=as_of, as_of__lte=as_of)
    return qs.order_by("as_of", "recorded_at", "id")


def latest_figures(user, *, area: Area | None = None, as_of: datetime | None = None
                   ) -> list[dict[str, Any]]:
    """Per area, category and group: each reporting body's latest figure side by side,
    with the history of that body's figures (`earlier`: all but the latest, oldest first).
    One body never replaces another's."""
    table: dict[tuple, dict[str, Any]] = {}
    for r in casualty_reports(user, area=area, as_of=as_of):
        key = (r.area.path, r.category, r.group)
        row = table.setdefault(key, {"area": r.area, "category": r.category, "group": r.group,
                                     "bodies": {}})
        body = row["bodies"].setdefault(r.reporting_body_id, {"body": r.reporting_body,
                                                              "history": []})
        body["history"].append(r)
        body["latest"] = r
    rows = sorted(table.values(), key=lambda row: (row["area"].path, row["category"],
                                                   row["group"]))
    for row in rows:
        row["bodies"] = sorted(row["bodies"].values(), key=lambda b: b["body"].name)
        for b in row["bodies"]:
            b["earlier"] = b["history"][:-1]
    return rows


# --- Area posture and the country board --------------------------------------------------

def board_units(user) -> QuerySet:
    """The top-level units: regions and the cities directly under the country."""
    return Area.objects.visible_to(user).defer("boundary").filter(
        Q(level=AreaLevel.REGION) | Q(level=AreaLevel.CITY, parent__level=AreaLevel.COUNTRY)
    ).order_by("name")


def posture_at(areas: list[Area], moment: datetime) -> dict[int, dict[str, PostureChange]]:
    """For each area: the latest change of each kind effective by `moment` and known by
    then, whether recorded for the area itself or for the whole country (or region)
    above it."""
    ancestors: dict[int, list[str]] = {}
    paths = set()
    for area in areas:
        parts = area.path.rstrip("/").split("/")
        chain = ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
        ancestors[area.pk] = chain
        paths.update(chain)
    changes = (PostureChange.objects.filter(area_path__in=paths, effective_at__lte=moment,
                                            recorded_at__lte=moment)
               .order_by("effective_at", "recorded_at", "id"))
    latest: dict[tuple[str, str], PostureChange] = {}
    for change in changes:
        latest[(change.area_path, change.kind)] = change  # later rows win
    result: dict[int, dict[str, PostureChange]] = {}
    for area in areas:
        per_kind: dict[str, PostureChange] = {}
        for kind in PostureKind.values:
            candidates = [latest[(p, kind)] for p in ancestors[area.pk] if (p, kind) in latest]
            if candidates:
                per_kind[kind] = max(candidates, key=lambda c: (c.effective_at, c.recorded_at))
        result[area.pk] = per_kind
    return result


def recent_counts(user, moment: datetime, hours: int = 24) -> dict[int, int]:
    """Per area: the incidents that occurred in the `hours` before `moment` and were
    known by then (discarded and merged ones left out). Whole hours come from the kept
    counts (IncidentHour) when they were known before `moment`'s hour; the two partial
    hours at the ends, and what became known during `moment`'s own hour, from the
    incidents themselves."""
    start = moment - timedelta(hours=hours)
    first_full = cells.hour_of(start) + timedelta(hours=1)  # after `start`, whole
    last_hour = cells.hour_of(moment)  # the hour `moment` is in: partial
    counts: Counter[int] = Counter()
    visible = Area.objects.visible_to(user).values("id")
    counted = Incident.objects.visible_to(user).exclude(status__in=cells.NOT_COUNTED)
    if first_full < last_hour:
        counts.update(dict(
            IncidentHour.objects.filter(hour__gte=first_full, hour__lt=last_hour,
                                        known__lt=last_hour, area__in=visible)
            .values_list("area_id").annotate(total=Sum("n")).values_list("area_id", "total")))
        edges = (Q(occurred_at__gt=start, occurred_at__lt=first_full)
                 | Q(occurred_at__gte=last_hour, occurred_at__lte=moment))
        # Learned during the last hour: found by `recorded_at` (an hour of it); the
        # occurrence test goes through a function so no index is used for it (SQLite
        # would otherwise scan the whole day by `occurred_at`).
        late = counted.annotate(occurred=Coalesce("occurred_at", "occurred_at")).filter(
            recorded_at__gte=last_hour, recorded_at__lte=moment,
            occurred__gte=first_full, occurred__lt=last_hour)
        queries = [counted.filter(edges, recorded_at__lte=moment), late]
    else:  # a window shorter than two hours: count the incidents
        queries = [counted.filter(occurred_at__gt=start, occurred_at__lte=moment,
                                  recorded_at__lte=moment)]
    for qs in queries:
        counts.update(dict(qs.values_list("area_id").annotate(n=Count("id"))
                           .values_list("area_id", "n").order_by()))
    return {area_id: n for area_id, n in counts.items() if n}


def country_board(user, moment: datetime | None = None) -> dict[str, Any]:
    """The board: each unit's posture at a moment, and its incidents of the last day."""
    moment = moment or timezone.now()
    units = sorted(board_units(user), key=lambda a: a.label().casefold())  # reader's alphabet
    posture = posture_at(units, moment)
    paths = dict(Area.objects.values_list("id", "path"))
    recent: dict[str, int] = {}
    for area_id, n in recent_counts(user, moment).items():
        recent[paths[area_id]] = recent.get(paths[area_id], 0) + n
    rows = []
    for unit in units:
        count = sum(n for path, n in recent.items() if path.startswith(unit.path))
        cells = {}
        for kind in PostureKind.values:
            change = posture[unit.pk].get(kind)
            cells[kind] = {
                "state": change.state if change else None,
                "label": POSTURE_STATES[kind][change.state] if change else None,
                "since": change.effective_at if change else None,
                "hours": change.hours if change else "",
                "decree": change.decree if change else "",
                "estimate": change.estimate if change else False,
                "inherited": bool(change and change.area_id != unit.pk),
            }
        rows.append({"area": unit, "cells": cells, "incidents_24h": count})
    return {"moment": moment, "rows": rows}


def posture_history(area: Area) -> QuerySet:
    """Every posture change of the area and of the areas above it, oldest first."""
    parts = area.path.rstrip("/").split("/")
    chain = ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
    return PostureChange.objects.filter(area_path__in=chain).select_related("area").defer(
        "area__boundary").order_by(
        "effective_at", "recorded_at", "id")
