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
from .models import SPAN_HOURS, Component, CurrentStatus, KnownPeriod, StatusReport
from .services import keeps_periods


def components() -> list[Component]:
    return list(Component.objects.filter(active=True).select_related("lifeline")
                .order_by("lifeline__position", "position"))


def db_time(moment: datetime) -> Any:
    """A moment as the database driver takes and gives times of reports: aware on
    PostgreSQL, Django's naive-UTC text on SQLite (which sorts as the times do)."""
    return bulk.converter(StatusReport._meta.get_field("occurred_at"))(moment)


def latest_states(area_ids: list[int], component_ids: list[int], as_of: datetime | None,
                  fresh_since: datetime) -> list[tuple[int, int, str, int, bool]]:
    """The newest report of each (area, component) — now, or as known at `as_of` — as
    (area id, component id, status as counted, report id, stale): the country board rolls
    up ten thousand cells and shows a few hundred, so only what the roll-up needs is read,
    and the database says which cells are stale (their status counted as grey). Now: the
    kept pointers; as of a moment: the known periods holding it (`KnownPeriod`), or one
    probe per cell answered from the index `lifeline_cell_asof` alone (`_by_periods`)."""
    if not area_ids or not component_ids:
        return []
    a_marks = ", ".join(["%s"] * len(area_ids))
    c_marks = ", ".join(["%s"] * len(component_ids))
    fresh = db_time(fresh_since)
    ids = [*area_ids, *component_ids]

    def counted(alias: str) -> str:
        return (f"CASE WHEN {alias}.occurred_at < %s THEN '{Status.GREY.value}' "
                f"ELSE {alias}.status END")

    if as_of is None:
        sql = (f"SELECT x.area_id, x.component_id, {counted('x')}, x.report_id, "
               f"x.occurred_at < %s FROM {CurrentStatus._meta.db_table} x "
               f"WHERE x.area_id IN ({a_marks}) AND x.component_id IN ({c_marks})")
        params = [fresh, fresh, *ids]
    elif _by_periods(len(area_ids) * len(component_ids)):
        # The report that was each cell's state at the moment: the closed periods that
        # hold it, and the cells' newest reports if known by then (their period is open).
        # Per length class L, the periods that hold the moment end in (moment, moment + L]:
        # one bounded scan of `lifeline_period_span` each (the last class has no bound).
        # The ids go as one array each (bulk.any_of), not a placeholder each: they are
        # repeated in every part, and thousands of constants take long to plan.
        moment = db_time(as_of)
        parts, params = [], []
        for i in range(len(SPAN_HOURS) + 2):
            alias, table = (("p", KnownPeriod) if i <= len(SPAN_HOURS)
                            else ("x", CurrentStatus))
            in_areas, a_params = bulk.any_of(f"{alias}.area_id", area_ids)
            in_comps, c_params = bulk.any_of(f"{alias}.component_id", component_ids)
            params += [fresh, fresh]
            if i < len(SPAN_HOURS):
                when = "p.span = %s AND p.known_until > %s AND p.known_until <= %s AND "
                params += [i, moment, db_time(as_of + timedelta(hours=SPAN_HOURS[i]))]
            elif i == len(SPAN_HOURS):  # the longest: no upper bound
                when = "p.span = %s AND p.known_until > %s AND "
                params += [i, moment]
            else:  # the newest reports, whose periods are open
                when = ""
            parts.append(
                f"SELECT {alias}.area_id, {alias}.component_id, {counted(alias)}, "
                f"{alias}.report_id, {alias}.occurred_at < %s "
                f"FROM {table._meta.db_table} {alias} WHERE {when}{alias}.known_from <= %s "
                f"AND {in_areas} AND {in_comps}")
            params += [moment, *a_params, *c_params]
        sql = " UNION ALL ".join(parts)
    elif connection.vendor == "postgresql":
        moment = db_time(as_of)
        sql = (f"SELECT a.id, c.id, {counted('x')}, x.id, x.occurred_at < %s "
               f"FROM core_area a CROSS JOIN lifelines_component c CROSS JOIN LATERAL "
               f"(SELECT r.id, r.status, r.occurred_at {_probe()}) x "
               f"WHERE a.id IN ({a_marks}) AND c.id IN ({c_marks})")
        params = [fresh, fresh, moment, moment, *ids]
    else:  # a correlated sub-query gives one column: status, id and staleness in one text
        moment = db_time(as_of)
        sql = (f"SELECT a.id, c.id, (SELECT {counted('r')} || ' ' || r.id || ' ' || "
               f"(r.occurred_at < %s) {_probe()}) FROM core_area a, lifelines_component c "
               f"WHERE a.id IN ({a_marks}) AND c.id IN ({c_marks})")
        with connection.cursor() as cursor:
            cursor.execute(sql, [fresh, fresh, moment, moment, *ids])
            return [(a, c, status, int(rid), stale == "1")
                    for a, c, packed in cursor.fetchall() if packed is not None
                    for status, rid, stale in [packed.split(" ")]]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(a, c, s, r, bool(stale)) for a, c, s, r, stale in cursor.fetchall()]


def _by_periods(cells: int) -> bool:
    """Whether the board as of a moment reads the known periods (see settings); only
    where they are kept (services.keeps_periods: PostgreSQL)."""
    how = settings.LIFELINE_AS_OF_READ
    if not keeps_periods() or how == "probes":
        return False
    return how == "periods" or cells >= settings.LIFELINE_PERIODS_FROM_CELLS


def _probe() -> str:
    """The newest report of cell (a.id, c.id) known at the moment (two parameters)."""
    return (f"FROM {StatusReport._meta.db_table} r WHERE r.area_id = a.id "
            "AND r.component_id = c.id AND r.occurred_at <= %s AND r.recorded_at <= %s "
            "ORDER BY r.occurred_at DESC, r.id DESC LIMIT 1")


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

    @property
    def count_labels(self) -> list[tuple[int, str]]:
        """How many areas inside are in each status, worst first, in the reader's words."""
        return [(n, str(Status(s).label))
                for s, n in sorted(self.counts.items(), key=lambda sn: -SEVERITY[sn[0]])]


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
    comp_ids = [c.pk for c in comps]
    fresh_since = moment - timedelta(hours=settings.LIFELINE_FRESH_HOURS)
    states = latest_states([i for i, _p in subtree], comp_ids, as_of, fresh_since)
    # Each area counts in the roll-up of the board's area (row 0) and of the row (an area
    # one level inside) that holds it, but not in its own row: that is its own cell.
    row_of_path = {a.path: i for i, a in enumerate(rows_areas)}
    depth = len(area.path)
    inside_rows: dict[int, tuple[int, ...]] = {}
    for area_id, path in subtree:
        if area_id == area.pk:
            inside_rows[area_id] = ()
            continue
        child = row_of_path.get(path[:path.index("/", depth) + 1])
        inside_rows[area_id] = (0,) if child is None or rows_areas[child].pk == area_id \
            else (0, child)
    row_index = {a.pk: i for i, a in enumerate(rows_areas)}
    # Counted by Counter's loop in C: ten thousand cells, two roll-ups each.
    tally = Counter((i, comp_id, status) for area_id, comp_id, status, _r, _s in states
                    for i in inside_rows.get(area_id, ()))
    own = {(row_index[area_id], comp_id): (status, report_id, stale)
           for area_id, comp_id, status, report_id, stale in states if area_id in row_index}
    shown = full_reports((rid for _s, rid, _st in own.values()), rows_areas, comps)
    inside: dict[tuple[int, int], Counter] = {}
    for (i, comp_id, status), n in tally.items():
        inside.setdefault((i, comp_id), Counter())[status] = n
    rows = []
    for i, row_area in enumerate(rows_areas):
        cells = []
        for comp_id in comp_ids:
            counts = inside.get((i, comp_id), Counter())
            mine = own.get((i, comp_id))
            every = counts + Counter({mine[0]: 1}) if mine else counts
            cells.append(Cell(
                status=roll_up_counts(every, rule) if every else Status.GREY,
                reported=shown.get((row_area.pk, comp_id)),
                stale=bool(mine and mine[2]), rolled_up=bool(counts), counts=dict(counts)))
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
