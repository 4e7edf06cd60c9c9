"""Gaps in the reader's language: the web and API layers show a gap from its kind and
parameters through gettext, never the planner's English `str(gap)`."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from .planner.handover import KIND_BOARDING, KIND_OVERLAP, KIND_UNGUARDED, Gap


def _t(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return date_format(timezone.localtime(moment), "j M H:i")


def gap_text(gap: Gap) -> str:
    """One sentence naming the site, the unit, the time and the shortfall."""
    p = {"site": gap.site_name, "unit": gap.who, "guard_end": _t(gap.guard_end),
         "relief": _t(gap.relief_start), "short": gap.shortfall_min,
         "overlap": gap.overlap_min, "boards": _t(gap.boards_at),
         "released": _t(gap.released_at), "travel": gap.travel_min}
    if gap.kind == KIND_OVERLAP:
        return _("%(site)s: relief begins %(relief)s, %(unit)s's guard ends %(guard_end)s — "
                 "%(short)s min short of the required %(overlap)s-min overlap") % p
    if gap.kind == KIND_UNGUARDED:
        return _("%(site)s: %(unit)s's guard ends %(guard_end)s and no relief is planned — "
                 "the site is left unguarded") % p
    if gap.kind == KIND_BOARDING and gap.released_at is None:
        return _("%(site)s: %(unit)s boards at %(boards)s while still guarding the site") % p
    return _("%(site)s: %(unit)s boards at %(boards)s, before the site is released plus "
             "%(travel)s min travel (%(released)s) — %(short)s min early") % p


def gap_out(gap: Gap) -> dict:
    """A gap for the API: its kind and parameters, and the sentence in the reader's
    language."""
    data = gap.to_json()
    data["message"] = gap_text(gap)
    return data
