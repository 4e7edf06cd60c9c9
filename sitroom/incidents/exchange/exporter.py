"""Export the incidents an actor may see: CSV and XLSX (with a HXL row), GeoJSON, KML.

Every format is a generator of chunks over a database iterator, so an export of any size
runs in constant memory; the web and the API hand the chunks to a streaming response, the
CLI writes them to a file. Times carry their offset (ISO 8601, in the deployment's zone).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from django.utils import timezone
from django.utils.translation import gettext as _

from sitroom.core.actors import Actor
from sitroom.core.models import Area

from .. import queries
from ..choices import is_source_id
from ..models import Incident
from ..queries import IncidentFilter
from . import fast
from .columns import EXPORT_COLUMNS, LIST_SEPARATOR, protect

CHUNK = fast.CHUNK
KML_NS = "http://www.opengis.net/kml/2.2"
# Characters XML 1.0 and spreadsheets refuse (C0 controls other than tab, LF, CR).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8; header=present",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
    "kml": "application/vnd.google-earth.kml+xml",
}
EXPORT_FORMATS = tuple(CONTENT_TYPES)

_VALUES = ("uid", "external_id", "type__code", "subtype__code", "title", "description",
           "tags", "occurred_at", "recorded_at", "lat", "lon", "area__code", "area_path",
           "actors", "fatalities", "injured", "sources", "severity", "status", "estimate")


def visible_incidents(actor: Actor | Any, flt: IncidentFilter | None = None):
    """The incidents the actor may see that match the filter, newest first (as of
    `flt.as_of`: a `queries.IncidentsAsOf`). A system actor (the command line) sees all."""
    actor = Actor.of(actor)
    if actor.user is not None:
        return queries.incidents(actor.user, flt)
    return queries.select(Incident.objects.all(), flt)


def _values_of(i: Incident) -> dict[str, Any]:
    """An incident in memory (one read back as of a moment) as `values(*_VALUES)` gives
    its row."""
    return {name: getattr(i, name) for name in _VALUES if "__" not in name} | {
        "id": i.pk, "type__code": i.type.code,
        "subtype__code": i.subtype.code if i.subtype_id else None, "area__code": i.area.code}


def records(actor: Actor | Any, flt: IncidentFilter | None = None) -> Iterator[dict[str, Any]]:
    """One plain dict per incident, in the export's column names. With `flt.as_of`, each
    incident is given as it stood then (its latest revision by that moment)."""
    found = visible_incidents(actor, flt)
    if isinstance(found, queries.IncidentsAsOf):
        rows = found.merged(found.unchanged.values(*_VALUES, "id").iterator(chunk_size=2000),
                            _values_of)
    else:
        rows = found.values(*_VALUES).iterator(chunk_size=2000)
    areas = {a.code: a for a in Area.objects.only("code", "path", "name", "name_kk",
                                                    "name_ru")}
    labels: dict[str, str] = {}
    zone = timezone.get_default_timezone()
    for row in rows:
        rec = {
            "id": row["external_id"] if is_source_id(row["external_id"]) else str(row["uid"]),
            "uid": str(row["uid"]),
            "type": row["type__code"],
            "subtype": row["subtype__code"] or "", "title": row["title"],
            "description": row["description"],
            "occurred_at": row["occurred_at"].astimezone(zone),
            "recorded_at": row["recorded_at"].astimezone(zone),
            "lat": row["lat"], "lon": row["lon"], "area": row["area__code"],
            "actors": row["actors"], "fatalities": row["fatalities"],
            "injured": row["injured"], "severity": row["severity"], "status": row["status"],
            "estimate": row["estimate"], "sources": row["sources"], "tags": row["tags"],
        }
        area = areas.get(rec["area"])
        parts = (area.path if area else row["area_path"]).rstrip("/").split("/")
        rec["country"] = parts[0]
        rec["admin1"] = parts[1] if len(parts) > 1 else ""
        if rec["area"] not in labels:
            labels[rec["area"]] = area.label() if area else ""
        rec["area_name"] = labels[rec["area"]]
        yield rec


# --- Cells ------------------------------------------------------------------------------

def _clean(text: str) -> str:
    return _CONTROL.sub("", text)


def _joined(items: list[str]) -> str:
    return f"{LIST_SEPARATOR} ".join(items)


# How each kind of column is written: as CSV text, as an XLSX cell (typed; None is an
# empty cell), and as plain text (KML). Times are ISO 8601 with their offset everywhere.
_CSV = {
    "code": lambda v: v or "",
    "text": lambda v: protect(v) if v else "",
    "list": lambda v: protect(_joined(v)) if v else "",
    "time": lambda v: v.isoformat(),
    "number": lambda v: "" if v is None else str(v),
    "bool": lambda v: "true" if v else "false",
}
_XLSX = {
    "code": lambda v: v or None,
    "text": lambda v: protect(_clean(v)) if v else None,
    "list": lambda v: protect(_clean(_joined(v))) if v else None,
    "time": lambda v: v.isoformat(),
    "number": lambda v: v,
    "bool": bool,
}
_PLAIN = _CSV | {"text": lambda v: v or "", "list": lambda v: _joined(v) if v else ""}

_NAMES = [c.name for c in EXPORT_COLUMNS]
_HXL = [c.hxl for c in EXPORT_COLUMNS]
_CSV_CELLS = [(c.name, _CSV[c.kind]) for c in EXPORT_COLUMNS]
_XLSX_CELLS = [(c.name, _XLSX[c.kind]) for c in EXPORT_COLUMNS]
_PLAIN_CELLS = {c.name: _PLAIN[c.kind] for c in EXPORT_COLUMNS}


# --- Formats ----------------------------------------------------------------------------

def csv_chunks(rows: Iterable[dict[str, Any]], *, hxl: bool = True,
               bom: bool = False) -> Iterator[str]:
    """RFC 4180 CSV in UTF-8, a header row and, with `hxl`, a row of HXL hashtags.

    No byte-order mark by default: HXL tools (libhxl, the HXL Proxy) keep it as part of
    the first header. Spreadsheet users get XLSX, which has no encoding question."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if bom:
        buffer.write("\ufeff")
    writer.writerow(_NAMES)
    if hxl:
        writer.writerow(_HXL)
    for rec in rows:
        writer.writerow([write(rec[name]) for name, write in _CSV_CELLS])
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xlsx_chunks(rows: Iterable[dict[str, Any]], *, hxl: bool = True) -> Iterator[bytes]:
    """An XLSX workbook, written row by row (openpyxl's write-only mode keeps rows in a
    temporary file, not in memory) and then read out in chunks."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_clean(_("Incidents"))[:31])
    sheet.freeze_panes = "A3" if hxl else "A2"
    bold = Font(bold=True)

    def styled(values: list[str]) -> list[WriteOnlyCell]:
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            cell.font = bold
            cells.append(cell)
        return cells

    sheet.append(styled(_NAMES))
    if hxl:
        sheet.append(styled(_HXL))
    for rec in rows:
        sheet.append([write(rec[name]) for name, write in _XLSX_CELLS])
    with tempfile.TemporaryFile() as out:
        book.save(out)
        out.seek(0)
        while chunk := out.read(CHUNK):
            yield chunk


def _feature(rec: dict[str, Any]) -> dict[str, Any]:
    geometry = None
    if rec["lat"] is not None and rec["lon"] is not None:
        geometry = {"type": "Point", "coordinates": [rec["lon"], rec["lat"]]}
    props = {name: rec[name] for name in _NAMES if name not in ("lat", "lon")}
    props["occurred_at"] = rec["occurred_at"].isoformat()
    props["recorded_at"] = rec["recorded_at"].isoformat()
    props["subtype"] = rec["subtype"] or None
    return {"type": "Feature", "id": rec["id"], "geometry": geometry, "properties": props}


def geojson_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A GeoJSON FeatureCollection (RFC 7946): a Point [lon, lat] per incident, or a null
    geometry for one reported by area only."""
    def features() -> Iterator[str]:
        comma = ""
        for rec in rows:
            yield comma + json.dumps(_feature(rec), ensure_ascii=False, separators=(",", ":"))
            comma = ","

    return fast.feature_collection(features())


def _xml(value: Any) -> str:
    return escape(_clean(str(value)))


_KML_DATA = ("id", "uid", "type", "subtype", "status", "severity", "area", "area_name",
             "fatalities", "injured", "actors", "sources", "tags", "recorded_at", "estimate")


def _placemark(rec: dict[str, Any]) -> str:
    data = []
    for name in _KML_DATA:
        value = _PLAIN_CELLS[name](rec[name])
        if value != "":
            data.append(f'<Data name="{name}"><value>{_xml(value)}</value></Data>')
    point = ""
    if rec["lat"] is not None and rec["lon"] is not None:
        point = f"<Point><coordinates>{rec['lon']!r},{rec['lat']!r}</coordinates></Point>"
    return (f"<Placemark id={quoteattr('incident-' + rec['uid'])}>"
            f"<name>{_xml(rec['title'])}</name>"
            f"<description>{_xml(rec['description'])}</description>"
            f"<TimeStamp><when>{rec['occurred_at'].isoformat()}</when></TimeStamp>"
            f"<ExtendedData>{''.join(data)}</ExtendedData>{point}</Placemark>\n")


def kml_chunks(rows: Iterable[dict[str, Any]], *, name: str | None = None) -> Iterator[str]:
    """An OGC KML 2.2 document: a Placemark per incident with its time and point."""
    title = name or _("Incidents")
    head = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<kml xmlns="{KML_NS}"><Document><name>{_xml(title)}</name>\n')
    yield from fast.chunked(itertools.chain([head], map(_placemark, rows),
                                            ["</Document></kml>\n"]))


def export_chunks(fmt: str, actor: Actor | Any, flt: IncidentFilter | None = None, *,
                  hxl: bool = True) -> Iterator[str | bytes]:
    """The chunks of an export in one of EXPORT_FORMATS. CSV and GeoJSON of the current
    state are formatted by the database (`fast`); the rest go through `records`."""
    if fmt in ("csv", "geojson") and (flt is None or flt.as_of is None):
        qs = visible_incidents(actor, flt)
        return fast.csv_chunks(qs, hxl=hxl) if fmt == "csv" else fast.geojson_chunks(qs)
    rows = records(actor, flt)
    if fmt == "csv":
        return csv_chunks(rows, hxl=hxl)
    if fmt == "xlsx":
        return xlsx_chunks(rows, hxl=hxl)
    if fmt == "geojson":
        return geojson_chunks(rows)
    if fmt == "kml":
        return kml_chunks(rows)
    raise ValueError(f"unknown export format {fmt!r}")


def filename(fmt: str, moment: datetime | None = None) -> str:
    moment = timezone.localtime(moment or timezone.now(), timezone.get_default_timezone())
    return f"incidents-{moment:%Y%m%d-%H%M}.{fmt}"
