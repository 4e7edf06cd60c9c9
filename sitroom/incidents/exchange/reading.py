"""Reading incident rows from CSV or XLSX: files, columns (ours, ACLED's, HXL-tagged) and
cells (dates, numbers, lists) into `IncidentDraft` fields, with a problem per bad cell."""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, BinaryIO

from django.utils import timezone
from django.utils.translation import gettext as _

from sitroom.core.errors import InvalidInput
from sitroom.core.models import as_uid

from ..choices import TIME_ESTIMATED_TAG
from ..models import IncidentType
from .columns import (
    COLUMN_FIELD,
    HXL_FIELD,
    LIST_SEPARATOR,
    MULTI_COLUMN_FIELDS,
    header_key,
    hxl_key,
    unprotect,
)

IMPORT_FORMATS = ("csv", "xlsx")

_YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DMY = re.compile(r"^(\d{1,2})[-.](\d{1,2})[-.](\d{4})$")
# "05.01.2022 16:00": a date and time as a Russian or Kazakh spreadsheet writes it.
_DMY_TIME = re.compile(r"^(\d{1,2})[-.](\d{1,2})[-.](\d{4})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")
_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f", ""}


# --- Reading rows from the file -------------------------------------------------------

def guess_format(name: str | None, head: bytes = b"") -> str | None:
    suffix = Path(name or "").suffix.lower().lstrip(".")
    if suffix in IMPORT_FORMATS:
        return suffix
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    return "csv" if head else None


def file_error(message: str) -> InvalidInput:
    return InvalidInput({"file": [message]})


def csv_encoding(binary: BinaryIO) -> str:
    """UTF-8, or Windows-1251 for a file that is not UTF-8: what Excel saves a CSV in on a
    Russian or Kazakh Windows. Judged on the first 64 KiB; the stream is rewound."""
    head = binary.read(65536)
    binary.seek(0)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if len(head) < 65536 or exc.start < len(head) - 3:  # not a character cut by the peek
            return "cp1251"
    return "utf-8-sig"


def csv_rows(binary: BinaryIO, encoding: str = "utf-8-sig") -> Iterator[list[Any]]:
    """The rows of a CSV file (RFC 4180; a UTF-8 byte-order mark is dropped)."""
    text = io.TextIOWrapper(binary, encoding=encoding, newline="")
    reader = None
    try:
        first = text.readline()
        # A spreadsheet saved in a locale whose decimal mark is "," separates with ";".
        delimiter = next((d for d in (",", ";", "\t") if d in first), ",")
        reader = csv.reader(itertools.chain([first], text), delimiter=delimiter)
        yield from reader
    except UnicodeDecodeError as exc:
        raise file_error(_("is not UTF-8 text (%(error)s)") % {"error": exc}) from None
    except csv.Error as exc:
        # Python's own message, in English like the rest of the technical detail.
        detail = f"line {reader.line_num if reader else 1}: {exc}"
        raise file_error(_("is not a readable CSV file (%(error)s)")
                         % {"error": detail}) from None
    finally:
        text.detach()


def xlsx_rows(binary: BinaryIO) -> Iterator[list[Any]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(binary, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise file_error(_("is not an XLSX workbook (%(error)s)") % {"error": exc}) from None
    try:
        sheet = book.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    finally:
        book.close()


@contextmanager
def opened(file: Any):
    """A binary stream for a path or an (uploaded) file object."""
    if isinstance(file, str | Path):
        try:
            stream = Path(file).open("rb")
        except OSError as exc:
            raise file_error(_("cannot be read: %(error)s") % {"error": exc.strerror}) from None
        with stream:
            yield stream, str(file)
    else:
        stream = getattr(file, "file", file)
        if hasattr(stream, "seek"):
            stream.seek(0)
        yield stream, getattr(file, "name", None)


# --- Turning cells into incident fields -------------------------------------------------

def text_of(value: Any) -> str:
    """A cell as stripped text, whatever its type."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | float):
        result = value
    else:
        text = text_of(value)
        if "," in text and "." not in text:  # a decimal comma ("43,25")
            text = text.replace(",", ".")
        result = float(text)
    if not math.isfinite(result):
        raise ValueError
    return result


def _whole(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError
        return int(value)
    return int(text_of(value))


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=timezone.get_default_timezone())


def parse_when(value: Any) -> tuple[datetime, bool]:
    """A moment from a cell, and whether its time of day was estimated.

    ISO 8601 with an offset is taken as is. A date alone (yyyy-mm-dd, ACLED's dd-mm-yyyy,
    "05 January 2022", a spreadsheet date) is taken as noon in the deployment's zone. A
    date and time without an offset (a spreadsheet's cell, or "2022-01-05 16:00" as a
    spreadsheet saves it to CSV) is read in the deployment's zone, as the web forms read
    it; the import's report says how many rows were (`has_offset`). Raises ValueError with
    the problem.
    """
    if isinstance(value, datetime):
        if value.time() == time(0) and value.tzinfo is None:
            return _noon(value.date()), True
        if value.tzinfo is None:
            return timezone.make_aware(value, timezone.get_default_timezone()), False
        return value, False
    if isinstance(value, date):
        return _noon(value), True
    text = text_of(value)
    if not text:
        raise ValueError(_("must not be empty"))
    if m := _YMD.match(text):
        parts = (int(m[1]), int(m[2]), int(m[3]))
    elif m := _DMY.match(text):
        parts = (int(m[3]), int(m[2]), int(m[1]))
    else:
        parts = None
    if parts is not None:
        try:
            return _noon(date(*parts)), True
        except ValueError:
            raise ValueError(_("is not a date of the calendar: %(value)r")
                             % {"value": text}) from None
    if m := _DMY_TIME.match(text):
        try:
            moment = datetime(int(m[3]), int(m[2]), int(m[1]), int(m[4]), int(m[5]),
                              int(m[6] or 0))
        except ValueError:
            raise ValueError(_("is not a date of the calendar: %(value)r")
                             % {"value": text}) from None
        return timezone.make_aware(moment, timezone.get_default_timezone()), False
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None:  # "05 January 2022" (tried second: strptime is slow to fail)
        try:
            return _noon(datetime.strptime(text, "%d %B %Y").date()), True
        except ValueError:
            pass
        raise ValueError(
            _("is not a date and time: %(value)r; give ISO 8601 (2022-01-05T14:30:00+06:00), "
              "a date and time (05.01.2022 14:30) or a date (2022-01-05 or 05-01-2022)")
            % {"value": text}) from None
    if moment.tzinfo is None:
        return timezone.make_aware(moment, timezone.get_default_timezone()), False
    return moment, False


_OFFSET = re.compile(r"(?:[zZ]|[+-]\d\d(?::?\d\d)?)$")


def has_offset(value: Any) -> bool:
    """Whether a cell gives its moment's offset (a text ending in Z or ±hh:mm)."""
    return isinstance(value, str) and bool(_OFFSET.search(value.strip()))


def _split(value: Any) -> list[str]:
    text = unprotect(text_of(value))
    return [part.strip() for part in text.split(LIST_SEPARATOR) if part.strip()]


class TypeNames:
    """Incident type codes by code and by name (English, Russian, Kazakh), any case."""

    def __init__(self):
        self.by_key: dict[str, str] = {}
        self.parent: dict[str, str | None] = {}
        self.name: dict[str, str] = {}
        for t in IncidentType.objects.select_related("parent"):
            self.parent[t.code] = t.parent.code if t.parent_id else None
            self.name[t.code] = t.name
            for key in (t.code, t.name, t.name_ru, t.name_kk):
                if key:
                    self.by_key.setdefault(key.strip().casefold(), t.code)

    def code(self, text: str) -> str:
        return self.by_key.get(text.casefold(), text)


class RowReader:
    """Reads one data row into IncidentDraft fields, knowing the file's columns."""

    def __init__(self, header: list[Any], tags: list[Any] | None, types: TypeNames):
        self.types = types
        self.zoned = 0  # rows whose date and time had no offset: read in the deployment's
        self.columns: list[tuple[int, str]] = []
        self.header_of: dict[str, str] = {}
        self.ignored: list[str] = []
        seen: dict[str, str] = {}
        for i, cell in enumerate(header):
            label = text_of(cell)
            name = COLUMN_FIELD.get(header_key(label))
            if name is None and tags is not None and i < len(tags) and tags[i]:
                name = HXL_FIELD.get(hxl_key(tags[i]))
            if name is None:
                if label or (tags and i < len(tags) and tags[i]):
                    self.ignored.append(label or text_of(tags[i]))
                continue
            if name in seen and name not in MULTI_COLUMN_FIELDS:
                raise file_error(_("columns %(a)r and %(b)r both give %(field)s")
                                 % {"a": seen[name], "b": label, "field": name})
            seen[name] = label or text_of(tags[i] if tags else "")
            self.columns.append((i, name))
            self.header_of.setdefault(name, seen[name])
        missing = []
        if "type" not in seen and "subtype" not in seen:
            missing.append("type")
        if "occurred_at" not in seen:
            missing.append("occurred_at")
        if missing:
            raise file_error(_("has no column %(columns)s (the first row must name the "
                               "columns)") % {"columns": ", ".join(missing)})
        self.derive_title = "title" not in seen
        self.header_of["external_id"] = self.header_of.get("id", "id")

    def column(self, name: str) -> str:
        return self.header_of.get(name, name)

    def read(self, cells: list[Any]) -> tuple[dict[str, Any], list[tuple[str, str]], bool]:
        """(draft fields, [(column, problem)], time estimated) for one row."""
        raw: dict[str, Any] = {}
        for i, name in self.columns:
            value = cells[i] if i < len(cells) else None
            if name in MULTI_COLUMN_FIELDS:
                raw.setdefault(name, []).extend(_split(value))
            else:
                raw[name] = value
        out: dict[str, Any] = {}
        problems: list[tuple[str, str]] = []
        estimated = False

        def fail(name: str, message: str) -> None:
            problems.append((self.column(name), message))

        type_code = self.types.code(text_of(raw.get("type")))
        sub_code = self.types.code(text_of(raw.get("subtype"))) or None
        if not type_code and sub_code:
            type_code = self.types.parent.get(sub_code) or ""
        if not type_code:
            fail("type", _("must not be empty"))
        out["type"], out["subtype"] = type_code, sub_code
        try:
            out["occurred_at"], estimated = parse_when(raw.get("occurred_at"))
            if not estimated and not has_offset(raw.get("occurred_at")):
                self.zoned += 1
        except ValueError as exc:
            fail("occurred_at", str(exc))
        for name in ("lat", "lon"):
            if text_of(raw.get(name)):
                try:
                    out[name] = float(_number(raw[name]))
                except ValueError:
                    fail(name, _("must be a number"))
        for name in ("fatalities", "injured", "severity"):
            if text_of(raw.get(name)):
                try:
                    out[name] = _whole(raw[name])
                except ValueError:
                    fail(name, _("must be 1 (minor) to 5 (critical)") if name == "severity"
                         else _("must be a whole number, 0 or more"))
        if "estimate" in raw:
            flag = text_of(raw["estimate"]).casefold()
            if flag in _TRUE or flag in _FALSE:
                out["estimate"] = flag in _TRUE
            else:
                fail("estimate", _("must be true or false"))
        for name in ("description", "area"):
            if name in raw:
                out[name] = unprotect(text_of(raw[name]))
        for name in ("actors", "sources", "tags"):
            if name in raw:
                items = raw[name] if name in MULTI_COLUMN_FIELDS else _split(raw[name])
                out[name] = list(dict.fromkeys(items))
        if estimated and TIME_ESTIMATED_TAG not in out.get("tags", []):
            out["tags"] = [*out.get("tags", []), TIME_ESTIMATED_TAG]
        # A row without an id (another system's) is known by our uid, as exported: the
        # importer finds it among the stored incidents and adds nothing.
        external = unprotect(text_of(raw.get("id")))
        uid = text_of(raw.get("uid"))
        if uid and (len(uid) != 36 or as_uid(uid) is None):
            fail("uid", _("is not an incident's uid as the exports and the API give it "
                          "(36 characters, e.g. %(example)s): %(value)r")
                 % {"example": "3f2b8c1e-5d4a-4e8b-9c7d-2a1b0c9d8e7f", "value": uid})
        out["external_id"] = external or uid or None
        if self.derive_title:
            label = self.types.name.get(sub_code or "") or self.types.name.get(type_code) \
                or type_code
            place = text_of(raw.get("location"))
            out["title"] = (f"{label} — {place}" if place else label)[:200]
        else:
            out["title"] = unprotect(text_of(raw.get("title")))
        return out, problems, estimated
