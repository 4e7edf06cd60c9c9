"""Incident files on the API: exports (CSV, XLSX, GeoJSON, KML) and the CSV/XLSX import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Literal

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import Http404, HttpResponse, HttpResponseNotModified, StreamingHttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import AwareDatetime

from sitroom.api.auth import actor_of
from sitroom.core import filestore
from sitroom.core.choices import JournalSource
from sitroom.core.errors import InvalidInput
from sitroom.core.models import as_uid

from .api import _incident, _then, incident_filter
from .documents import (
    add_document,
    attached,
    document_of,
    documents_of,
    may_open,
    withdraw_document,
    withdrawal_text,
)
from .exchange import CONTENT_TYPES, export_chunks, filename, import_incidents
from .models import Incident, IncidentDocument

logger = logging.getLogger(__name__)

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


def _gone(text: str) -> HttpResponse:
    return HttpResponse(text, status=410, content_type="text/plain; charset=utf-8")


def document_response(request, incident: Incident, document: IncidentDocument,
                      download: bool = False) -> HttpResponse:
    """The stored file, streamed with the type its name maps to: an image shown (unless
    `download`), anything else downloaded; never run as a page (sandboxed, no sniffing).
    Its bytes never change, so a browser may keep it. A withdrawn document is gone (410,
    saying when, by whom and why) except for the incident managers of the area."""
    if not may_open(request.user, incident, document):
        return _gone(_("This document was withdrawn (%(when)s, by %(who)s: %(reason)s).")
                     % withdrawal_text(document))
    etag = f'"{document.sha256}"'
    if request.headers.get("If-None-Match") == etag:
        return HttpResponseNotModified(headers={"ETag": etag,
                                                "Cache-Control": "private, no-cache"})
    if not filestore.path_of(document.sha256).is_file():
        logger.error("stored file missing: document %s, sha256 %s", document.uid,
                     document.sha256)
        return _gone(_("The stored file is missing; the administrator can find every such "
                       "file with: sitroom journal verify --documents"))
    chunks = filestore.read(document.sha256)
    content = _pulled(chunks) if isinstance(request, ASGIRequest) else chunks
    response = StreamingHttpResponse(content, content_type=document.content_type)
    response["Content-Disposition"] = content_disposition_header(
        download or document.content_type not in filestore.SHOWN_INLINE, document.name)
    response["Content-Length"] = str(document.size)
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    response["X-Content-Type-Options"] = "nosniff"
    # The bytes never change, but a withdrawal must reach the browser: kept, re-asked.
    response["Cache-Control"] = "private, no-cache"
    response["ETag"] = etag
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
    as_of: Query[AwareDatetime | None] = None, documents: bool | None = None,
    hxl: bool = True,
):
    """`fmt` is csv, xlsx (both with a HXL hashtag row unless `hxl=false`), geojson or
    kml. The same filters as the incident list (`GET /incidents`); `as_of` gives each
    incident as it stood then. Times are ISO 8601 with the offset of the deployment's zone."""
    flt = incident_filter(request, area, type, subtype, status, since, until, q, tag,
                          min_severity, assignee, bbox, as_of, documents)
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



class DocumentOut(Schema):
    uid: str
    incident: str
    name: str
    description: str
    sha256: str
    size: int
    content_type: str
    added_at: AwareDatetime
    added_by: str
    url: str
    withdrawn_at: AwareDatetime | None = None
    withdrawn_by: str | None = None
    withdrawal_reason: str | None = None

    @staticmethod
    def of(doc: IncidentDocument) -> DocumentOut:
        withdrawn = doc.withdrawn_at is not None
        return DocumentOut(
            uid=str(doc.uid), incident=str(doc.incident.uid), name=doc.name,
            description=doc.description, sha256=doc.sha256, size=doc.size,
            content_type=doc.content_type, added_at=doc.added_at, added_by=doc.actor_label,
            url=doc.api_path(),
            withdrawn_at=doc.withdrawn_at,
            withdrawn_by=doc.withdrawn_by_label if withdrawn else None,
            withdrawal_reason=doc.withdrawal_reason if withdrawn else None)


class WithdrawIn(Schema):
    reason: str


@router.get("/incidents/{uid}/documents", response=list[DocumentOut],
            summary="The documents attached to an incident")
def list_documents(request, uid: str, as_of: Query[AwareDatetime | None] = None):
    """Oldest first, with those of the duplicates merged into it (their `incident` says
    which report each came with). Withdrawn documents are listed with who withdrew them,
    when and why; their file is served only to incident managers. With `as_of`, the
    documents listed at that moment: attached by then, not withdrawn by then, of the
    duplicates merged by then (one withdrawn since still shows its later withdrawal)."""
    incident = _incident(request.user, uid)
    if as_of is None:
        return [DocumentOut.of(d) for d in documents_of(incident)]
    _then(incident, as_of)
    return [DocumentOut.of(d) for d in attached([incident], as_of)[incident.pk]]


@router.post("/incidents/{uid}/documents", response={201: DocumentOut, 200: DocumentOut},
             summary="Attach a document (a photo, a scan, a decree) to an incident")
def attach_document(request, uid: str, file: File[UploadedFile], description: Form[str] = ""):
    """Multipart upload. The type is taken from the file name's extension (PDF, images,
    office files, text, audio, video, zip; not SVG or HTML), at most
    `SITROOM_DOCUMENT_MAX_MB`. The same file sent again to the same incident is not stored
    twice: 200 with the document already attached. Needs the right to report incidents in
    the incident's area; a merged report takes none (attach to the one it was merged into)."""
    document, created = add_document(
        _incident(request.user, uid), file.chunks(), name=file.name, description=description,
        actor=actor_of(request), source=JournalSource.API)
    return Status(201 if created else 200, DocumentOut.of(document))


@router.get("/incidents/{uid}/documents/{doc}", summary="A document's file",
            openapi_extra={"responses": {200: {
                "description": "The file as it was attached, byte for byte",
                "content": {"application/octet-stream": {
                    "schema": {"type": "string", "format": "binary"}}}}}})
def document_file(request, uid: str, doc: str, download: bool = False):
    """410 for a withdrawn document, unless you manage incidents in its area."""
    incident = _incident(request.user, uid)
    document = document_of(incident, as_uid(doc))
    if document is None:
        raise Http404(f"no document {doc!r} on this incident")
    return document_response(request, incident, document, download)


@router.post("/incidents/{uid}/documents/{doc}/withdraw", response=DocumentOut,
             summary="Withdraw a document attached by mistake, saying why")
def withdraw(request, uid: str, doc: str, body: WithdrawIn):
    """By who added it or an incident manager of the area. Nothing is deleted: the
    document stays listed as withdrawn (who, when, why), its file stays stored for the
    incident managers, and the report's history and the journal record the withdrawal."""
    incident = _incident(request.user, uid)
    if document_of(incident, as_uid(doc)) is None:
        raise Http404(f"no document {doc!r} on this incident")
    return DocumentOut.of(withdraw_document(incident, as_uid(doc), reason=body.reason,
                                            actor=actor_of(request),
                                            source=JournalSource.API))
