"""Incident files on the API: exports (CSV, XLSX, GeoJSON, KML) and the CSV/XLSX import."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Literal

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse
from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from pydantic import AwareDatetime

from sitroom.api.auth import actor_of
from sitroom.core.choices import JournalSource
from sitroom.core.errors import InvalidInput

from .api import incident_filter
from .exchange import CONTENT_TYPES, export_chunks, filename, import_incidents

router = Router(tags=["security situation"])

ExportFormat = Literal["csv", "xlsx", "geojson", "kml"]


class ImportProblemOut(Schema):
    row: int
    field: str
    problem: str


class ImportReportOut(Schema):
    rows: int
    created: int
    existing: int
    invalid_rows: int
    written: bool
    problems: list[ImportProblemOut]
    more_problems: int
    notes: list[str]


async def _pulled(chunks: Iterator) -> AsyncIterator:
    """Serve a synchronous generator under ASGI without reading it all first: each chunk
    is pulled in the request's thread (the one that holds its database connection)."""
    pull = sync_to_async(next, thread_sensitive=True)
    try:
        while (chunk := await pull(chunks, None)) is not None:
            yield chunk
    finally:
        await sync_to_async(chunks.close, thread_sensitive=True)()


def streamed(request, chunks: Iterator, fmt: str) -> StreamingHttpResponse:
    content = _pulled(chunks) if isinstance(request, ASGIRequest) else chunks
    response = StreamingHttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename(fmt)}"'
    return response


@router.get(
    "/incidents/export.{fmt}", summary="Export the incidents you may see",
    openapi_extra={"responses": {200: {
        "description": "The file, streamed",
        "content": {ct.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
                    for ct in CONTENT_TYPES.values()}}}})
def export_incidents(
    request, fmt: ExportFormat, area: str | None = None, type: str | None = None,
    subtype: str | None = None, status: str | None = None,
    since: Query[AwareDatetime | None] = None, until: Query[AwareDatetime | None] = None,
    q: str | None = None, tag: str | None = None, min_severity: int | None = None,
    assignee: str | None = None, bbox: str | None = None,
    as_of: Query[AwareDatetime | None] = None, hxl: bool = True,
):
    """`fmt` is csv, xlsx (both with a HXL hashtag row unless `hxl=false`), geojson or
    kml. The same filters as the incident list (`GET /incidents`); `as_of` gives each
    incident as it stood then. Times are ISO 8601 with the offset of the deployment's zone."""
    flt = incident_filter(request, area, type, subtype, status, since, until, q, tag,
                          min_severity, assignee, bbox, as_of)
    chunks = export_chunks(fmt, actor_of(request), flt, hxl=hxl)
    return streamed(request, chunks, fmt)


@router.post("/incidents/import", response=ImportReportOut,
             summary="Import incidents from a CSV or XLSX file")
def import_incidents_file(request, file: File[UploadedFile],
                          skip_invalid: Form[bool] = False,
                          format: Form[Literal["csv", "xlsx"] | None] = None):
    """Columns as in the CSV export (or ACLED's); a HXL row under the header is skipped.
    Every row is checked. Without `skip_invalid`, nothing is written when a row has a
    problem (422, naming each row and column as `rows[N].column`, N as a spreadsheet
    counts rows); with it, the good rows are written and the others reported.
    Re-importing a file adds nothing."""
    report = import_incidents(file, actor=actor_of(request), source=JournalSource.IMPORT,
                              fmt=format, skip_invalid=skip_invalid)
    if not report.written:
        raise InvalidInput(report.errors())
    return report.as_dict()

