"""The write path of a large import: reports checked batch by batch, written together.

`report_incidents` writes each batch as it comes: the incident rows in the file's order,
then a revision per row, then the kept counts. Into a table of a million incidents with
the indexes the list, map and board need, rows in the file's order touch pages all over
each time index, and that insert was two thirds of an import's time (docs/performance.md
§3). Here every batch is checked by the same service rules (`services._check_draft`,
the same refusal of reused ids, the same rights) and held in a temporary table of this
connection; at the end the incidents go into their table in one statement ordered by
their time, with ids in that order, and their revisions, the journal entry and the kept
counts are written from the same table by the database. Nothing is visible to anyone
before the end, and a failure anywhere leaves nothing: the temporary table is created
inside the import's transaction.
"""

from __future__ import annotations

import json
import uuid

from django.db import connection
from django.utils import timezone

from sitroom.core import bulk
from sitroom.core.actors import Actor
from sitroom.core.models import Area, time_ordered_uid
from sitroom.core.sqltext import Formatter, Span, literal

from . import cells
from .models import CELL_SIZES, SEVERITY_COUNTS, Incident, IncidentHour, IncidentRevision
from .services import (
    IMPORT_SUMMARY_OVER,
    IncidentDraft,
    IncidentRefs,
    _identity,
    _journal_and_revisions,
    _refuse_reused_ids,
    checked_drafts,
    import_summary,
    stored_by_external_id,
)

# What the import stages per incident, in this order (the incident's columns that vary by
# report, and the codes and coordinates' text its revision is written with); the others are
# the same for every new report (`_SAME`) or given at the end (id).
_STAGED = ("uid", "external_id", "type_id", "subtype_id", "title", "description", "tags",
           "occurred_at", "recorded_at", "lat", "lon", "area_id", "area_path", "actors",
           "fatalities", "injured", "sources", "severity", "estimate")
_EXTRA = ("type_code", "subtype_code", "area_code", "lat_text", "lon_text")
_SAME = ("status", "assignee_id", "merged_into_id", "reported_by", "reporter_id", "version",
         "updated_at")


def _check_columns() -> None:
    """Every column of the incidents' table is staged or set at the end: a field added to
    the model and not here fails the first import, not every import quietly."""
    columns = {f.column for f in Incident._meta.concrete_fields}
    missing = columns - {"id", *_STAGED, *_SAME}
    if missing:
        raise RuntimeError(f"staging.py does not write incidents_incident.{sorted(missing)}")


class StagedReports:
    """New incident reports of one import: `add` each batch (checked, refused as a whole
    with the problems by row, like `report_incidents`), then `finish` once.

    Use inside the import's transaction (`transaction.atomic`)."""

    def __init__(self, *, actor: Actor, source: str, refs: IncidentRefs | None = None):
        _check_columns()
        self.actor, self.source = actor, source
        self.refs = refs or IncidentRefs()
        self.pg = connection.vendor == "postgresql"
        self.table = f"incident_stage_{uuid.uuid4().hex[:12]}"
        self.count = 0
        self.areas: dict[int, Area] = {}
        self.first_uids: list[str] = []
        self._time = bulk.converter(Incident._meta.get_field("occurred_at"))
        self._uid = bulk.converter(Incident._meta.get_field("uid"))
        self._created = False

    def _create(self) -> None:
        """The temporary table, made in the caller's transaction (its rollback drops it)."""
        quote = connection.ops.quote_name
        staged = ", ".join(quote(c) for c in _STAGED)
        with connection.cursor() as cursor:
            if self.pg:
                cursor.execute(f"CREATE TEMP TABLE {self.table} AS SELECT id, {staged} "
                               f"FROM {quote(Incident._meta.db_table)} WITH NO DATA")
                cursor.execute(f"ALTER TABLE {self.table} ADD COLUMN ord bigint, " + ", ".join(
                    f"ADD COLUMN {c} text" for c in _EXTRA))
            else:  # columns without a declared type keep the values as given
                cursor.execute(f"CREATE TEMP TABLE {self.table} (ord INTEGER PRIMARY KEY, "
                               f"id INTEGER, {staged}, {', '.join(_EXTRA)})")
            cursor.execute(f"CREATE INDEX {self.table}_ext ON {self.table} (external_id)")
        self._created = True

    # --- Each batch -------------------------------------------------------------------

    def _staged(self, keys: list[str]) -> dict[str, tuple]:
        """The identities of reports staged earlier in this import under these ids."""
        if not keys or not self._created:
            return {}
        where, params = bulk.any_of("external_id", keys, indexed=True)
        rows = bulk.fetch_rows(f"SELECT external_id, type_code, title, occurred_at FROM "
                               f"{self.table} WHERE {where}", params, times=(3,))
        return {ext: _identity(code, title, when) for ext, code, title, when in rows}

    def add(self, drafts: list[IncidentDraft]) -> list[bool]:
        """Check and stage a batch, all or nothing; returns, per draft, whether it is a
        new report (False: its id is already stored, or staged earlier, as this report).
        Raises InvalidInput with the problems (`services.checked_drafts`), staging
        nothing."""
        now = timezone.now()
        clean = checked_drafts(drafts, actor=self.actor, source=self.source, refs=self.refs,
                               now=now)
        keys = [d.external_id for d in drafts if d.external_id]
        stored = stored_by_external_id(keys)
        staged = self._staged([k for k in keys if k not in stored])
        _refuse_reused_ids(drafts, clean, stored, {k: [v] for k, v in staged.items()})
        taken = set(stored) | set(staged)

        time, uid, dumps = self._time, self._uid, _json_list
        stamp = time(now)
        rows: list[tuple] = []
        created: list[bool] = []
        for d, out in zip(drafts, clean, strict=True):
            ext = d.external_id
            if ext and ext in taken:
                created.append(False)
                continue
            if ext:
                taken.add(ext)
            itype, sub, area, lat, lon = (out["type"], out["subtype"], out["area"],
                                          out["lat"], out["lon"])
            recorded = out.get("recorded_at")
            new = time_ordered_uid()
            self.count += 1
            rows.append((
                self.count, uid(new), ext, itype.pk, sub.pk if sub else None, out["title"],
                out["description"], dumps(out["tags"]), time(out["occurred_at"]),
                stamp if recorded is None else time(recorded), lat, lon, area.pk, area.path,
                dumps(out["actors"]), out["fatalities"], out["injured"], dumps(out["sources"]),
                out["severity"], out["estimate"], itype.code, sub.code if sub else None,
                area.code, None if lat is None else repr(lat),
                None if lon is None else repr(lon)))
            created.append(True)
            self.areas.setdefault(area.pk, area)
            if len(self.first_uids) < 1000:
                self.first_uids.append(str(new))
        if rows and not self._created:
            self._create()
        bulk.insert_rows(self.table, ["ord", *_STAGED, *_EXTRA], rows)
        return created

    # --- The end ----------------------------------------------------------------------

    def finish(self) -> int:
        """Write the staged reports: incidents in time order, a revision each, one journal
        entry (each incident's own when there are few), the kept counts. Returns how many
        incidents were written."""
        if not self.count:
            return 0
        self._write()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {self.table}")
        return self.count

    def _write(self) -> None:
        table, quote = self.table, connection.ops.quote_name
        incidents = quote(Incident._meta.db_table)
        staged = ", ".join(quote(c) for c in _STAGED)
        same = _same(self.actor)
        with connection.cursor() as cursor:
            if self.pg:
                cursor.execute(
                    f"UPDATE {table} SET id = r.id FROM (SELECT ord, nextval("
                    f"pg_get_serial_sequence('{Incident._meta.db_table}', 'id')) AS id FROM "
                    f"(SELECT ord FROM {table} ORDER BY occurred_at, ord) AS q) AS r "
                    f"WHERE {table}.ord = r.ord")
            else:
                # Past the highest id ever given (AUTOINCREMENT's counter), not only the
                # highest stored: an id is never given twice.
                cursor.execute(f"SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE "
                               f"name = %s), 0), COALESCE((SELECT MAX(id) FROM {incidents}), "
                               f"0))", [Incident._meta.db_table])
                base = cursor.fetchone()[0]
                cursor.execute(
                    f"UPDATE {table} SET id = %s + r.n FROM (SELECT ord, row_number() OVER "
                    f"(ORDER BY occurred_at, ord) AS n FROM {table}) AS r "
                    f"WHERE {table}.ord = r.ord", [base])
            cursor.execute(
                f"INSERT INTO {incidents} (id, {staged}, {', '.join(quote(c) for c in same)}) "
                f"SELECT id, {staged}, {', '.join(same.values())} FROM {table} ORDER BY id")
            if self.count <= IMPORT_SUMMARY_OVER:
                # Few: each its own journal entry, as any report (services.report_incidents).
                cursor.execute(f"SELECT id FROM {table}")
                ids = [row[0] for row in cursor.fetchall()]
                new = list(Incident.objects.filter(pk__in=ids).select_related(
                    "type", "subtype", "area").order_by("pk"))
                _journal_and_revisions([(inc, "reported", None) for inc in new],
                                       self.actor, self.source)
                cells.apply((inc, 1) for inc in new)
                return
        first, last = bulk.fetch_rows(f"SELECT MIN(occurred_at), MAX(recorded_at) FROM {table}",
                                      [], times=(0, 1))[0]
        entry = import_summary(self.count, list(self.areas.values()), first, last,
                               self.first_uids, self.actor, self.source)
        revisions = quote(IncidentRevision._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {revisions} (incident_id, number, recorded_at, actor_label, "
                f"change, status, state, journal_seq) SELECT id, {same['version']}, "
                f"recorded_at, %s, 'reported', {same['status']}, {self._state(same)}, %s "
                f"FROM {table} ORDER BY id", [self.actor.label, entry.seq])
        self._counts(same["status"])

    def _state(self, same: dict[str, str]) -> str:
        """SQL: a revision's state (`services.snapshot`) from a staged row. Coordinates come
        from their Python text (SQLite's JSON writes 15 digits of a float, not the 17 that
        give it back exactly); the time as UTC ISO 8601."""
        when = Formatter(connection.vendor).local_time("occurred_at", (Span(None, 0, "+00:00"),))
        if self.pg:
            members = {
                "type": "type_code", "subtype": "subtype_code", "title": "title",
                "description": "description", "tags": "tags", "occurred_at": when,
                "lat": "lat_text::jsonb", "lon": "lon_text::jsonb", "area": "area_code",
                "actors": "actors", "fatalities": "fatalities", "injured": "injured",
                "sources": "sources", "severity": "severity",
                "status": f"{same['status']}::text", "assignee": "NULL::text",
                "merged_into": "NULL::text", "estimate": "estimate"}
            return "jsonb_build_object(" + ", ".join(
                f"{literal(k)}, {v}" for k, v in members.items()) + ")"
        members = {
            "type": "type_code", "subtype": "subtype_code", "title": "title",
            "description": "description", "tags": "json(tags)", "occurred_at": when,
            "lat": "json(lat_text)", "lon": "json(lon_text)", "area": "area_code",
            "actors": "json(actors)", "fatalities": "fatalities", "injured": "injured",
            "sources": "json(sources)", "severity": "severity", "status": same["status"],
            "assignee": "NULL", "merged_into": "NULL",
            "estimate": "json(CASE WHEN estimate THEN 'true' ELSE 'false' END)"}
        return "json_object(" + ", ".join(f"{literal(k)}, {v}" for k, v in members.items()) + ")"

    def _counts(self, status: str) -> None:
        """The map's cells and the board's hours of the staged incidents (`cells.apply`,
        summed by the database); `status` is the new reports' (SQL)."""
        table = self.table
        levels = ", ".join(f"SUM(CASE WHEN severity = {int(s)} THEN 1 ELSE 0 END)"
                           for s in SEVERITY_COUNTS)
        added = ("n", "sum_lat", "sum_lon", *SEVERITY_COUNTS.values())
        update = ", ".join(f"{c} = {cells.TABLE}.{c} + excluded.{c}" for c in added)
        with connection.cursor() as cursor:
            for size in CELL_SIZES:
                cx = f"CAST(floor(lon / {size!r}) AS INTEGER)"
                cy = f"CAST(floor(lat / {size!r}) AS INTEGER)"
                cursor.execute(
                    f"INSERT INTO {cells.TABLE} (size, cx, cy, type_id, status, "
                    f"{', '.join(added)}) SELECT {size!r}, {cx}, {cy}, type_id, {status}, "
                    f"COUNT(*), SUM(lat), SUM(lon), {levels} FROM {table} "
                    f"WHERE lat IS NOT NULL AND lon IS NOT NULL GROUP BY {cx}, {cy}, type_id "
                    f"ON CONFLICT (size, cx, cy, type_id, status) DO UPDATE SET {update}")
            if _DEFAULT_STATUS in cells.NOT_COUNTED:
                return
            hours = IncidentHour._meta.db_table
            occurred, recorded = (_hour(c, self.pg) for c in ("occurred_at", "recorded_at"))
            cursor.execute(
                f"INSERT INTO {hours} (hour, known, area_id, n) SELECT {occurred}, "
                f"{recorded}, area_id, COUNT(*) FROM {table} WHERE true GROUP BY 1, 2, 3 "
                f"ON CONFLICT (hour, known, area_id) DO UPDATE SET n = {hours}.n + excluded.n")


_DEFAULT_STATUS = Incident._meta.get_field("status").default


def _same(actor: Actor) -> dict[str, str]:
    """SQL: the columns every new report of `actor` has alike (the model's defaults)."""
    user = actor.user
    return {"status": literal(_DEFAULT_STATUS), "assignee_id": "NULL",
            "merged_into_id": "NULL", "reported_by": literal(actor.label),
            "reporter_id": str(int(user.pk)) if user is not None else "NULL",
            "version": str(int(Incident._meta.get_field("version").default)),
            "updated_at": "recorded_at"}


def _json_list(items: list[str]) -> str:
    return json.dumps(items) if items else "[]"


def _hour(column: str, pg: bool) -> str:
    """SQL: the whole UTC hour of a stored time, as `cells.hour_of` gives it."""
    if pg:
        return f"date_trunc('hour', {column} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
    return f"strftime('%Y-%m-%d %H:00:00', {column})"
