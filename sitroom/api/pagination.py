"""Keyset pagination for long lists: stable under concurrent appends, fast at any depth."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

from django.conf import settings

from sitroom.core.errors import InvalidInput


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput({"cursor": "is not a cursor this API issued"}) from None
    if not isinstance(value, list):
        raise InvalidInput({"cursor": "is not a cursor this API issued"})
    return value


def check_limit(limit: int) -> int:
    if not 1 <= limit <= settings.API_PAGE_SIZE_MAX:
        raise InvalidInput({"limit": f"must be between 1 and {settings.API_PAGE_SIZE_MAX}"})
    return limit


def next_url(request, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    params = request.GET.copy()
    params["cursor"] = cursor
    return request.build_absolute_uri(request.path + "?" + urlencode(params, doseq=True))
