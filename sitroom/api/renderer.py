"""How the API writes JSON: as django-ninja does, but date-times keep their microseconds.

Django's encoder cuts a date-time to milliseconds. The database keeps microseconds, so a
time read from one answer (a revision's `recorded_at`) and sent back in another (`as_of`)
would name an instant just before the one meant, and miss it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder


class Encoder(NinjaJSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, datetime):  # ISO 8601 in full; UTC written with Z, as Django does
            text = o.isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        return super().default(o)


class Renderer(JSONRenderer):
    encoder_class = Encoder
