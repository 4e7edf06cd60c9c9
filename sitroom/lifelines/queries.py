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
        if connection.vendor == "postgresql":
            sql = (f"SELECT a.id, c.id, x.id, x.status, x.occurred_at FROM core_area a "
                   f"CROSS JOIN lifelines_component c CROSS JOIN LATERAL (SELECT r.id, "
                   f"r.status, r.occurred_at {probe}) x WHERE a.id IN ({a_marks}) "
                   f"AND c.id IN ({c_marks})")
        else:  # a correlated sub-query gives one column: the id, then the row by rowid
            sql = (f"SELECT t.area_id, t.component_id, r.id, r.status, r.occurred_at{text} "
                   f"FROM (SELECT a.id AS area_id, c.id AS component_id, (SELECT r.id "
                   f"{probe}) AS rid FROM core_area a, lifelines_component c "
                   f"WHERE a.id IN ({a_marks}) AND c.id IN ({c_marks})) t "
                   f"JOIN {table} r ON r.id = t.rid")
        params = [moment, moment, *area_ids, *component_ids]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(a, c): CellState(r, s, t) for a, c, r, s, t in cursor.fetchall()}


def full_reports(ids) -> dict[tuple[int, int], StatusReport]:
    """The reports shown on the board, with their area (without its boundary) and
    component in the same query."""
    return {(r.area_id, r.component_id): r for r in StatusReport.objects.filter(id__in=ids)
            .select_related("area", "component").defer("area__boundary")}


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


def _effective(state: CellState | None, fresh_since: Any) -> tuple[str, bool]:
    """The status a cell's newest report stands for: grey when missing, or stale when it
    is older than the freshness window (which ends at the board's moment)."""
    if state is None:
        return Status.GREY, False
    if state.occurred_at < fresh_since:
        return Status.GREY, True
    return state.status, False


def roll_up(statuses: list[str], rule: str) -> str:
    """An area's status from its own and the areas inside it (see RollUp)."""
    if not statuses:
        return Status.GREY
    if rule == RollUp.MAJORITY:
        counts = Counter(statuses)
        top = max(counts.values())
        return max((s for s, n in counts.items() if n == top), key=SEVERITY.get)
    return max(statuses, key=SEVERITY.get)


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
    shown = full_reports(states[(a.pk, c.pk)].report_id for a in rows_areas for c in comps
                         if (a.pk, c.pk) in states)
    fresh_since = db_time(moment - timedelta(hours=settings.LIFELINE_FRESH_HOURS))
    effective = {key: _effective(state, fresh_since) for key, state in states.items()}
    rows = []
    for row_area in rows_areas:
        inside = [i for i, p in subtree if p.startswith(row_area.path)]
        cells = []
        for comp in comps:
            own_status, stale = effective.get((row_area.pk, comp.pk), (Status.GREY, False))
            statuses, counts = [], Counter()
            for area_id in inside:
                seen = effective.get((area_id, comp.pk))
                if seen is None:
                    continue
                status = seen[0]
                statuses.append(status)
                if area_id != row_area.pk:
                    counts[status] += 1
            shown_status = roll_up(statuses, rule) if statuses else own_status
            cells.append(Cell(status=shown_status, reported=shown.get((row_area.pk, comp.pk)),
                              stale=stale, rolled_up=bool(counts), counts=dict(counts)))
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
    qs = StatusReport.objects.visible_to(user).select_related("area", "component")
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
