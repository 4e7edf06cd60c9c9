"""Every write of the lifelines board: reference data, and status reports (single or in
batches of up to 10,000, idempotent by a client-chosen key)."""

from __future__ import annotations

import json
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.apps import apps as django_apps
from django.db import connection, transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from sitroom.core import bulk
from sitroom.core.actors import Actor
from sitroom.core.choices import BACKDATABLE_SOURCES
from sitroom.core.errors import InvalidInput, NotAllowed
from sitroom.core.i18n import described
from sitroom.core.models import Area
from sitroom.core.permissions import (
    LIFELINES_REPORT,
    REFERENCE_MANAGE,
    ROLE_ACTIONS,
    can,
    require,
    scope_of,
)
from sitroom.core.services import EntryDraft, record_entries

from .choices import Status, Trend
from .models import (
    SPAN_HOURS,
    Component,
    CurrentStatus,
    KnownPeriod,
    Lifeline,
    StatusReport,
    span_class,
)

DATA = Path(__file__).resolve().parent / "data" / "components.json"
BATCH_MAX = 10_000
# A batch larger than this is journaled as one entry (each report keeps a pointer to it),
# so that a utility's bulk upload does not flood the journal and the live picture.
JOURNAL_EACH_UP_TO = 50
FUTURE_TOLERANCE = timedelta(minutes=5)
# Django rebuilds a choices class's `values` on every access; a batch checks 10,000 items.
STATUSES = frozenset(Status.values)
TRENDS = frozenset(Trend.values)


@transaction.atomic
def load_components(*, actor: Actor | Any, source: str = "cli") -> int:
    """Load (or update) the lifelines and their components from data/components.json."""
    actor = Actor.of(actor)
    data = json.loads(DATA.read_text(encoding="utf-8"))
    changed = 0
    lifelines = {}
    for row in data["lifelines"]:
        fields = {"name": row["name"]["en"], "name_ru": row["name"]["ru"],
                  "name_kk": row["name"]["kk"], "position": row["position"]}
        obj, created = Lifeline.objects.get_or_create(code=row["code"], defaults=fields)
        if not created and any(getattr(obj, k) != v for k, v in fields.items()):
            Lifeline.objects.filter(pk=obj.pk).update(**fields)
            created = True
        changed += created
        lifelines[obj.code] = obj
    for row in data["components"]:
        fields = {"name": row["name"]["en"], "name_ru": row["name"]["ru"],
                  "name_kk": row["name"]["kk"], "position": row["position"],
                  "unit": row["unit"], "lifeline": lifelines[row["lifeline"]]}
        obj, created = Component.objects.get_or_create(code=row["code"], defaults=fields)
        if not created and any(getattr(obj, k) != v for k, v in fields.items()):
            Component.objects.filter(pk=obj.pk).update(**fields)
            created = True
        changed += created
    if changed:
        text = described(gettext_noop("Lifeline components loaded: %(n)d added or changed"),
                         n=changed)
        record_entries([EntryDraft(kind="lifeline", summary=text["summary"],
                                   payload={"i18n": text["i18n"], "version": data["version"]},
                                   subject=("lifelines", "component", ""))],
                       actor=actor, source=source, checked=True)
    return changed


@transaction.atomic
def update_component(code: str, changes: dict[str, Any], *, actor: Actor | Any,
                     source: str) -> Component:
    """An administrator renames, reorders or retires a component."""
    actor = Actor.of(actor)
    require(actor, REFERENCE_MANAGE)
    component = Component.objects.filter(code=code).first()
    if component is None:
        raise InvalidInput({"code": [_("no component %(code)r") % {"code": code}]})
    allowed = {"name", "name_ru", "name_kk", "position", "active", "unit"}
    if unknown := sorted(set(changes) - allowed):
        raise InvalidInput({name: [_("cannot be changed here")] for name in unknown})
    if "name" in changes and not str(changes["name"]).strip():
        raise InvalidInput({"name": [_("must not be empty")]})
    for key, value in changes.items():
        setattr(component, key, value)
    component.save()
    text = described(gettext_noop("Lifeline component %(name)s changed"), name=component)
    record_entries([EntryDraft(kind="lifeline", summary=text["summary"],
                               payload={"i18n": text["i18n"], "changes": changes},
                               subject=("lifelines", "component", code))],
                   actor=actor, source=source, checked=True)
    return component


@dataclass
class StatusDraft:
    """One status report as a caller sends it."""

    area: str
    component: str
    status: str
    occurred_at: datetime | None = None
    percent_operating: int | None = None
    count_operating: int | None = None
    count_total: int | None = None
    trend: str = ""
    note: str = ""
    source: str = ""
    estimate: bool = False
    recorded_at: datetime | None = None
    key: str | None = None  # the client's idempotency key


@dataclass
class BatchResult:
    stored: list[StatusReport] = field(default_factory=list)
    replayed: list[StatusReport] = field(default_factory=list)  # keys seen before
    errors: dict[int, dict[str, list[str]]] = field(default_factory=dict)


def _count(value: Any, name: str, errors: dict[str, list[str]], top: int | None = None):
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        errors[name] = [_("must be a whole number, 0 or more")]
    elif top is not None and value > top:
        errors[name] = [_("must be at most %(n)d") % {"n": top}]


def _check(d: StatusDraft, areas: dict[str, Area | None], components: dict[str, Component],
           actor: Actor, source: str, now: datetime) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if d.area not in areas:
        areas[d.area] = Area.objects.defer("boundary").filter(code=d.area).first()
    area = areas[d.area]
    if area is None:
        errors["area"] = [_("no area with code %(code)r") % {"code": d.area}]
    elif actor.user is not None and not can(actor.user, LIFELINES_REPORT, area=area):
        errors["area"] = [_("you may not report for %(area)s") % {"area": d.area}]
    component = components.get(d.component)
    if component is None or not component.active:
        errors["component"] = [_("no active component %(code)r") % {"code": d.component}]
    if d.status not in STATUSES:
        errors["status"] = [_("must be one of: %(s)s") % {"s": ", ".join(Status.values)}]
    _count(d.percent_operating, "percent_operating", errors, 100)
    _count(d.count_operating, "count_operating", errors)
    _count(d.count_total, "count_total", errors)
    if (isinstance(d.count_operating, int) and isinstance(d.count_total, int)
            and d.count_operating > d.count_total and "count_total" not in errors):
        errors["count_operating"] = [_("is more than count_total")]
    if d.trend not in TRENDS:
        errors["trend"] = [_("must be one of: %(s)s")
                           % {"s": ", ".join(v for v in Trend.values if v)}]
    for name in ("occurred_at", "recorded_at"):
        when = getattr(d, name)
        if when is None:
            continue
        if not isinstance(when, datetime):
            errors[name] = [_("must be a date and time")]
        elif timezone.is_naive(when):
            errors[name] = [_("needs a time-zone offset, e.g. 2022-01-12T18:00:00+06:00")]
        elif when > now + FUTURE_TOLERANCE:
            errors[name] = [_("is in the future")]
    if d.recorded_at is not None and source not in BACKDATABLE_SOURCES:
        errors["recorded_at"] = [_("is set by the server for entries from this source")]
    if len(d.note or "") > 2000:
        errors["note"] = [_("at most 2,000 characters")]
    if d.key is not None and not 0 < len(d.key) <= 150:
        errors["key"] = [_("must be 1 to 150 characters long")]
    return errors


def report_statuses(drafts: list[StatusDraft], *, actor: Actor | Any, source: str,
                    partial: bool = False, key_scope: str = "") -> BatchResult:
    """Store status reports. All or nothing unless `partial`: then the valid ones are
    stored and the others reported by their index. A `key` already stored (within
    `key_scope`, e.g. the API user) returns the stored report instead of a new one."""
    actor = Actor.of(actor)
    if len(drafts) > BATCH_MAX:
        raise InvalidInput({"items": [_("at most %(n)d items a request") % {"n": BATCH_MAX}]})
    if not drafts:
        raise InvalidInput({"items": [_("must not be empty")]})
    if actor.user is not None and \
            LIFELINES_REPORT not in ROLE_ACTIONS.get(scope_of(actor.user).role, set()):
        raise NotAllowed(_("%(actor)s may not report lifeline statuses") % {"actor": actor.label})
    now = timezone.now()
    codes = {d.area for d in drafts if isinstance(d.area, str)}
    areas: dict[str, Area | None] = dict.fromkeys(codes)
    areas.update((a.code, a) for a in Area.objects.defer("boundary").filter(code__in=codes))
    components = {c.code: c for c in Component.objects.all()}
    result = BatchResult()
    good: list[tuple[int, StatusDraft]] = []
    for i, d in enumerate(drafts):
        problems = _check(d, areas, components, actor, source, now)
        if d.recorded_at and d.occurred_at and d.recorded_at < d.occurred_at:
            problems["recorded_at"] = [_("is earlier than occurred_at")]
        if problems:
            result.errors[i] = problems
        else:
            good.append((i, d))
    if result.errors and not partial:
        raise InvalidInput({f"items[{i}].{name}": msgs for i, problems in result.errors.items()
                            for name, msgs in problems.items()})
    # A large batch touches a page of each index of the reports per row: with SQLite's
    # default 2 MB cache they would be written out and read back before the commit.
    large = bulk.large_write() if len(good) > JOURNAL_EACH_UP_TO else nullcontext()
    with large, transaction.atomic():
        keys = {f"{key_scope}{d.key}" for _i, d in good if d.key}
        seen = {r.external_id: r for r in StatusReport.objects.filter(
            RawSQL(*bulk.any_of("external_id", sorted(keys), indexed=True),
                   output_field=BooleanField()), external_id__isnull=False)} if keys else {}
        new: list[StatusReport] = []
        build = bulk.Builder(StatusReport)
        for _i, d in good:
            external = f"{key_scope}{d.key}" if d.key else None
            if external and external in seen:
                result.replayed.append(seen[external])
                continue
            area, component = areas[d.area], components[d.component]
            report = build({
                "area_id": area.pk, "area_path": area.path, "component_id": component.pk,
                "status": d.status, "percent_operating": d.percent_operating,
                "count_operating": d.count_operating, "count_total": d.count_total,
                "trend": d.trend, "note": (d.note or "").strip(),
                "source": (d.source or "").strip(), "estimate": bool(d.estimate),
                "occurred_at": d.occurred_at or now, "recorded_at": d.recorded_at or now,
                "actor_label": actor.label, "external_id": external},
                cache={"area": area, "component": component})
            if external:
                seen[external] = report
            new.append(report)
        if new:
            _store(new, actor, source)
        result.stored = new
    return result


def _store(reports: list[StatusReport], actor: Actor, source: str) -> None:
    for report, pk in zip(reports, bulk.reserve_ids(StatusReport, len(reports)), strict=True):
        report.pk = pk
    if len(reports) <= JOURNAL_EACH_UP_TO:
        drafts = [EntryDraft(
            kind="lifeline", summary=text["summary"], area=r.area,
            occurred_at=r.occurred_at,
            recorded_at=r.recorded_at if source in BACKDATABLE_SOURCES else None,
            subject=("lifelines", "statusreport", str(r.pk)), estimate=r.estimate,
            payload={"i18n": text["i18n"], "component": r.component.code,
                     "status": r.status, "note": r.note,
                     "sources": [s.strip() for s in r.source.split(";") if s.strip()]})
            for r in reports
            for text in [described(gettext_noop("%(area)s: %(component)s — %(status)s"),
                                   area=r.area, component=r.component,
                                   status=Status(r.status).label)]]
        entries = record_entries(drafts, actor=actor, source=source, checked=True)
    else:
        text = described(gettext_noop("Lifeline statuses reported: %(n)d"), n=len(reports))
        entry = record_entries([EntryDraft(
            kind="lifeline", summary=text["summary"],
            occurred_at=min(r.occurred_at for r in reports),
            recorded_at=max(r.recorded_at for r in reports)
            if source in BACKDATABLE_SOURCES else None,
            subject=("lifelines", "statusreport", ""),
            payload={"i18n": text["i18n"], "count": len(reports)})],
            actor=actor, source=source, checked=True)[0]
        entries = [entry] * len(reports)
    for report, entry in zip(reports, entries, strict=True):
        report.journal_seq = entry.seq
    bulk.insert(reports)
    _advance_current(reports)


def known_at(report: StatusReport) -> datetime:
    """When a report became known: the later of when the status held and when it was
    recorded (a report recorded before the moment it describes is not known before it)."""
    return max(report.occurred_at, report.recorded_at)


def keeps_periods() -> bool:
    """Whether this database keeps the known periods (`KnownPeriod`): PostgreSQL, where
    the board as of a moment reads them. SQLite answers that board with a probe per cell
    fast enough (in process, no round trip), so there keeping them would only cost every
    batch and grow the file by about four fifths."""
    return connection.vendor == "postgresql"


def _move_pointers(reports: list[StatusReport]) -> None:
    """Move each cell's pointer to its newest report (by the time the status held)."""
    newest: dict[tuple[int, int], StatusReport] = {}
    for r in reports:
        key = (r.area_id, r.component_id)
        if key not in newest or (r.occurred_at, r.pk) > (newest[key].occurred_at,
                                                         newest[key].pk):
            newest[key] = r
    table = CurrentStatus._meta.db_table
    convert = bulk.converter(CurrentStatus._meta.get_field("occurred_at"))
    bulk.insert_rows(
        table, ("area_id", "component_id", "report_id", "occurred_at", "status"),
        [(r.area_id, r.component_id, r.pk, convert(r.occurred_at), r.status)
         for r in newest.values()],
        "ON CONFLICT (area_id, component_id) DO UPDATE SET report_id = excluded.report_id, "
        "occurred_at = excluded.occurred_at, status = excluded.status "
        f"WHERE excluded.occurred_at > {table}.occurred_at OR (excluded.occurred_at = "
        f"{table}.occurred_at AND excluded.report_id > {table}.report_id)")


def _advance_current(reports: list[StatusReport]) -> None:
    """Move each cell's pointer to its newest report (by the time the status held) and,
    where they are kept, keep the known periods (`KnownPeriod`) in step.

    Runs under the journal's append lock (taken by `record_entries` in the same
    transaction), so the pointers read here are not changed by another writer before
    this one commits. The pointer is the cell's newest report of all, so from the moment
    it became known it is the answer; a cell whose new reports all became known no
    earlier than that (the usual case, and always for reports recorded now) needs only
    its pointer: the pointer's open period may close, and new reports' periods open one
    after another in the order they became known. Any other cell (a report recorded
    before the pointer's own was known: a backdated load) has its periods computed again
    from its reports."""
    if not keeps_periods():
        _move_pointers(reports)
        return
    by_cell: dict[tuple[int, int], list[StatusReport]] = {}
    for r in reports:
        by_cell.setdefault((r.area_id, r.component_id), []).append(r)
    table = CurrentStatus._meta.db_table
    # Found through the cells' unique index (area, component).
    in_areas, a_params = bulk.any_of("area_id", sorted({a for a, _c in by_cell}),
                                     indexed=True)
    in_comps, c_params = bulk.any_of("component_id", sorted({c for _a, c in by_cell}),
                                     indexed=True)
    before = {(a, c): rest for a, c, *rest in bulk.fetch_rows(
        f"SELECT area_id, component_id, occurred_at, report_id, status, known_from "
        f"FROM {table} WHERE {in_areas} AND {in_comps}",
        [*a_params, *c_params], times=(2, 5)) if (a, c) in by_cell}
    time = bulk.converter(CurrentStatus._meta.get_field("occurred_at"))
    pointers: list[tuple] = []
    closed: list[tuple] = []
    slow: list[tuple[int, int]] = []
    since = None  # the earliest time a new report of a slow cell became known
    for (area_id, comp_id), new in by_cell.items():
        timed = sorted(((known_at(r), (r.occurred_at, r.pk, r.status)) for r in new),
                       key=lambda kr: kr[0])
        old = before.get((area_id, comp_id))
        if old is None:
            best, start = None, None
        else:
            best, start = tuple(old[:3]), old[3]
            if start is None or timed[0][0] < start:
                slow.append((area_id, comp_id))
                since = timed[0][0] if since is None else min(since, timed[0][0])
        for k, report in timed:
            if best is None or report[:2] > best[:2]:
                if best is not None and start < k:
                    closed.append((best[1], area_id, comp_id, best[2], time(best[0]),
                                   time(start), time(k),
                                   span_class((k - start).total_seconds())))
                best, start = report, k
        pointers.append((area_id, comp_id, best[1], time(best[0]), best[2], time(start)))
    bulk.insert_rows(
        table, ("area_id", "component_id", "report_id", "occurred_at", "status",
                "known_from"), pointers,
        "ON CONFLICT (area_id, component_id) DO UPDATE SET report_id = excluded.report_id, "
        "occurred_at = excluded.occurred_at, status = excluded.status, "
        "known_from = excluded.known_from")
    fast = set(slow)
    bulk.insert_rows(KnownPeriod._meta.db_table, PERIOD_COLUMNS,
                     [row for row in closed if (row[1], row[2]) not in fast])
    if slow:
        rebuild_periods(slow, since=since)


def periods_after_migrate(using: str = "default", apps=None, **_signal) -> None:
    """After `migrate` (a `post_migrate` receiver): the known periods and pointers' known
    times of reports stored before the database kept them (migration 0003 added them),
    computed once, with the schema and services as they are now. A migration cannot call
    today's services: their SQL follows today's schema, not the one of its step."""
    if using != "default" or not keeps_periods():
        return
    # `migrate` gives its state's models (`flush` none): a `migrate` stopped before the
    # periods exist has no KnownPeriod.
    try:
        (apps or django_apps).get_model("lifelines", "KnownPeriod")
    except LookupError:
        return
    if CurrentStatus.objects.filter(known_from__isnull=True).exists():
        rebuild_periods()


PERIOD_COLUMNS = ("report_id", "area_id", "component_id", "status", "occurred_at",
                  "known_from", "known_until", "span")


def _known_sql(alias: str = "") -> str:
    """`known_at` in SQL (PostgreSQL, the only database that keeps periods)."""
    a = f"{alias}." if alias else ""
    return f"GREATEST({a}occurred_at, {a}recorded_at)"


def rebuild_periods(cells: list[tuple[int, int]] | None = None,
                    since: datetime | None = None) -> int:
    """Compute the known periods, and the known time of each cell's pointer, from the
    reports themselves: for the given (area id, component id) cells, or all. Returns the
    number of periods written (none where they are not kept). They are written in the
    order they begin, as the services write them, so that the periods holding one moment
    lie on few pages of the table.

    With `since` (no report of the cells that became known before it is new), only the
    periods that end after it are read and written again: a report known from `since` on
    cannot change who was the answer before `since`, so the periods that end by then stay
    as they are (a report backdated by two days rewrites two days of its cell's periods,
    not its whole history)."""
    if not keeps_periods():
        return 0
    reports, periods, current = (m._meta.db_table for m in (StatusReport, KnownPeriod,
                                                                CurrentStatus))
    in_cells, params = "TRUE", []
    if cells is not None:
        cells = sorted(set(cells))
        if not cells:
            return 0
        in_cells = ("(area_id, component_id) IN (VALUES "
                    f"{', '.join(['(%s, %s)'] * len(cells))})")
        params = [x for cell in cells for x in cell]
    known = _known_sql()
    seconds = "EXTRACT(EPOCH FROM (s - k))"
    span = ("CASE " + " ".join(f"WHEN {seconds} <= {h * 3600} THEN {i}"
                               for i, h in enumerate(SPAN_HOURS))
            + f" ELSE {len(SPAN_HOURS)} END")
    rows, rows_params = f"WHERE {in_cells}", params
    with connection.cursor() as cursor:
        if since is not None and cells is not None:
            # Only the reports whose periods can change: those known from `since` on,
            # and each cell's answer just before it (its period may now end sooner). A
            # report known earlier that beats one of these is beaten by that answer, so
            # the periods among these alone are the true ones (each cell's pointer is
            # one of them, or the answer itself).
            cursor.execute(
                f"SELECT id FROM {reports} WHERE {in_cells} "
                f"AND (occurred_at >= %s OR recorded_at >= %s) UNION "
                f"SELECT (SELECT r.id FROM {reports} r WHERE r.area_id = v.a "
                f"AND r.component_id = v.c AND r.occurred_at < %s AND r.recorded_at < %s "
                f"ORDER BY r.occurred_at DESC, r.id DESC LIMIT 1) "
                f"FROM (VALUES {', '.join(['(%s, %s)'] * len(cells))}) v(a, c)",
                [*params, since, since, since, since, *params])
            ids = [i for (i,) in cursor.fetchall() if i is not None]
            rows, rows_params = "WHERE id = ANY(%s)", [ids]
            cursor.execute(f"DELETE FROM {periods} WHERE report_id = ANY(%s)", [ids])
        elif cells is not None:
            # A cell's periods are found through its reports (no index of the periods by
            # cell: one B-tree fewer to write with every batch).
            cursor.execute(f"DELETE FROM {periods} WHERE report_id IN "
                           f"(SELECT id FROM {reports} {rows})", rows_params)
        else:
            cursor.execute(f"DELETE FROM {periods}")
        cursor.execute(
            f"INSERT INTO {periods} ({', '.join(PERIOD_COLUMNS)}) "
            f"SELECT id, area_id, component_id, status, occurred_at, k, s, {span} FROM ("
            f"SELECT id, area_id, component_id, status, occurred_at, {known} AS k, "
            f"MIN({known}) OVER (PARTITION BY area_id, component_id ORDER BY occurred_at, id "
            f"ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS s "
            f"FROM {reports} {rows}) q WHERE s > k ORDER BY k", rows_params)
        written = cursor.rowcount
        cursor.execute(
            f"UPDATE {current} SET "
            f"known_from = (SELECT {_known_sql('r')} FROM {reports} r "
            f"WHERE r.id = {current}.report_id) WHERE {in_cells}", params)
    return written
