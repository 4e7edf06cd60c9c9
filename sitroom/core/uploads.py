"""Uploads over the document size limit are refused before their bytes are read.

Django reads a request's whole body before any view sees it (under ASGI before the
middleware even runs, and the CSRF check parses a form's files), so a 2 GB video sent to a
50 MB limit would first fill the server's temporary disk. Here the request's declared
``Content-Length`` is compared with the limit of the address it is sent to:

- `UploadLimit` wraps the ASGI application (``sitroom serve``): a request over the limit
  reaches Django with its body withheld, marked as refused;
- `UploadLimitMiddleware` (before the CSRF check) answers a refused request with 413, in
  the reader's language: a problem naming the ``file`` field on the API, a page on the
  web. Under WSGI (the test client) it reads the same header itself.

A client that sends no length (chunked) is still stopped by the store's own check
(`filestore.store`), which counts the bytes as they come.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from . import filestore

# Addresses that take a document, and how much more than the file a form may carry
# (the other fields of a new report, the multipart framing).
DOCUMENT_UPLOADS = re.compile(
    r"^/(?:api/v1/)?incidents/(?:new|[0-9a-f-]{36}/documents)$")
FORM_ALLOWANCE = 1 << 20
REFUSED = "sitroom.upload_refused"


def limit_for(path: str) -> int | None:
    """The largest body a POST to `path` may declare, or None when it has no such limit."""
    if DOCUMENT_UPLOADS.match(path):
        return filestore.max_bytes() + FORM_ALLOWANCE
    return None


def too_large(method: str, path: str, content_length: str | bytes | None) -> bool:
    if method != "POST" or not content_length:
        return False
    limit = limit_for(path)
    try:
        return limit is not None and int(content_length) > limit
    except ValueError:
        return False


class UploadLimit:
    """ASGI wrapper: a POST declaring more than its address takes gets no body read."""

    def __init__(self, app: Callable):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            length = dict(scope.get("headers") or ()).get(b"content-length")
            if too_large(scope.get("method", ""), scope.get("path", ""), length):
                scope = {**scope, REFUSED: True}
                receive = _withheld()
        await self.app(scope, receive, send)


def _withheld():
    """A receive that gives an empty body, then waits (as for a client that stays until
    the answer) until the server is done with the request."""
    sent = False

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()

    return receive


class UploadLimitMiddleware:
    def __init__(self, get_response: Callable):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        scope = getattr(request, "scope", None)
        refused = (scope.get(REFUSED, False) if scope is not None
                   else too_large(request.method or "", request.path_info,
                                  request.META.get("CONTENT_LENGTH")))
        if not refused:
            return self.get_response(request)
        message = filestore.too_large_text()
        if request.path_info.startswith("/api/"):
            from sitroom.api.errors import problem

            return problem(413, _("The upload is too large"), errors=[
                {"field": "file", "message": message}], kind="too-large")
        response = render(request, "web/too_large.html", {"message": message}, status=413)
        response["Connection"] = "close"
        return response
