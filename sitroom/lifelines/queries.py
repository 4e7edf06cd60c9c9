"""Every read of the lifelines board, scoped and as-of aware."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

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


def latest_reports(area_ids: list[int], component_ids: list[int],
                   as_of: datetime | None) -> dict[tuple[int, int], StatusReport]:
    """The newest report of each (area, component) — now, or as known at `as_of`."""
    if not area_ids or not component_ids:
        return {}
    if as_of is None:
        ids = list(CurrentStatus.objects.filter(area_id__in=area_ids,
                                                component_id__in=component_ids)
                   .values_list("report_id", flat=True))
    else:
        table = StatusReport._meta.db_table
        a_marks = ", ".join(["%s"] * len(area_ids))
        c_marks = ", ".join(["%s"] * len(component_ids))
        moment = bulk.converter(StatusReport._meta.get_field("occurred_at"))(as_of)
        sql = (
            f"SELECT (SELECT r.id FROM {table} r WHERE r.area_id = a.id "
            "AND r.component_id = c.id AND r.occurred_at <= %s AND r.recorded_at <= %s "
            "ORDER BY r.occurred_at DESC, r.id DESC LIMIT 1) "
            f"FROM core_area a, lifelines_component c WHERE a.id IN ({a_marks}) "
            f"AND c.id IN ({c_marks})")
        with connection.cursor() as cursor:
            cursor.execute(sql, [moment, moment, *area_ids, *component_ids])
            ids = [row[0] for row in cursor.fetchall() if row[0] is not None]
    return {(r.area_id, r.component_id): r for r in StatusReport.objects.filter(id__in=ids)}


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


def _effective(report: StatusReport | None, moment: datetime) -> tuple[str, bool]:
    """The status a report stands for at `moment`: grey when missing or stale."""
    if report is None:
        return Status.GREY, False
    if moment - report.occurred_at > timedelta(hours=settings.LIFELINE_FRESH_HOURS):
        return Status.GREY, True
    return report.status, False


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
    reports = latest_reports([i for i, _p in subtree], [c.pk for c in comps], as_of)
    rows = []
    for row_area in rows_areas:
        inside = [i for i, p in subtree if p.startswith(row_area.path)]
        cells = []
        for comp in comps:
            own = reports.get((row_area.pk, comp.pk))
            own_status, stale = _effective(own, moment)
            statuses, counts = [], Counter()
            for area_id in inside:
                report = reports.get((area_id, comp.pk))
                if report is None:
                    continue
                status, _s = _effective(report, moment)
                statuses.append(status)
                if area_id != row_area.pk:
                    counts[status] += 1
            shown = roll_up(statuses, rule) if statuses else own_status
            cells.append(Cell(status=shown, reported=own, stale=stale,
                              rolled_up=bool(counts), counts=dict(counts)))
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
