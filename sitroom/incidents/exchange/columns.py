"""The incident table as files see it: column names, their aliases, their HXL hashtags.

One table serves both directions: what an export writes is what an import reads back, and
ACLED's column names (codebook, see docs/design standards-notes §7) are read as aliases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..choices import LIST_SEPARATOR  # noqa: F401 - for the files' readers and writers

# Fields an import fills, and the column names (lower case, "_" for spaces) that give
# them. Several ACLED columns add to one field (actors).
IMPORT_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "external_id", "event_id_cnty"),
    "uid": ("uid",),  # ours: read when a row has no id (see RowReader.read)
    "type": ("type", "event_type"),
    "subtype": ("subtype", "sub_type", "sub_event_type"),
    "title": ("title",),
    "description": ("description", "notes"),
    "occurred_at": ("occurred_at", "event_date"),
    "lat": ("lat", "latitude"),
    "lon": ("lon", "longitude"),
    "area": ("area", "area_code"),
    "actors": ("actors", "actor1", "assoc_actor_1", "actor2", "assoc_actor_2"),
    "fatalities": ("fatalities", "killed"),
    "injured": ("injured",),
    "sources": ("sources", "source"),
    "tags": ("tags",),
    "severity": ("severity",),
    "estimate": ("estimate",),
    "location": ("location",),  # ACLED's place name: only used to name untitled rows
}
MULTI_COLUMN_FIELDS = {"actors"}
COLUMN_FIELD = {alias: name for name, aliases in IMPORT_ALIASES.items() for alias in aliases}


@dataclass(frozen=True)
class ExportColumn:
    name: str
    hxl: str
    # code, text (free text from users: protected against formula injection), list (of
    # texts), time, number, bool
    kind: str = "code"


# The export table. Its header row is what `import` reads back; HXL 1.1 hashtags
# (http://hxlstandard.org/standard/1-1final/dictionary/) go in the row under it.
EXPORT_COLUMNS: tuple[ExportColumn, ...] = (
    # The report's id: another system's, when it came with one (an ACLED event id, a
    # ministry's number), else ours. `uid` is always ours, as the API gives it, so a row
    # can be matched with the API whatever its id.
    ExportColumn("id", "#event+id", "text"),
    ExportColumn("uid", "#meta+id"),
    ExportColumn("type", "#event+type"),
    ExportColumn("subtype", "#event+subtype"),
    ExportColumn("title", "#description+title", "text"),
    ExportColumn("description", "#description+notes", "text"),
    ExportColumn("occurred_at", "#date+occurred", "time"),
    ExportColumn("recorded_at", "#date+reported", "time"),
    ExportColumn("lat", "#geo+lat", "number"),
    ExportColumn("lon", "#geo+lon", "number"),
    ExportColumn("country", "#country+code"),
    ExportColumn("admin1", "#adm1+code"),
    ExportColumn("area", "#loc+code"),
    ExportColumn("area_name", "#loc+name", "text"),
    ExportColumn("actors", "#group+name", "list"),
    ExportColumn("fatalities", "#affected+killed", "number"),
    ExportColumn("injured", "#affected+injured", "number"),
    ExportColumn("severity", "#severity", "number"),
    ExportColumn("status", "#status"),
    ExportColumn("estimate", "#meta+estimate", "bool"),
    ExportColumn("sources", "#meta+source", "list"),
    ExportColumn("tags", "#meta+tags", "list"),
)

# A column whose header is unknown is still read when its HXL hashtag names a field
# (ours, or those HDX puts on ACLED extracts).
HXL_FIELD: dict[str, str] = {
    "#event+id": "id", "#event+code": "id", "#meta+id": "uid", "#event+type": "type",
    "#event+subtype": "subtype", "#event+sub+type": "subtype",
    "#description+title": "title", "#description": "description",
    "#description+notes": "description", "#date+occurred": "occurred_at",
    "#geo+lat": "lat", "#geo+lon": "lon", "#loc+code": "area", "#group+name": "actors",
    "#affected+killed": "fatalities", "#affected+injured": "injured",
    "#meta+source": "sources", "#meta+tags": "tags", "#severity": "severity",
    "#meta+estimate": "estimate",
}

# Cells a spreadsheet would run as a formula (OWASP "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_HXL_TAG = re.compile(r"^\s*#[a-z][a-z0-9_]*(\s*\+\s*[a-z][a-z0-9_]*)*\s*$", re.IGNORECASE)


def header_key(value: object) -> str:
    """A header cell as looked up in IMPORT_ALIASES: "Event Date" -> "event_date"."""
    return re.sub(r"[\s\-]+", "_", str(value or "").strip().lower())


def is_hxl_row(cells: list[object]) -> bool:
    """A HXL hashtag row: every non-empty cell is a hashtag (with attributes), one at least."""
    texts = [str(c).strip() for c in cells if c is not None and str(c).strip()]
    return bool(texts) and all(_HXL_TAG.match(t) for t in texts)


def hxl_key(value: object) -> str:
    """A hashtag spec in a canonical form: "#Event +Type" -> "#event+type"."""
    parts = [p.strip().lower() for p in str(value or "").split("+")]
    return "+".join([parts[0], *sorted(p for p in parts[1:] if p)])


HXL_FIELD = {hxl_key(k): v for k, v in HXL_FIELD.items()}


def protect(value: str) -> str:
    """Neutralise a text cell a spreadsheet would run as a formula."""
    return "'" + value if value.startswith(FORMULA_START) else value


def unprotect(value: str) -> str:
    """Undo `protect` on import, so that an exported file reads back as it was."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_START) else value
