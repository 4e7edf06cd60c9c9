"""Incidents in and out of files: CSV/XLSX import (ours or ACLED's columns) and
CSV/XLSX (HXL-tagged), GeoJSON and KML exports. See `importer` and `exporter`."""

from .exporter import (
    CONTENT_TYPES,
    EXPORT_FORMATS,
    csv_chunks,
    export_chunks,
    filename,
    geojson_chunks,
    kml_chunks,
    records,
    visible_incidents,
    xlsx_chunks,
)
from .importer import ImportReport, RowProblem, import_incidents
from .reading import IMPORT_FORMATS, parse_when

__all__ = [
    "CONTENT_TYPES", "EXPORT_FORMATS", "IMPORT_FORMATS", "ImportReport", "RowProblem",
    "csv_chunks", "export_chunks", "filename", "geojson_chunks", "import_incidents",
    "kml_chunks", "parse_when", "records", "visible_incidents", "xlsx_chunks",
]
