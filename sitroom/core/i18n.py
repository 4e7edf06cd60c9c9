"""Journal text that every reader sees in their own language.

What the system itself writes into the journal ("Place CHP-2 added") is stored in English
in `summary`, and its message id and parameters in `payload["i18n"]`, so the page renders
it in the reader's language while the stored record stays one, language-neutral fact.
"""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext


def described(msgid: str, **params: Any) -> dict[str, Any]:
    """`summary` and `payload` fields for a system-written entry (msgid: gettext_noop).

    Parameters may be lazy labels (a choice's label): they are stored in English and
    translated again when read."""
    if any(isinstance(v, Promise) for v in params.values()):
        with translation.override("en"):
            params = {k: str(v) if isinstance(v, Promise) else v for k, v in params.items()}
    return {"summary": msgid % params, "i18n": {"msgid": msgid, "params": params}}


def render(summary: str, payload: dict[str, Any] | None) -> str:
    """The entry's summary in the active language, when it was system-written."""
    spec = (payload or {}).get("i18n")
    if not isinstance(spec, dict):
        return summary
    try:
        params = {k: gettext(v) if isinstance(v, str) and v else v
                  for k, v in spec["params"].items()}
        return gettext(spec["msgid"]) % params
    except (KeyError, TypeError, ValueError):
        return summary
