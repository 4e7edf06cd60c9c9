"""Every read of the lifelines board, scoped and as-of aware."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sitroom.core import bulk
from sitroom.core.models import Area

from .choices import SEVERITY, RollUp, Status, Trend
from .models import Component, CurrentStatus, StatusReport


def components() -> list[Component]:
    return list(Component.objects.filter(active=True).select_related("lifeline")
                .order_by("lifeline__position", "position"))


class CellState(NamedTuple):
    """What the roll-up needs of a cell's newest report. `occurred_at` is as the database
    driver returns it; compare it with `db_time(...)` of a moment."""

    report_id: int
    status: str
    occurred_at: Any


def db_time(moment: datetime) -> Any:
    """A moment in the form `latest_states` gives times: aware on PostgreSQL, Django's
    naive-UTC text on SQLite (which sorts as the times do)."""
    return bulk.converter(StatusReport._meta.get_field("occurred_at"))(moment)


def latest_states(area_ids: list[int], component_ids: list[int],
                  as_of: datetime | None) -> dict[tuple[int, int], CellState]:
    """The newest report of each (area, component) — now, or as known at `as_of` — as
    its id, status and time only: the country board rolls up ten thousand cells and
    shows a few hundred. Now: the kept pointers; as of a moment: one probe per cell,
    answered from the index `lifeline_cell_asof` alone."""
    if not area_ids or not component_ids:
        return {}
    a_marks = ", ".join(["%s"] * len(area_ids))
    c_marks = ", ".join(["%s"] * len(component_ids))
    # Times are read as text on SQLite (`|| ''` has no declared type, so the driver
    # leaves it alone): parsing ten thousand of them would cost more than the query.
    text = "" if connection.vendor == "postgresql" else " || ''"
    if as_of is None:
        sql = (f"SELECT area_id, component_id, report_id, status, occurred_at{text} "
               f"FROM {CurrentStatus._meta.db_table} WHERE area_id IN ({a_marks}) "
               f"AND component_id IN ({c_marks})")
        params = [*area_ids, *component_ids]
    else:
        table = StatusReport._meta.db_table
        moment = db_time(as_of)
        probe = (f"FROM {table} r WHERE r.area_id = a.id AND r.component_id = c.id "
                 "AND r.occurred_at <= %s AND r.recorded_at <= %s "
                 "ORDER BY r.occurred_at DESC, r.id DESC LIMIT 1")
        params = [moment, moment, *area_ids, *component_ids]
        if connection.vendor == "postgresql":
            sql = (f"SELECT a.id, c.id, x.id, x.status, x.occurred_at FROM core_area a "
                   f"CROSS JOIN lifelines_component c CROSS JOIN LATERAL (SELECT r.id, "
                   f"r.status, r.occurred_at {probe}) x WHERE a.id IN ({a_marks}) "
                   f"AND c.id IN ({c_marks})")
        else:  # a correlated sub-query gives one column: status, id and time in one text
            sql = (f"SELECT a.id, c.id, (SELECT r.status || ' ' || r.id || ' ' || "
                   f"r.occurred_at {probe}) FROM core_area a, lifelines_component c "
                   f"WHERE a.id IN ({a_marks}) AND c.id IN ({c_marks})")
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return {(a, c): CellState(int(parts[1]), parts[0], parts[2])
                        for a, c, packed in cursor.fetchall() if packed is not None
                        for parts in [packed.split(" ", 2)]}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(a, c): CellState(r, s, t) for a, c, r, s, t in cursor.fetchall()}


def full_reports(ids, areas: list[Area], comps: list[Component]
                 ) -> dict[tuple[int, int], StatusReport]:
    """The reports shown on the board, given the area and component objects the board
    already holds (no query or object per report for them)."""
    area_of = {a.pk: a for a in areas}
    comp_of = {c.pk: c for c in comps}
    shown = {}
    for r in StatusReport.objects.filter(id__in=list(ids)):
        r.area, r.component = area_of[r.area_id], comp_of[r.component_id]
        shown[(r.area_id, r.component_id)] = r
    return shown


@dataclass
class Cell:
    """What the board shows for one area and component."""

    status: str  # as shown: grey when stale or unknown
    reported: StatusReport | None = None  # the area's own newest report, if any
    stale: bool = False
    rolled_up: bool = False  # derived from the areas inside
    counts: dict[str, int] = field(default_factory=dict)  # statuses of the areas inside

    @property
    def symbol(self) -> str:
        from .choices import SYMBOLS

        return SYMBOLS[self.status]

    @property
    def label(self) -> str:
        return str(Status(self.status).label)


def roll_up_counts(counts: Counter, rule: str) -> str:
    """`roll_up` of statuses given as status -> how many cells have it."""
    if rule == RollUp.MAJORITY:
        top = max(counts.values())
        return max((s for s, n in counts.items() if n == top), key=SEVERITY.get)
    return max(counts, key=SEVERITY.get)


def board(user, area: Area | None = None, as_of: datetime | None = None,
          rule: str | None = None) -> dict[str, Any]:
    """Rows: the area and the areas one level inside it (the country's regions and cities
    when no area is given); columns: components. Each row's cell rolls up everything
    inside that row's area."""
    rule = rule or settings.LIFELINE_ROLLUP
    moment = as_of or timezone.now()
    visible = Area.objects.visible_to(user).defer("boundary")
    if area is None:
        area = visible.filter(level="country").first()
    if area is None:
        return {"area": None, "rows": [], "components": components(), "moment": moment,
                "rule": rule, "rule_text": RollUp(rule).label}
    rows_areas = [area, *visible.filter(parent=area).order_by("name")]
    subtree = list(visible.filter(path__startswith=area.path).values_list("id", "path"))
    comps = components()
    states = latest_states([i for i, _p in subtree], [c.pk for c in comps], as_of)
    shown = full_reports((states[(a.pk, c.pk)].report_id for a in rows_areas for c in comps
                          if (a.pk, c.pk) in states), rows_areas, comps)
    fresh_since = db_time(moment - timedelta(hours=settings.LIFELINE_FRESH_HOURS))
    # Each cell's status as the roll-up counts it (grey when stale), by area.
    by_area: dict[int, list[tuple[int, str]]] = {}
    stale_cells = set()
    for (area_id, comp_id), state in states.items():
        if state.occurred_at < fresh_since:
            stale_cells.add((area_id, comp_id))
            by_area.setdefault(area_id, []).append((comp_id, Status.GREY))
        else:
            by_area.setdefault(area_id, []).append((comp_id, state.status))
    comp_ids = [c.pk for c in comps]
    rows = []
    for row_area in rows_areas:
        row_id = row_area.pk
        counts: dict[int, Counter] = {c: Counter() for c in comp_ids}
        for area_id, path in subtree:
            if area_id != row_id and path.startswith(row_area.path):
                for comp_id, status in by_area.get(area_id, ()):
                    counts[comp_id][status] += 1
        own = dict(by_area.get(row_id, ()))
        cells = []
        for comp_id in comp_ids:
            inside = counts[comp_id]
            every = inside + Counter({own[comp_id]: 1}) if comp_id in own else inside
            cells.append(Cell(
                status=roll_up_counts(every, rule) if every else Status.GREY,
                reported=shown.get((row_id, comp_id)), stale=(row_id, comp_id) in stale_cells,
                rolled_up=bool(inside), counts=dict(inside)))
        rows.append({"area": row_area, "cells": cells,
                     "summary": summary(list(zip(comps, cells, strict=True)))})
    return {"area": area, "rows": rows, "components": comps, "moment": moment,
            "rule": rule, "rule_text": RollUp(rule).label}


def summary(cells: list[tuple[Component, Cell]]) -> str:
    """One line for an area, in the reader's language: what works, what is resuming,
    what is down. E.g. "Electricity, district heating and water supply: operating
    normally; retail and catering: resuming; metro: not operating." """
    groups: dict[str, list[str]] = {"ok": [], "resuming": [], "limited": [], "down": [],
                                    "stale": []}
    for comp, cell in cells:
        name = comp.label()
        if cell.stale:
            groups["stale"].append(name)
        elif cell.status == Status.GREEN:
            groups["ok"].append(name)
        elif cell.status == Status.YELLOW:
            trend = cell.reported.trend if cell.reported and not cell.rolled_up else ""
            groups["resuming" if trend == Trend.IMPROVING else "limited"].append(name)
        elif cell.status == Status.RED:
            groups["down"].append(name)
    # One item or several: the verb agrees (in Russian and Kazakh it changes).
    phrases = [
        ("ok", lambda n: ngettext("%(items)s: operating normally",
                                  "%(items)s: operating normally", n)),
        ("resuming", lambda n: ngettext("%(items)s: resuming", "%(items)s: resuming", n)),
        ("limited", lambda n: ngettext("%(items)s: disrupted or limited",
                                       "%(items)s: disrupted or limited", n)),
        ("down", lambda n: ngettext("%(items)s: not operating", "%(items)s: not operating",
                                    n)),
        ("stale", lambda n: ngettext("%(items)s: no recent report",
                                     "%(items)s: no recent report", n)),
    ]
    parts = []
    for key, phrase in phrases:
        if groups[key]:
            items = get_text_list(groups[key], _("and"))
            parts.append(phrase(len(groups[key])) % {
                "items": items[:1].upper() + items[1:] if not parts else items})
    return "; ".join(parts) + "." if parts else _("No reports.")


def history(user, area: Area, component: Component, as_of: datetime | None = None
            ) -> QuerySet:
    """Every report of one cell, oldest first (known by `as_of`, if given)."""
    qs = StatusReport.objects.visible_to(user).filter(area=area, component=component)
    if as_of is not None:
        qs = qs.filter(recorded_at__lte=as_of, occurred_at__lte=as_of)
    return qs.order_by("occurred_at", "id")


def reports(user, *, area: Area | None = None, component: str | None = None,
            since: datetime | None = None, until: datetime | None = None,
            as_of: datetime | None = None) -> QuerySet:
    qs = StatusReport.objects.visible_to(user).select_related("area", "component").defer(
        "area__boundary")
    if area is not None:
        qs = qs.filter(area__path__startswith=area.path)
    if component:
        qs = qs.filter(component__code=component)
    if since is not None:
        qs = qs.filter(occurred_at__gte=since)
    if until is not None:
        qs = qs.filter(occurred_at__lte=until)
    if as_of is not None:
        qs = qs.filter(recorded_at__lte=as_of, occurred_at__lte=as_of)
    return qs.order_by("-occurred_at", "-id")
