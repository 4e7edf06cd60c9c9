"""Import incidents from CSV or XLSX: every row checked, all or nothing (or skip the bad).

Rows become `IncidentDraft`s, checked in batches by the service's rules and written
together at the end of one transaction (`staging.StagedReports`): incident and revision
per row, and a journal entry. Problems are reported by row number as a spreadsheet user
counts them (the header is row 1) and by the column the file used.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sitroom.core import bulk
from sitroom.core.actors import Actor
from sitroom.core.errors import InvalidInput, NotAllowed
from sitroom.core.geo import area_id_at, boundaries
from sitroom.core.models import Area, as_uid
from sitroom.core.permissions import INCIDENTS_REPORT, ROLE_ACTIONS, can, scope_of

from ..choices import CONTENT_KEY_PREFIX
from ..models import Incident
from ..services import IncidentDraft, IncidentRefs, draft_problems
from ..staging import StagedReports
from .columns import is_hxl_row
from .reading import (
    IMPORT_FORMATS,
    TIME_ESTIMATED_TAG,
    RowReader,
    TypeNames,
    csv_encoding,
    csv_rows,
    file_error,
    guess_format,
    opened,
    text_of,
    xlsx_rows,
)

BATCH_SIZE = 2000
MAX_PROBLEMS = 1000  # kept in the report; the rest are counted
_ITEM_KEY = re.compile(r"^items\[(\d+)\]\.(.+)$")



@dataclass
class RowProblem:
    row: int
    field: str
    problem: str


@dataclass
class ImportReport:
    """What an import did: counts, the problems by row and column, and notes."""

    rows: int = 0
    created: int = 0
    existing: int = 0
    written: bool = False
    problems: list[RowProblem] = field(default_factory=list)
    more_problems: int = 0
    notes: list[str] = field(default_factory=list)
    bad_rows: set[int] = field(default_factory=set, repr=False)

    @property
    def invalid_rows(self) -> int:
        return len(self.bad_rows)

    def add(self, row: int, field_name: str, problem: str) -> None:
        self.bad_rows.add(row)
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(RowProblem(row, field_name, problem))
        else:
            self.more_problems += 1

    def lines(self) -> list[str]:
        out = [_("%(rows)d row(s) read: %(created)d incident(s) added, %(existing)d already "
                 "stored, %(invalid)d with problems")
               % {"rows": self.rows, "created": self.created, "existing": self.existing,
                  "invalid": self.invalid_rows}]
        out += [_("row %(row)d, %(field)s: %(problem)s")
                % {"row": p.row, "field": p.field, "problem": p.problem} for p in self.problems]
        if self.more_problems:
            out.append(_("… and %(n)d more problem(s)") % {"n": self.more_problems})
        out += self.notes
        if not self.written:
            out.append(_("nothing imported"))
        elif self.invalid_rows:
            out.append(_("%(n)d row(s) with problems were skipped") % {"n": self.invalid_rows})
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "created": self.created, "existing": self.existing,
                "invalid_rows": self.invalid_rows, "written": self.written,
                "problems": [{"row": p.row, "field": p.field, "problem": p.problem}
                             for p in self.problems],
                "more_problems": self.more_problems, "notes": list(self.notes)}

    def errors(self) -> dict[str, list[str]]:
        """The problems as InvalidInput errors ("rows[5].occurred_at")."""
        errors: dict[str, list[str]] = {"file": [
            _("nothing imported: %(n)d row(s) have problems") % {"n": self.invalid_rows}]}
        for p in self.problems:
            errors.setdefault(f"rows[{p.row}].{p.field}", []).append(p.problem)
        if self.more_problems:
            errors["rows"] = [_("… and %(n)d more problem(s)") % {"n": self.more_problems}]
        return errors


class _Areas:
    """Area codes, and the area of a point (looked up once per distinct point)."""

    def __init__(self, actor: Actor):
        self.by_code = {a.code: a for a in Area.objects.only("id", "code", "path", "name")}
        self.by_id = {a.pk: a for a in self.by_code.values()}
        self.shapes = boundaries()
        self.points: dict[tuple[float, float], Area | None] = {}
        self.user = actor.user
        self.scope = scope_of(actor.user) if actor.user is not None else None

    def resolve(self, code: str | None, lat: Any, lon: Any) -> tuple[str | None, str | None]:
        """(area code to report in, problem) for a row; (None, None) leaves it to the
        service (which explains what is missing)."""
        if code:
            area = self.by_code.get(code)
            if area is None or (self.scope is not None and not self.scope.covers(area.path)):
                return None, _("no area with code %(code)r") % {"code": code}
        elif isinstance(lat, float) and isinstance(lon, float) and abs(lat) <= 90 \
                and abs(lon) <= 180:
            if (lat, lon) not in self.points:
                self.points[(lat, lon)] = self.by_id.get(area_id_at(lat, lon, self.shapes))
            area = self.points[(lat, lon)]
            if area is None:
                return None, _("the point lies in no known area; name the area")
        else:
            return None, None
        if self.user is not None and not can(self.user, INCIDENTS_REPORT, area=area):
            return None, _("you may not report incidents in %(area)s") % {"area": area.code}
        return area.code, None


# --- The import -------------------------------------------------------------------------

def _check_right(actor: Actor) -> None:
    if actor.user is None:
        return
    if INCIDENTS_REPORT not in ROLE_ACTIONS.get(scope_of(actor.user).role, set()):
        raise NotAllowed(_("%(actor)s may not report incidents")
                         % {"actor": actor.label})


def content_key(fields: dict[str, Any]) -> str:
    """The key a row without an id is kept under: a digest of what identifies the report
    (type, sub-type, title, time, point, area), so that the same file imported again
    adds nothing, and the same report twice in a file is stored once."""
    when = fields.get("occurred_at")
    parts = [fields.get("type"), fields.get("subtype"), fields.get("title"),
             when.isoformat() if when else "", fields.get("lat"), fields.get("lon"),
             fields.get("area")]
    digest = hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:32]
    return CONTENT_KEY_PREFIX + digest


def _as_uuid(value: str | None) -> uuid.UUID | None:
    """An exported incident's uid (the 36-character form the exports write)."""
    return as_uid(value) if value and len(value) == 36 else None


class _Importer:
    """Stores batches of drafts and files the service's problems under their rows."""

    def __init__(self, reader: RowReader, actor: Actor, source: str, skip_invalid: bool,
                 report: ImportReport):
        self.reader, self.actor, self.source = reader, actor, source
        self.skip_invalid, self.report = skip_invalid, report
        self.refs = IncidentRefs()
        self.writer = StagedReports(actor=actor, source=source, refs=self.refs)

    def flush(self, pending: list[tuple[int, IncidentDraft]]) -> None:
        """Store a batch. A row whose id is already stored adds nothing: an external id
        (the service finds those) or the uid of an incident exported from here."""
        uids = {_as_uuid(d.external_id) for _row, d in pending} - {None}
        if uids:
            known = set(Incident.objects.filter(uid__in=uids).values_list("uid", flat=True))
            kept = [(r, d) for r, d in pending if _as_uuid(d.external_id) not in known]
            self.report.existing += len(pending) - len(kept)
            pending = kept
        while pending:
            try:
                results = self.writer.add([d for _row, d in pending])
            except InvalidInput as exc:
                failed = self._problems(exc, pending)
                if not self.skip_invalid:
                    return  # nothing of this batch was staged; the import rolls back
                pending = [p for i, p in enumerate(pending) if i not in failed]
                continue
            created = sum(results)
            self.report.created += created
            self.report.existing += len(results) - created
            return

    def _problems(self, exc: InvalidInput, pending: list[tuple[int, IncidentDraft]]
                  ) -> set[int]:
        failed: set[int] = set()
        for key, messages in exc.errors.items():
            m = _ITEM_KEY.match(key)
            if m:
                index, name = int(m[1]), m[2]
            elif len(pending) == 1:
                index, name = 0, key
            else:
                raise exc
            failed.add(index)
            column = self.reader.column(name)
            for message in messages:
                self.report.add(pending[index][0], column, message)
        return failed


def import_incidents(file: Any, *, actor: Actor | Any, source: str, fmt: str | None = None,
                     skip_invalid: bool = False, batch_size: int = BATCH_SIZE,
                     progress: Callable[[int], None] | None = None) -> ImportReport:
    """Read incidents from a CSV or XLSX file (a path or an uploaded file) and report them.

    Columns are named in the first row (our names or ACLED's); a HXL hashtag row right
    under it is recognised. Without `skip_invalid`, nothing is written if any row has a
    problem (the report says which). Re-importing a file adds nothing: a row's `id` is
    kept as the incident's external id, and an exported incident's id is recognised.
    """
    actor = Actor.of(actor)
    _check_right(actor)
    report = ImportReport()
    with opened(file) as (stream, name):
        head = stream.read(4)
        stream.seek(0)
        fmt = fmt or guess_format(name, head)
        if fmt not in IMPORT_FORMATS:
            raise file_error(_("is empty") if fmt is None else
                             _("unknown format %(fmt)r; expected csv or xlsx") % {"fmt": fmt})
        encoding = csv_encoding(stream) if fmt == "csv" else None
        if encoding == "cp1251":
            report.notes.append(_("the file is not UTF-8: read as Windows-1251 (Cyrillic), "
                                  "as Excel saves CSV on a Russian or Kazakh Windows"))
        rows = csv_rows(stream, encoding) if fmt == "csv" else xlsx_rows(stream)
        try:
            header = next(rows, None)
            if header is None or not any(text_of(c) for c in header):
                raise file_error(_("has no header row (the first row must name the columns)"))
            second = next(rows, None)
            data_start = 2
            tags = None
            if second is not None and is_hxl_row(second):
                tags, second, data_start = second, None, 3
                report.notes.append(_("row 2 holds HXL hashtags; data start at row 3"))
            types = TypeNames()
            reader = RowReader(header, tags, types)
            if reader.ignored:
                report.notes.append(_("columns not imported: %(columns)s")
                                    % {"columns": ", ".join(reader.ignored)})
            body = rows if second is None else itertools.chain([second], rows)
            _run(reader, body, data_start, actor, source, skip_invalid, batch_size, progress,
                 report)
        finally:
            rows.close()
    return report


def _run(reader: RowReader, rows: Iterator[list[Any]], start: int, actor: Actor, source: str,
         skip_invalid: bool, batch_size: int, progress: Callable[[int], None] | None,
         report: ImportReport) -> None:
    importer = _Importer(reader, actor, source, skip_invalid, report)
    areas = _Areas(actor)
    estimated = 0
    with bulk.large_write(), transaction.atomic():
        pending: list[tuple[int, IncidentDraft]] = []
        for number, cells in enumerate(rows, start=start):
            if not any(c is not None and c != "" for c in cells):
                continue
            report.rows += 1
            fields, problems, was_estimated = reader.read(cells)
            estimated += was_estimated
            if not problems:
                code, problem = areas.resolve(fields.get("area"), fields.get("lat"),
                                              fields.get("lon"))
                if problem:
                    problems.append((reader.column("area"), problem))
                else:
                    fields["area"] = code
            if problems:
                # The service's rules too, on the cells that were read, so that one import
                # names every problem of the row (a bad date and a severity of 9 alike).
                # (A sub-type is judged against its type: not when the type was unread.)
                unread = {column for column, _m in problems}
                if reader.column("type") in unread:
                    unread.add(reader.column("subtype"))
                draft = IncidentDraft(**{"type": "", "title": "", **fields})
                problems += [(column, message) for name, messages in draft_problems(
                                 draft, source=source, refs=importer.refs).items()
                             if (column := reader.column(name)) not in unread
                             for message in messages]
                for column, message in problems:
                    report.add(number, column, message)
                continue
            if not fields.get("external_id"):
                fields["external_id"] = content_key(fields)
            pending.append((number, IncidentDraft(**fields)))
            if len(pending) >= batch_size:
                importer.flush(pending)
                pending = []
                if progress:
                    progress(report.rows)
        if pending:
            importer.flush(pending)
        if progress:
            progress(report.rows)
        if report.invalid_rows and not skip_invalid:
            transaction.set_rollback(True)
            report.created = report.existing = 0
            report.written = False
        else:
            importer.writer.finish()
            report.written = True
    if estimated:
        report.notes.append(
            _("%(n)d row(s) gave a date without a time: taken as 12:00 %(zone)s and tagged "
              "%(tag)s") % {"n": estimated, "zone": timezone.get_default_timezone_name(),
                            "tag": TIME_ESTIMATED_TAG})
    if reader.zoned:
        report.notes.append(
            _("%(n)d row(s) gave a date and time without an offset: read as %(zone)s time")
            % {"n": reader.zoned, "zone": timezone.get_default_timezone_name()})
    if reader.derive_title:
        report.notes.append(_("the file has no title column: titles were made from the "
                              "type and location"))
