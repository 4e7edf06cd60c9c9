"""SQL expressions that format values as text the way Python would, in the database.

A streamed export of a million rows spends most of its time building Python objects for
every column of every row and formatting them again. These expressions let the database
hand back each row as a few ready-made pieces of text instead (CSV cells, JSON values,
ISO 8601 times with the deployment's offset), byte for byte what the Python formatter
writes; tests compare the two. SQLite (3.38+, JSON built in) and PostgreSQL.

Floats are left to Python: SQLite writes 15 significant digits (not the shortest text that
reads back to the same number, as Python does), and a coordinate must survive an export.
"""

from __future__ import annotations

import functools
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo


@dataclass(frozen=True)
class Span:
    """A stretch of time in which a zone keeps one UTC offset: up to `until` (UTC, None:
    open ended), `seconds` ahead of UTC, written `text` ("+06:00")."""

    until: datetime | None
    seconds: int
    text: str


def _offset(zone: tzinfo, moment: datetime) -> tuple[int, str]:
    local = moment.replace(microsecond=0).astimezone(zone)
    return int(local.utcoffset().total_seconds()), local.isoformat()[19:]


@functools.lru_cache(maxsize=64)
def _spans(zone_key: str, first_day: datetime, last_day: datetime) -> tuple[Span, ...]:
    zone = zoneinfo.ZoneInfo(zone_key)
    spans: list[Span] = []
    seconds, text = _offset(zone, first_day)
    day = first_day
    while day < last_day:
        nxt = day + timedelta(days=1)
        if _offset(zone, nxt)[0] != seconds:
            lo, hi = day, nxt  # the change is in (lo, hi]: find its second
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(microsecond=0)
                if _offset(zone, mid)[0] == seconds:
                    lo = mid
                else:
                    hi = mid
            spans.append(Span(hi, seconds, text))
            seconds, text = _offset(zone, hi)
        day = nxt
    spans.append(Span(None, seconds, text))
    return tuple(spans)


def offset_spans(zone: tzinfo, lo: datetime | None, hi: datetime | None) -> tuple[Span, ...]:
    """The zone's offsets over [lo, hi] (UTC moments), oldest first."""
    key = getattr(zone, "key", None)
    if key is None:  # a fixed offset (datetime.timezone)
        seconds, text = _offset(zone, datetime(2000, 1, 1, tzinfo=UTC))
        return (Span(None, seconds, text),)
    lo = lo or datetime(2000, 1, 1, tzinfo=UTC)
    hi = max(hi or lo, lo)
    first = lo.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    last = hi.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return _spans(key, first, last + timedelta(days=1))


class Formatter:
    """Expressions for one database vendor ("sqlite" or "postgresql")."""

    def __init__(self, vendor: str):
        if vendor not in ("sqlite", "postgresql"):
            raise ValueError(f"no text formatter for {vendor}")
        self.pg = vendor == "postgresql"

    # --- Plain values -------------------------------------------------------------------

    def integer(self, col: str, null: str = "") -> str:
        """An integer column as text; NULL as `null`."""
        return f"coalesce(CAST({col} AS TEXT), '{null}')"

    def boolean(self, col: str) -> str:
        return f"CASE WHEN {col} THEN 'true' ELSE 'false' END"

    def uuid(self, col: str) -> str:
        """A UUID as str(uuid.UUID) writes it (SQLite keeps 32 hex digits)."""
        if self.pg:
            return f"CAST({col} AS TEXT)"
        return (f"lower(substr({col},1,8)||'-'||substr({col},9,4)||'-'||substr({col},13,4)"
                f"||'-'||substr({col},17,4)||'-'||substr({col},21,12))")

    def local_time(self, col: str, spans: tuple[Span, ...]) -> str:
        """A timestamp as datetime.isoformat() writes it in the zone of `spans`:
        2022-01-05T12:34:56+06:00, with .ffffff only when there are microseconds."""
        def one(span: Span) -> str:
            if self.pg:
                utc = f"({col} AT TIME ZONE 'UTC')"
                return (f"to_char({utc} + interval '{span.seconds} seconds', "
                        f"'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN date_trunc('second', "
                        f"{col}) = {col} THEN '' ELSE to_char({utc}, '.US') END "
                        f"|| '{span.text}'")
            return (f"replace(datetime({col}, '{span.seconds:+d} seconds'), ' ', 'T') "
                    f"|| CASE WHEN substr({col}, 20, 1) = '.' THEN substr({col}, 20, 7) "
                    f"ELSE '' END || '{span.text}'")

        if len(spans) == 1:
            return one(spans[0])
        whens = []
        for span in spans[:-1]:
            if self.pg:
                bound = f"TIMESTAMPTZ '{span.until.isoformat()}'"
            else:
                bound = f"'{span.until.astimezone(UTC).replace(tzinfo=None).isoformat(' ')}'"
            whens.append(f"WHEN {col} < {bound} THEN {one(span)}")
        return f"CASE {' '.join(whens)} ELSE {one(spans[-1])} END"

    # --- CSV ----------------------------------------------------------------------------

    def char(self, ch: str) -> str:
        """One character as an SQL expression (a control character by its code)."""
        if ord(ch) >= 32:
            return literal(ch)
        return f"{'chr' if self.pg else 'char'}({ord(ch)})"

    def csv_cell(self, expr: str, *, protect: tuple[str, ...] = ()) -> str:
        """A text value as a CSV cell (csv.writer, QUOTE_MINIMAL, "\\r\\n" lines): quoted
        when it holds a comma, a quote or a line break; a cell starting with one of
        `protect` (what a spreadsheet would run as a formula: columns.FORMULA_START) gets
        a leading apostrophe, as columns.protect does. NULL is an empty cell."""
        value = f"coalesce({expr}, '')"
        if protect:
            starts = ", ".join(self.char(c) for c in protect)
            value = (f"CASE WHEN substr({value}, 1, 1) IN ({starts}) THEN '''' || {value} "
                     f"ELSE {value} END")
        find = "strpos" if self.pg else "instr"
        special = " OR ".join(f"{find}({expr}, {self.char(c)}) > 0" for c in ',"\r\n')
        return (f"CASE WHEN {special} THEN '\"' || replace({value}, '\"', '\"\"') || '\"' "
                f"ELSE {value} END")

    def csv_list(self, col: str, separator: str, *, protect: tuple[str, ...] = ()) -> str:
        """A JSON array of strings as one CSV cell (see csv_cell), its items joined with
        `separator`. The join is computed once (a sub-select), not once per use."""
        cell = self.csv_cell("v", protect=protect)
        if self.pg:
            return (f"CASE WHEN {col} = '[]'::jsonb THEN '' ELSE (SELECT {cell} FROM "
                    f"(SELECT string_agg(e, '{separator}' ORDER BY n) AS v FROM "
                    f"jsonb_array_elements_text({col}) WITH ORDINALITY AS x(e, n)) AS j) END")
        return (f"CASE WHEN {col} = '[]' THEN '' ELSE (SELECT {cell} FROM "
                f"(SELECT group_concat(value, '{separator}') AS v FROM json_each({col}))) END")

    # --- JSON ---------------------------------------------------------------------------

    def json_string(self, expr: str) -> str:
        """A text value as a JSON string; NULL as null."""
        if self.pg:
            return f"coalesce(CAST(to_json(CAST({expr} AS TEXT)) AS TEXT), 'null')"
        return f"json_quote({expr})"

    def json_value(self, col: str) -> str:
        """A JSON column as JSON text."""
        if self.pg:
            return f"CAST({col} AS TEXT)"
        return f"CASE WHEN {col} = '[]' THEN '[]' ELSE json({col}) END"


def concat(parts: list[str]) -> str:
    """SQL text concatenation of expressions (each must not be NULL)."""
    return " || ".join(parts)


def literal(text: str) -> str:
    """A constant string as an SQL literal."""
    return "'" + text.replace("'", "''") + "'"
