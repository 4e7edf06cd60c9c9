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

LANGUAGES = ("en", "ru", "kk")


def _names(obj: Any) -> dict[str, str]:
    """A named thing's name in each language (English where one is missing)."""
    return {code: (getattr(obj, f"name_{code}", "") or obj.name) if code != "en"
            else obj.name for code in LANGUAGES}


def described(msgid: str, **params: Any) -> dict[str, Any]:
    """`summary` and `payload` fields for a system-written entry (msgid: gettext_noop).

    Parameters may be lazy labels (a choice's label): they are stored in English and
    translated again when read. They may also be named things (an area, a component,
    an organization: anything with `name`, `name_ru`, `name_kk`): their names in every
    language are stored, and each reader sees the one of their language."""
    if any(isinstance(v, Promise) for v in params.values()):
        with translation.override("en"):
            params = {k: str(v) if isinstance(v, Promise) else v for k, v in params.items()}
    params = {k: _names(v) if hasattr(v, "name_ru") else v for k, v in params.items()}
    english = {k: v["en"] if isinstance(v, dict) else v for k, v in params.items()}
    return {"summary": msgid % english, "i18n": {"msgid": msgid, "params": params}}


def _in_language(value: Any, language: str) -> Any:
    if isinstance(value, dict):
        return value.get(language) or value.get("en", "")
    return gettext(value) if isinstance(value, str) and value else value


def render(summary: str, payload: dict[str, Any] | None) -> str:
    """The entry's summary in the active language, when it was system-written."""
    spec = (payload or {}).get("i18n")
    if not isinstance(spec, dict):
        return summary
    language = (translation.get_language() or "en")[:2]
    try:
        params = {k: _in_language(v, language) for k, v in spec["params"].items()}
        return gettext(spec["msgid"]) % params
    except (KeyError, TypeError, ValueError):
        return summary
