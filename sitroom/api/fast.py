"""Large answers built as plain data, written without a second validation.

django-ninja validates a view's return value against its response schema; for a board of
hundreds of cells or a map of thousands that takes longer than the query. Views that
build exactly the documented shape from trusted data return `trusted_json(...)`, which
ninja passes through; the schema stays in the OpenAPI document, and the tests compare the
answers with it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from django.http import HttpResponse


def _default(value: Any) -> Any:
    if isinstance(value, datetime):  # as pydantic writes it: UTC with Z
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def trusted_json(data: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(data, default=_default, ensure_ascii=False,
                                   separators=(",", ":")),
                        status=status, content_type="application/json")
