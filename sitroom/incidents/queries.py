"""Every read of the security situation, scoped to the user and aware of `as_of`."""

from __future__ import annotations

import heapq
import itertools
import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Avg, Count, F, Max, Min, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, Floor
from django.utils import timezone

from sitroom.core.choices import AreaLevel
from sitroom.core.models import Area
from sitroom.core.permissions import scope_of

from . import cells
from .choices import POSTURE_STATES, IncidentStatus, PostureKind
from .documents import listing_documents, merged_by
from .models import (
    CELL_COARSER,
    CELL_SIZES,
    SEVERITY_COUNTS,
    CasualtyReport,
    Incident,
    IncidentCell,
    IncidentHour,
    IncidentRevision,
    IncidentType,
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
    # True: only incidents whose page lists a document (theirs or a merged duplicate's,
    # not withdrawn, as of `as_of` if given); False: only those that list none.
    documents: bool | None = None
    # Keyset paging, newest first: only incidents older than this (occurred_at, id).
    older_than: tuple[datetime, int] | None = None

    def apply(self, qs: QuerySet) -> QuerySet:
        """The filter on the incidents' rows. With `as_of`, only the incidents known then
        and unchanged since (their row is their state then): `IncidentsAsOf` adds those
        changed since, as they were."""
        if self.as_of is not None:
            qs = qs.filter(recorded_at__lte=self.as_of, updated_at__lte=self.as_of,
                           occurred_at__lte=self.as_of)
        qs = qs.annotate(status_then=F("status"))
        if self.statuses:
            qs = qs.filter(status__in=self.statuses)
        elif not self.include_merged:
            qs = qs.exclude(status=IncidentStatus.MERGED)
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
        if self.older_than is not None:
            moment, pk = self.older_than
            qs = qs.filter(Q(occurred_at__lt=moment) | Q(occurred_at=moment, id__lt=pk))
        if self.documents is not None:
            listed = listing_documents(OuterRef("pk"), self.as_of)
            qs = qs.filter(listed if self.documents else ~listed)
        return qs

    def matches(self, i: Incident, documented: set[int] | None = None) -> bool:
        """The same filter on one incident in memory: one read back as it stood at
        `as_of` (see `states_then`). `documented`, if given, holds the ids of the
        incidents whose page listed a document then (else the database is asked)."""
        if self.statuses:
            if i.status not in self.statuses:
                return False
        elif not self.include_merged and i.status == IncidentStatus.MERGED:
            return False
        if self.as_of is not None and not (i.recorded_at <= self.as_of
                                           and i.occurred_at <= self.as_of):
            return False
        if self.area is not None and not i.area_path.startswith(self.area.path):
            return False
        if self.type and i.type.code != self.type:
            return False
        if self.subtype and (i.subtype.code if i.subtype_id else None) != self.subtype:
            return False
        if self.since is not None and i.occurred_at < self.since:
            return False
        if self.until is not None and i.occurred_at > self.until:
            return False
        if self.q:
            text = (i.title.lower(), i.description.lower())
            if not all(any(word.lower() in t for t in text) for word in self.q.split()[:8]):
                return False
        if self.tag and self.tag.lower() not in {str(t).lower() for t in i.tags or []}:
            return False
        if self.min_severity and i.severity < self.min_severity:
            return False
        if self.assignee and (i.assignee.get_username() if i.assignee_id else None) \
                != self.assignee:
            return False
        if self.bbox is not None:
            min_lon, min_lat, max_lon, max_lat = self.bbox
            if i.lat is None or i.lon is None or not (
                    min_lat <= i.lat <= max_lat and min_lon <= i.lon <= max_lon):
                return False
        if self.older_than is not None and not (i.occurred_at, i.pk) < self.older_than:
            return False
        if self.documents is not None:
            if documented is None:
                documented = set(Incident.objects.filter(
                    listing_documents(i.pk, self.as_of), pk=i.pk).values_list("pk", flat=True))
            return (i.pk in documented) == self.documents
        return True


ORDERINGS = {
    "-occurred_at": ("-occurred_at", "-id"), "occurred_at": ("occurred_at", "id"),
    "-severity": ("-severity", "-occurred_at", "-id"), "-recorded_at": ("-recorded_at", "-id"),
    "-fatalities": ("-fatalities", "-occurred_at", "-id"),
}


def incidents(user, flt: IncidentFilter | None = None, order: str = "-occurred_at"
              ) -> QuerySet | IncidentsAsOf:
    """The incidents the user may see that match the filter, in the order. With
    `flt.as_of`, each as it was known then (an `IncidentsAsOf`)."""
    return select(Incident.objects.visible_to(user), flt, order)


def select(qs: QuerySet, flt: IncidentFilter | None = None, order: str = "-occurred_at"
           ) -> QuerySet | IncidentsAsOf:
    """`incidents` over a given set of incidents (all of them, for a system actor)."""
    flt = flt or IncidentFilter()
    if flt.as_of is not None:
        return IncidentsAsOf(qs, flt, order)
    return _with_related(flt.apply(qs)).order_by(
        *ORDERINGS.get(order, ORDERINGS["-occurred_at"]))


def _with_related(qs: QuerySet) -> QuerySet:
    # Not the areas' boundaries: a region's polygon is up to 100 KB of JSON per row.
    return qs.select_related("type", "subtype", "area", "assignee").defer("area__boundary")


# --- As of a moment ---------------------------------------------------------------------

# What a revision's state holds besides its references, as the incident's fields.
_FACTS = ("title", "description", "tags", "lat", "lon", "actors", "fatalities", "injured",
          "sources", "severity", "status", "estimate")


def states_then(qs: QuerySet, moment: datetime) -> list[Incident]:
    """The incidents of `qs` as each stood at `moment`: its latest revision recorded by
    then, read back onto the row (facts, type, area, status, assignee, version). Those
    without a revision by then (not known yet) are left out. Meant for the few incidents
    changed since the moment: the others' rows are their state then."""
    latest: dict[int, IncidentRevision] = {}
    for rev in (IncidentRevision.objects.filter(incident__in=qs.values("pk"),
                                                recorded_at__lte=moment)
                .only("incident_id", "number", "recorded_at", "state")
                .order_by("incident_id", "number")):
        latest[rev.incident_id] = rev  # the highest number wins
    if not latest:
        return []
    states = [rev.state for rev in latest.values()]

    def codes(*keys: str) -> set[str]:
        return {s[k] for s in states for k in keys if s.get(k)}

    types = {t.code: t for t in IncidentType.objects.filter(code__in=codes("type", "subtype"))}
    areas = {a.code: a for a in Area.objects.defer("boundary").filter(code__in=codes("area"))}
    user_model = get_user_model()
    users = {u.get_username(): u for u in user_model.objects.filter(
        **{f"{user_model.USERNAME_FIELD}__in": codes("assignee")})}
    merged_into = {str(i.uid): i for i in Incident.objects.filter(
        uid__in=codes("merged_into")).only("id", "uid")}
    found = []
    for inc in _with_related(qs).order_by():
        rev = latest.get(inc.pk)
        if rev is None:
            continue
        state = rev.state
        for name in _FACTS:
            if name in state:
                setattr(inc, name, state[name])
        inc.occurred_at = datetime.fromisoformat(state["occurred_at"])
        inc.type = types.get(state["type"], inc.type)
        inc.subtype = types.get(state["subtype"]) if state.get("subtype") else None
        if state["area"] in areas:
            inc.area = areas[state["area"]]
            inc.area_path = inc.area.path
        if "assignee" in state:
            inc.assignee = users.get(state["assignee"]) if state["assignee"] else None
        if "merged_into" in state:
            inc.merged_into = merged_into.get(state["merged_into"]) \
                if state["merged_into"] else None
        inc.status_then = inc.status
        inc.version, inc.updated_at = rev.number, rev.recorded_at
        found.append(inc)
    return found


class IncidentsAsOf:
    """The incidents of a set as known at `flt.as_of` that match the filter, in order.

    An incident not changed since that moment (`updated_at` at or before it) stands in
    its row as it stood then, so those are filtered, ordered, counted and paged by the
    database (`unchanged`, a query); the few changed since are read back from their
    revisions (`states_then`) and filtered here (`changed`, a sorted list). The two are
    merged in the list's order. Counts and slices like a query, so a Paginator pages it.
    Who may see an incident is decided by its row, as for the current state (whoever sees
    an incident sees its history)."""

    def __init__(self, qs: QuerySet, flt: IncidentFilter, order: str = "-occurred_at"):
        self.order = ORDERINGS.get(order, ORDERINGS["-occurred_at"])
        self.descending = self.order[0].startswith("-")
        self.fields = [name.lstrip("-") for name in self.order]
        self.unchanged = _with_related(flt.apply(qs)).order_by(*self._sql_order())
        moment = flt.as_of
        # Changed after it, so changed since reported: the term lets the database use
        # the index of changed incidents (`incident_changed`) instead of reading them all.
        changed = qs.filter(recorded_at__lte=moment, updated_at__gt=moment).filter(
            updated_at__gt=F("recorded_at"))
        documented = None if flt.documents is None else set(changed.filter(
            listing_documents(OuterRef("pk"), moment)).values_list("pk", flat=True))
        self.changed = sorted(
            (i for i in states_then(changed, moment) if flt.matches(i, documented)),
            key=self.key, reverse=self.descending)
        self._count: int | None = None

    def _sql_order(self) -> list:
        # A missing figure sorts as the smallest value, on either database, as `key` does.
        order: list = []
        for name, field_name in zip(self.order, self.fields, strict=True):
            if not Incident._meta.get_field(field_name).null:
                order.append(name)
            elif self.descending:
                order.append(F(field_name).desc(nulls_last=True))
            else:
                order.append(F(field_name).asc(nulls_first=True))
        return order

    def key(self, row: Incident | dict[str, Any]) -> tuple:
        """The sort key of an incident or of a row of its values."""
        values = ([row[f] for f in self.fields] if isinstance(row, dict)
                  else [getattr(row, f) for f in self.fields])
        return tuple((v is not None, v) for v in values)

    def merged(self, rows: Iterable, convert: Callable[[Incident], Any] | None = None
               ) -> Iterator:
        """`rows` of the unchanged incidents (this order: the query's instances or its
        values) with the changed ones (`convert`ed to the same shape), in order."""
        changed = map(convert, self.changed) if convert else iter(self.changed)
        return heapq.merge(rows, changed, key=self.key, reverse=self.descending)

    def count(self) -> int:
        if self._count is None:
            self._count = self.unchanged.count() + len(self.changed)
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[Incident]:
        return self.merged(self.unchanged.iterator(chunk_size=2000))

    def __getitem__(self, key: int | slice) -> Incident | list[Incident]:
        if isinstance(key, int):
            found = self[key:key + 1]
            if not found:
                raise IndexError(key)
            return found[0]
        if key.step is not None or (key.start or 0) < 0 or (key.stop or 0) < 0:
            raise ValueError("only plain slices of incidents")
        rows = self.unchanged if key.stop is None else self.unchanged[:key.stop]
        return list(itertools.islice(self.merged(rows), key.start, key.stop))


def assignees(user) -> list[tuple[str, str]]:
    """(user name, label) of the people a manager may give incidents to: the active
    accounts with a role. Only for those who manage incidents; the service still checks
    that each assignee can see each incident."""
    from sitroom.core.permissions import INCIDENTS_MANAGE, ROLE_ACTIONS

    if INCIDENTS_MANAGE not in ROLE_ACTIONS.get(scope_of(user).role, set()):
        return []
    people = get_user_model().objects.filter(is_active=True).filter(
        Q(sitroom_profile__isnull=False) | Q(is_superuser=True)).order_by("username")
    return [(u.username, f"{u.get_full_name()} ({u.username})" if u.get_full_name()
             else u.username) for u in people.only("username", "first_name", "last_name")]


def incident_then(incident: Incident, moment: datetime) -> Incident | None:
    """The incident as it stood at `moment` (`states_then`); None if it was not known
    yet. Who may see it is decided by its row, as for the list as of a moment."""
    found = states_then(Incident.objects.filter(pk=incident.pk), moment)
    return found[0] if found else None


def duplicates(incident: Incident, as_of: datetime | None = None) -> QuerySet:
    """The reports merged into the incident (by `as_of`, if given: merged later, a
    duplicate was still a report of its own then)."""
    found = Incident.objects.filter(merged_into=incident)
    if as_of is not None:
        found = found.filter(merged_by(OuterRef("pk"), as_of))
    return found.order_by("recorded_at", "id")


def history(incident: Incident, as_of: datetime | None = None) -> QuerySet:
    """Every revision of the incident and of the duplicates merged into it, in order; as
    of a moment, those recorded by then of the duplicates merged by then."""
    ids = [incident.pk, *duplicates(incident, as_of).values_list("pk", flat=True)]
    revisions = IncidentRevision.objects.filter(incident_id__in=ids)
    if as_of is not None:
        revisions = revisions.filter(recorded_at__lte=as_of)
    return revisions.select_related("incident").order_by("recorded_at", "incident_id",
                                                         "number")


def extent(user) -> dict[str, Any]:
    """The box (min_lon, min_lat, max_lon, max_lat) and the span of times (first, last:
    occurred_at) of the incidents the user sees, merged ones left out; None where there is
    none.

    For a user who sees everything, without reading every incident (the one aggregate over
    a million took 0.45 s): one MIN or MAX a query, which SQLite answers from an index
    (latitude, time); longitude has no index of its own, so the kept grid counts name the
    westmost and eastmost columns of cells holding an incident, and the exact value is
    read in those cells only, through the (lat, lon) index."""
    qs = incidents(user).order_by()
    aggregates = {"min_lon": Min("lon"), "min_lat": Min("lat"), "max_lon": Max("lon"),
                  "max_lat": Max("lat"), "first": Min("occurred_at"),
                  "last": Max("occurred_at")}
    if not scope_of(user).everything:
        return qs.aggregate(**aggregates)
    found = {key: qs.aggregate(v=aggregates[key])["v"]
             for key in ("min_lat", "max_lat", "first", "last")}
    size = min(CELL_SIZES)
    cells = IncidentCell.objects.filter(size=size, n__gt=0).exclude(
        status=IncidentStatus.MERGED)
    for key, pick in (("min_lon", Min("cx")), ("max_lon", Max("cx"))):
        column = cells.aggregate(v=pick)["v"]
        found[key] = None
        if column is None:
            continue
        rows = sorted(set(cells.filter(cx=column).values_list("cy", flat=True)))
        bands = Q()
        for row in rows:
            bands |= Q(lat__gte=row * size, lat__lt=(row + 1) * size)
        found[key] = qs.filter(bands, lon__gte=column * size, lon__lt=(column + 1) * size
                               ).aggregate(v=aggregates[key])["v"]
    return found


def _counts_serve(user, flt: IncidentFilter, cell_degrees: float) -> float | None:
    """The cell size of the kept counts that can answer this map request, if any: the
    counts know type, status and place only, and cover everything, so they serve users
    who see everything and filters on type, status and bounding box."""
    if not scope_of(user).everything or cell_degrees * CELL_COARSER < min(CELL_SIZES):
        return None
    if any([flt.area, flt.subtype, flt.since, flt.until, flt.q, flt.tag, flt.min_severity,
            flt.assignee, flt.as_of, flt.include_merged, flt.documents is not None]):
        return None
    return max(size for size in CELL_SIZES if size <= cell_degrees * CELL_COARSER)


def map_cells(user, flt: IncidentFilter, cell_degrees: float) -> list[dict[str, Any]]:
    """Incidents grouped into square cells of the grid, for the map at any zoom.

    Zoomed out, with simple filters, it reads the kept counts (IncidentCell); otherwise it
    groups the incidents themselves, which a zoomed-in bounding box keeps few."""
    size = _counts_serve(user, flt, cell_degrees)
    if size is not None:
        return _cells_from_counts(flt, size)
    visible = Incident.objects.visible_to(user)
    changed: list[Incident] = []
    if flt.as_of is not None:  # the unchanged grouped here, those changed since added
        then = IncidentsAsOf(visible, flt)
        qs, changed = then.unchanged, then.changed
    else:
        qs = flt.apply(visible)
    qs = qs.exclude(lat=None)
    rows = (qs.annotate(cy=Floor(F("lat") / cell_degrees), cx=Floor(F("lon") / cell_degrees))
            .values("cy", "cx").annotate(n=Count("id"), lat=Avg("lat"), lon=Avg("lon"),
                                         severity=Max("severity")).order_by())
    if changed:
        rows = _with_incidents(rows, changed, cell_degrees)
    return [{"lat": r["lat"], "lon": r["lon"], "count": r["n"], "severity": r["severity"]}
            for r in rows]


def _with_incidents(rows: Iterable[dict[str, Any]], extra: list[Incident],
                    cell_degrees: float) -> list[dict[str, Any]]:
    """Grouped cells (cy, cx, n, mean lat and lon, severity) with more incidents in them."""
    cells = {(int(r["cy"]), int(r["cx"])): dict(r) for r in rows}
    for i in extra:
        if i.lat is None or i.lon is None:
            continue
        cell = cells.setdefault(
            (math.floor(i.lat / cell_degrees), math.floor(i.lon / cell_degrees)),
            {"n": 0, "lat": 0.0, "lon": 0.0, "severity": i.severity})
        n = cell["n"]
        cell["lat"] = (cell["lat"] * n + i.lat) / (n + 1)
        cell["lon"] = (cell["lon"] * n + i.lon) / (n + 1)
        cell["n"], cell["severity"] = n + 1, max(cell["severity"], i.severity)
    return list(cells.values())


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
    # A group shows its highest severity, as the incidents grouped when zoomed in do: the
    # highest level with any incident in the cell.
    rows = qs.values("cx", "cy").annotate(
        n=Sum("n"), slat=Sum("sum_lat"), slon=Sum("sum_lon"),
        **{column: Sum(column) for column in SEVERITY_COUNTS.values()}
    ).filter(n__gt=0).order_by()
    highest = sorted(SEVERITY_COUNTS.items(), reverse=True)
    return [{"lat": r["slat"] / r["n"], "lon": r["slon"] / r["n"], "count": r["n"],
             "severity": next((int(level) for level, column in highest if r[column] > 0),
                              None)} for r in rows]


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

def board_units(user) -> list[Area]:
    """The board's units the user may see: the top-level ones (regions and the cities
    directly under the country); and, for a scope that lies inside such a unit (a
    district of Almaty, a city of a region), the scope's own areas, so that the board of
    a district's officer shows their district rather than nothing."""
    visible = Area.objects.visible_to(user).defer("boundary")
    units = list(visible.filter(
        Q(level=AreaLevel.REGION) | Q(level=AreaLevel.CITY, parent__level=AreaLevel.COUNTRY)))
    scope = scope_of(user)
    if not scope.everything:
        tops = [unit.path for unit in units]
        units += [area for area in visible.filter(path__in=scope.area_paths)
                  .exclude(level=AreaLevel.COUNTRY).order_by("path")
                  if not any(area.path.startswith(top) for top in tops)]
    return units


def board_scope(user) -> list[Area] | None:
    """The areas the user's board is limited to (their scope); None for one who sees
    every area."""
    scope = scope_of(user)
    if scope.everything:
        return None
    return sorted(Area.objects.visible_to(user).defer("boundary")
                  .filter(path__in=scope.area_paths), key=lambda a: a.label().casefold())


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
               .select_related("area").defer("area__boundary")
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
                # where an inherited measure was declared: the country, or the city
                # around a district
                "declared_for": change.area if change and change.area_id != unit.pk
                else None,
            }
        rows.append({"area": unit, "cells": cells, "incidents_24h": count})
    inner = _inner_posture(units, moment)
    for row in rows:
        for kind, cell in row["cells"].items():
            cell["within"] = [(area, POSTURE_STATES[kind][c.state])
                              for area, c in inner.get((row["area"].pk, kind), [])
                              if c.state != cell["state"]]
    return {"moment": moment, "rows": rows}


def _inner_posture(units: list[Area], moment: datetime
                   ) -> dict[tuple[int, str], list[tuple[Area, PostureChange]]]:
    """Per (unit, kind): the latest change by `moment` of each area inside the unit (a
    district of a city) that has one of its own: a measure of part of a unit."""
    by_path = {u.path: u for u in units}
    latest: dict[tuple[str, str], PostureChange] = {}
    for change in (PostureChange.objects.filter(effective_at__lte=moment,
                                                recorded_at__lte=moment)
                   .exclude(area_path__in=[*by_path, *_ancestor_paths(units)])
                   .select_related("area").defer("area__boundary")
                   .order_by("effective_at", "recorded_at", "id")):
        latest[(change.area_path, change.kind)] = change
    out: dict[tuple[int, str], list[tuple[Area, PostureChange]]] = {}
    for (path, kind), change in sorted(latest.items()):
        unit = next((u for p, u in by_path.items() if path.startswith(p)), None)
        if unit is not None:
            out.setdefault((unit.pk, kind), []).append((change.area, change))
    return out


def _ancestor_paths(units: list[Area]) -> set[str]:
    paths = set()
    for unit in units:
        parts = unit.path.rstrip("/").split("/")
        paths.update("/".join(parts[: i + 1]) + "/" for i in range(len(parts) - 1))
    return paths


def posture_history(area: Area) -> QuerySet:
    """Every posture change of the area, of the areas above it and of those inside it (a
    city's districts), oldest first."""
    parts = area.path.rstrip("/").split("/")
    chain = ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
    return PostureChange.objects.filter(
        Q(area_path__in=chain) | Q(area_path__startswith=area.path)).select_related(
        "area").defer("area__boundary").order_by("effective_at", "recorded_at", "id")
