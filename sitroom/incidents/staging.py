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

import operator
import uuid
from datetime import datetime
from typing import Any

from django.db import connection

from sitroom.core import bulk
from sitroom.core.actors import Actor
from sitroom.core.errors import InvalidInput
from sitroom.core.models import Area
from sitroom.core.permissions import INCIDENTS_REPORT, require

from . import cells
from .models import CELL_SIZES, SEVERITY_COUNTS, Incident, IncidentHour, IncidentRevision
from .services import (
    IMPORT_SUMMARY_OVER,
    IncidentDraft,
    IncidentRefs,
    _check_draft,
    _identity,
    _journal_and_revisions,
    _refuse_reused_ids,
    import_summary,
    snapshot_of,
)

_FIELDS = [f for f in Incident._meta.concrete_fields if not f.primary_key]
_NAMES = [f.attname for f in _FIELDS]
_COLUMNS = [f.column for f in _FIELDS]


class StagedReports:
    """New incident reports of one import: `add` each batch (checked, refused as a whole
    with the problems by row, like `report_incidents`), then `finish` once.

    Use inside the import's transaction (`transaction.atomic`)."""

    def __init__(self, *, actor: Actor, source: str, refs: IncidentRefs | None = None):
        self.actor, self.source = actor, source
        self.refs = refs or IncidentRefs()
        self.pg = connection.vendor == "postgresql"
        self.table = f"incident_stage_{uuid.uuid4().hex[:12]}"
        self.count = 0
        self.areas: dict[int, Area] = {}
        self.first_uids: list[str] = []
        self._build = bulk.Builder(Incident)
        self._values = operator.itemgetter(*_NAMES)
        self._convert = bulk.converters(_FIELDS)
        self._state = bulk.converter(IncidentRevision._meta.get_field("state"))
        self._created = False

    def _create(self) -> None:
        """The temporary table, made in the caller's transaction (its rollback drops it)."""
        quote = connection.ops.quote_name
        columns = ", ".join(quote(c) for c in _COLUMNS)
        with connection.cursor() as cursor:
            if self.pg:
                cursor.execute(f"CREATE TEMP TABLE {self.table} AS SELECT id, {columns} "
                               f"FROM {quote(Incident._meta.db_table)} WITH NO DATA")
                cursor.execute(f"ALTER TABLE {self.table} ADD COLUMN ord bigint, "
                               f"ADD COLUMN state jsonb")
            else:  # columns without a declared type keep the values as given
                cursor.execute(f"CREATE TEMP TABLE {self.table} (ord INTEGER PRIMARY KEY, "
                               f"id INTEGER, {columns}, state)")
            cursor.execute(f"CREATE INDEX {self.table}_ext ON {self.table} (external_id)")
        self._created = True

    # --- Each batch -------------------------------------------------------------------

    def _staged(self, keys: list[str]) -> dict[str, tuple]:
        """The identities of reports staged earlier in this import under these ids."""
        if not keys or not self._created:
            return {}
        where, params = bulk.any_of("external_id", keys, indexed=True)
        rows = bulk.fetch_rows(f"SELECT external_id, type_id, title, occurred_at FROM "
                               f"{self.table} WHERE {where}", params, times=(3,))
        codes = {t.pk: t.code for t in self.refs.types.values()}
        return {ext: _identity(codes[type_id], title, when)
                for ext, type_id, title, when in rows}

    def add(self, drafts: list[IncidentDraft]) -> list[bool]:
        """Check and stage a batch, all or nothing; returns, per draft, whether it is a
        new report (False: its id is already stored, or staged earlier, as this report).
        Raises InvalidInput with "items[i].field" problems, staging nothing."""
        from django.utils import timezone

        now = timezone.now()
        errors: dict[str, list[str]] = {}
        clean: list[dict[str, Any]] = []
        for i, d in enumerate(drafts):
            out, problems = _check_draft(d, self.refs, now, self.source)
            for name, messages in problems.items():
                errors[f"items[{i}].{name}"] = messages
            clean.append(out)
        if errors:
            raise InvalidInput(errors)
        for area in {out["area"].pk: out["area"] for out in clean}.values():
            require(self.actor, INCIDENTS_REPORT, area=area)

        keys = [d.external_id for d in drafts if d.external_id]
        stored = {i.external_id: i for i in Incident.objects.filter(
            external_id__isnull=False, external_id__in=keys)} if keys else {}
        staged = self._staged([k for k in keys if k not in stored])
        _refuse_reused_ids(drafts, clean, stored, {k: [v] for k, v in staged.items()})
        taken = set(stored) | set(staged)

        actor, user = self.actor, self.actor.user
        rows: list[list[Any]] = []
        created: list[bool] = []
        for d, out in zip(drafts, clean, strict=True):
            if d.external_id and d.external_id in taken:
                created.append(False)
                continue
            if d.external_id:
                taken.add(d.external_id)
            recorded = out.pop("recorded_at", None) or now
            itype, sub, area = out.pop("type"), out.pop("subtype"), out.pop("area")
            values = self._build.values({
                **out, "type_id": itype.pk, "subtype_id": sub.pk if sub else None,
                "area_id": area.pk, "recorded_at": recorded, "updated_at": recorded,
                "area_path": area.path, "reported_by": actor.label,
                "reporter_id": user.pk if user is not None else None,
                "external_id": d.external_id})
            state = snapshot_of(values.__getitem__, itype.code, sub and sub.code, area.code)
            row = list(self._values(values))
            for i, c in self._convert:
                row[i] = c(row[i])
            self.count += 1
            rows.append([self.count, *row, self._state(state)])
            created.append(True)
            self.areas.setdefault(area.pk, area)
            if len(self.first_uids) < 1000:
                self.first_uids.append(str(values["uid"]))
        if rows and not self._created:
            self._create()
        bulk.insert_rows(self.table, ["ord", *_COLUMNS, "state"], rows)
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
        columns = ", ".join(quote(c) for c in _COLUMNS)
        with connection.cursor() as cursor:
            if self.pg:
                cursor.execute(
                    f"UPDATE {table} SET id = r.id FROM (SELECT ord, nextval("
                    f"pg_get_serial_sequence('{Incident._meta.db_table}', 'id')) AS id FROM "
                    f"(SELECT ord FROM {table} ORDER BY occurred_at, ord) AS q) AS r "
                    f"WHERE {table}.ord = r.ord")
            else:
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {incidents}")
                base = cursor.fetchone()[0]
                cursor.execute(
                    f"UPDATE {table} SET id = %s + r.n FROM (SELECT ord, row_number() OVER "
                    f"(ORDER BY occurred_at, ord) AS n FROM {table}) AS r "
                    f"WHERE {table}.ord = r.ord", [base])
            cursor.execute(f"INSERT INTO {incidents} (id, {columns}) SELECT id, {columns} "
                           f"FROM {table} ORDER BY id")
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
            cursor.execute(f"SELECT MIN(occurred_at), MAX(recorded_at) FROM {table}")
            first, last = cursor.fetchone()
        first, last = (_aware(v) for v in (first, last))
        entry = import_summary(self.count, list(self.areas.values()), first, last,
                               self.first_uids, self.actor, self.source)
        revisions = quote(IncidentRevision._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {revisions} (incident_id, number, recorded_at, actor_label, "
                f"change, status, state, journal_seq) SELECT id, version, updated_at, %s, "
                f"'reported', status, state, %s FROM {table} ORDER BY id",
                [self.actor.label, entry.seq])
        self._counts()

    def _counts(self) -> None:
        """The map's cells and the board's hours of the staged incidents (`cells.apply`,
        summed by the database)."""
        table = self.table
        levels = ", ".join(f"SUM(CASE WHEN severity = {int(s)} THEN 1 ELSE 0 END)"
                           for s in SEVERITY_COUNTS)
        added = ("n", "sum_lat", "sum_lon", *SEVERITY_COUNTS.values())
        update = ", ".join(f"{c} = {cells.TABLE}.{c} + excluded.{c}" for c in added)
        counted = ", ".join(f"'{s}'" for s in sorted(cells.NOT_COUNTED))
        with connection.cursor() as cursor:
            for size in CELL_SIZES:
                cx = f"CAST(floor(lon / {size!r}) AS INTEGER)"
                cy = f"CAST(floor(lat / {size!r}) AS INTEGER)"
                cursor.execute(
                    f"INSERT INTO {cells.TABLE} (size, cx, cy, type_id, status, "
                    f"{', '.join(added)}) SELECT {size!r}, {cx}, {cy}, type_id, status, "
                    f"COUNT(*), SUM(lat), SUM(lon), {levels} FROM {table} "
                    f"WHERE lat IS NOT NULL AND lon IS NOT NULL "
                    f"GROUP BY {cx}, {cy}, type_id, status "
                    f"ON CONFLICT (size, cx, cy, type_id, status) DO UPDATE SET {update}")
            hours = IncidentHour._meta.db_table
            occurred, recorded = (_hour(c, self.pg) for c in ("occurred_at", "recorded_at"))
            cursor.execute(
                f"INSERT INTO {hours} (hour, known, area_id, n) SELECT {occurred}, "
                f"{recorded}, area_id, COUNT(*) FROM {table} "
                f"WHERE status NOT IN ({counted}) GROUP BY 1, 2, 3 "
                f"ON CONFLICT (hour, known, area_id) DO UPDATE SET n = {hours}.n + excluded.n")


def _hour(column: str, pg: bool) -> str:
    """SQL: the whole UTC hour of a stored time, as `cells.hour_of` gives it."""
    if pg:
        return f"date_trunc('hour', {column} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
    return f"strftime('%Y-%m-%d %H:00:00', {column})"


def _aware(value: Any) -> datetime:
    from datetime import UTC

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)

