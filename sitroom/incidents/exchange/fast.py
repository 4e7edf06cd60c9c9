"""CSV and GeoJSON exports of the current state, formatted by the database.

The general exporter (`exporter.records` and the format writers) builds a dict of Python
values per incident and formats each value again: about 40 µs a row. Here the database
writes each row as three pieces of ready text (`sqltext`), Python only adds what comes
from small tables held in memory (type codes, the area's codes and name in the reader's
language) and the coordinates (formatted by Python so they read back exactly). The output
is the same, byte for byte for CSV and value for value for GeoJSON; tests compare them.
As-of exports (each incident as it stood then) go through the general exporter.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import connections
from django.db.models import Max, Min, TextField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from sitroom.core.models import Area
from sitroom.core.sqltext import Formatter, concat, literal, offset_spans

from ..choices import INTERNAL_KEY_PREFIXES
from ..models import Incident, IncidentType
from .columns import EXPORT_COLUMNS, FORMULA_START, LIST_SEPARATOR, protect

CHUNK = 64 * 1024
ITERATOR_CHUNK = 5000
_SEPARATOR = LIST_SEPARATOR + " "
_NAMES = [c.name for c in EXPORT_COLUMNS]
_HXL = [c.hxl for c in EXPORT_COLUMNS]


def _csv_line(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue()


def _csv_text(value: str) -> str:
    """One text cell as csv.writer writes it (no line end)."""
    return _csv_line([value, ""])[:-3]


class _Context:
    """What a fast export needs besides the rows: the query's table alias, the vendor's
    formatter, the offsets of the deployment's zone over the stored times, and the
    type and area lookups."""

    def __init__(self, qs):
        self.qs = qs
        self.connection = connections[qs.db]
        self.fmt = Formatter(self.connection.vendor)
        quote = self.connection.ops.quote_name
        self.alias = quote(qs.query.get_initial_alias())

        def col(name: str) -> str:
            return f"{self.alias}.{quote(Incident._meta.get_field(name).column)}"

        self.col = col
        # One aggregate a query: SQLite reads a MIN or MAX from the index only when it is
        # the query's one aggregate, and scans the table otherwise (0.5 s on a million
        # incidents, before a filtered export of ten rows).
        every = Incident.objects.using(qs.db)
        lows = [v for name in ("occurred_at", "recorded_at")
                if (v := every.aggregate(v=Min(name))["v"]) is not None]
        highs = [v for name in ("occurred_at", "recorded_at")
                 if (v := every.aggregate(v=Max(name))["v"]) is not None]
        self.spans = offset_spans(timezone.get_default_timezone(),
                                  min(lows, default=None), max(highs, default=None))
        self.types = dict(IncidentType.objects.using(qs.db).values_list("id", "code"))
        self.areas = list(Area.objects.using(qs.db).only(
            "id", "code", "path", "name", "name_kk", "name_ru"))

    def source_id(self, cell) -> str:
        """SQL: NULL where the row is exported under its uid (no other system's id; see
        `choices.is_source_id`), else `cell` of the external id. The uid is formatted once
        and stands in for the NULL in Python: formatted twice it was a tenth of the
        query's time."""
        ext = self.col("external_id")
        n = len(INTERNAL_KEY_PREFIXES[0])
        ours = ", ".join(literal(p) for p in INTERNAL_KEY_PREFIXES)
        return (f"CASE WHEN {ext} IS NULL OR {ext} = '' OR substr({ext}, 1, {n}) IN ({ours}) "
                f"THEN NULL ELSE {cell(ext)} END")

    def time(self, name: str) -> str:
        return self.fmt.local_time(self.col(name), self.spans)

    def rows(self, **pieces: str) -> Iterator[tuple]:
        """The query's rows as (pieces..., type_id, subtype_id, lat, lon, area_id)."""
        names = list(pieces)
        qs = self.qs.annotate(**{
            f"text_{name}": RawSQL(sql, (), output_field=TextField())
            for name, sql in pieces.items()})
        return qs.values_list(*[f"text_{n}" for n in names], "type_id", "subtype_id",
                              "lat", "lon", "area_id").iterator(chunk_size=ITERATOR_CHUNK)

    def area_parts(self, area: Area) -> tuple[str, str, str, str]:
        parts = area.path.rstrip("/").split("/")
        return (parts[0], parts[1] if len(parts) > 1 else "", area.code, area.label())


def _number(value: float | None) -> str:
    return "" if value is None else repr(value)


def csv_chunks(qs, *, hxl: bool = True) -> Iterator[str]:
    """The incidents of `qs` (current state) as the CSV `exporter.csv_chunks` writes."""
    ctx = _Context(qs)
    f, sep = ctx.fmt, literal(",")

    def text(name: str) -> str:
        return f.csv_cell(ctx.col(name), protect=FORMULA_START)

    # A uid needs no quoting or protection: only an external id goes through csv_cell.
    # The id (the external one, or the uid), then the uid (always ours).
    source = ctx.source_id(lambda ext: f.csv_cell(ext, protect=FORMULA_START))
    uid = f.uuid(ctx.col("uid"))
    middle = concat([text("title"), sep, text("description"), sep, ctx.time("occurred_at"),
                     sep, ctx.time("recorded_at")])
    tail = concat([
        f.csv_list(ctx.col("actors"), _SEPARATOR, protect=FORMULA_START), sep,
        f.integer(ctx.col("fatalities")), sep, f.integer(ctx.col("injured")), sep,
        f.integer(ctx.col("severity")), sep, f"coalesce({ctx.col('status')}, '')", sep,
        f.boolean(ctx.col("estimate")), sep,
        f.csv_list(ctx.col("sources"), _SEPARATOR, protect=FORMULA_START), sep,
        f.csv_list(ctx.col("tags"), _SEPARATOR, protect=FORMULA_START),
        literal("\r\n")])
    types = {k: _csv_text(v) for k, v in ctx.types.items()} | {None: ""}
    areas = {a.pk: ",".join([*(_csv_text(p) for p in ctx.area_parts(a)[:3]),
                             _csv_text(protect(ctx.area_parts(a)[3]))])
             for a in ctx.areas}
    rows = ctx.rows(source=source, uid=uid, middle=middle, tail=tail)

    def lines() -> Iterator[str]:
        yield _csv_line(_NAMES)
        if hxl:
            yield _csv_line(_HXL)
        for s, u, m, t, type_id, subtype_id, lat, lon, area_id in rows:
            yield (f"{s or u},{u},{types[type_id]},{types[subtype_id]},{m},{_number(lat)},"
                   f"{_number(lon)},{areas[area_id]},{t}")

    yield from chunked(lines())


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def geojson_chunks(qs) -> Iterator[str]:
    """The incidents of `qs` (current state) as the FeatureCollection
    `exporter.geojson_chunks` writes (same members; the properties in another order)."""
    ctx = _Context(qs)
    f = ctx.fmt
    # The id is written twice (the feature's and a property): the database gives it once.
    # Times and the status are plain ASCII without quotes or backslashes: quoted as they
    # are, not run through the JSON string writer.
    source = ctx.source_id(f.json_string)

    def quoted(expr: str) -> str:
        return concat([literal('"'), expr, literal('"')])

    uid = quoted(f.uuid(ctx.col("uid")))  # hex digits and dashes: nothing to escape

    members = [(name, f.json_string(ctx.col(name))) for name in ("title", "description")]
    members += [(name, quoted(ctx.time(name))) for name in ("occurred_at", "recorded_at")]
    members += [(name, f.json_value(ctx.col(name))) for name in ("actors",)]
    members += [(name, f.integer(ctx.col(name), "null")) for name in ("fatalities",
                                                                     "injured", "severity")]
    members += [("status", quoted(ctx.col("status"))),
                ("estimate", f.boolean(ctx.col("estimate")))]
    members += [(name, f.json_value(ctx.col(name))) for name in ("sources", "tags")]
    parts = []
    for name, expr in members:
        parts += [literal(f',"{name}":'), expr]
    tail = concat([*parts, literal("}}")])

    types = {k: _dumps(v) for k, v in ctx.types.items()} | {None: "null"}
    areas = {}
    for a in ctx.areas:
        country, admin1, code, name = ctx.area_parts(a)
        areas[a.pk] = _dumps({"country": country, "admin1": admin1, "area": code,
                              "area_name": name})[1:-1]
    rows = ctx.rows(source=source, uid=uid, tail=tail)

    def features() -> Iterator[str]:
        comma = ""
        for s, u, t, type_id, subtype_id, lat, lon, area_id in rows:
            i = s or u
            geometry = "null" if lat is None or lon is None else \
                f'{{"type":"Point","coordinates":[{lon!r},{lat!r}]}}'
            yield (f'{comma}{{"type":"Feature","id":{i},"geometry":{geometry},'
                   f'"properties":{{"id":{i},"uid":{u},"type":{types[type_id]},'
                   f'"subtype":{types[subtype_id]},{areas[area_id]}{t}')
            comma = ","

    yield from feature_collection(features())


def feature_collection(features: Iterable[str]) -> Iterator[str]:
    """A GeoJSON FeatureCollection around features given as JSON text (with their commas),
    in chunks."""
    yield from chunked(itertools.chain(['{"type":"FeatureCollection","features":['],
                                       features, ["]}\n"]))


def chunked(pieces: Iterable[str], size: int = CHUNK) -> Iterator[str]:
    """Pieces of text joined into chunks of about `size` characters, for a streamed
    answer: few enough to be cheap, small enough to keep memory flat."""
    out: list[str] = []
    length = 0
    for piece in pieces:
        out.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(out)
            out, length = [], 0
    yield "".join(out)
