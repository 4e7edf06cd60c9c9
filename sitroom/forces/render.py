"""Gaps and bound names in the reader's language: the web and API layers show a gap from
its kind and parameters through gettext, never the planner's English `str(gap)`; the web
shows the planner's bounds by translated names (the plan's data keeps the planner's
names, which the API and the JSON plan use as keys)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .planner.handover import KIND_BOARDING, KIND_OVERLAP, KIND_UNGUARDED, Gap

BOUND_NAMES = {
    "fleet-cycle": gettext_lazy("fleet cycles"),
    "airfield-throughput": gettext_lazy("airfield throughput"),
    "handover critical path": gettext_lazy("handover critical path"),
    "time-indexed": gettext_lazy("time-indexed schedule"),
    "weight/seat": gettext_lazy("weight and seats"),
    "L2": gettext_lazy("L2 (Martello–Toth)"),
    "arc-flow LP": gettext_lazy("arc-flow linear programme"),
    "pattern LP": gettext_lazy("load-pattern linear programme"),
    "per-group best": gettext_lazy("best per group, summed"),
}


PACKING_SUFFIX = " (this packing)"  # the planner's mark of a bound of the chosen sorties


def bound_name(name: str) -> str:
    """A planner bound's name for the reader (unknown names, such as CP-SAT, as they
    are); a bound of the chosen sorties only keeps its mark, translated."""
    if name.endswith(PACKING_SUFFIX):
        return _("%(bound)s (these sorties)") % {"bound": bound_name(name[:-len(PACKING_SUFFIX)])}
    label = BOUND_NAMES.get(name)
    return str(label) if label is not None else name


def bounds_text(bounds: dict[str, int]) -> str:
    """Bounds as one line for the reader: "fleet cycles 2909; time-indexed schedule 3703"."""
    return "; ".join(f"{bound_name(name)} {value}" for name, value in bounds.items()) or "—"


def moment_text(moment: datetime | None) -> str:
    """A moment for the reader: day, month and time in the deployment's time zone."""
    if moment is None:
        return "—"
    return date_format(timezone.localtime(moment), "j M H:i")


_t = moment_text


def _in_language(gap: Gap) -> Gap:
    """The gap with its site and unit named in the reader's language: a plan's gaps
    carry the English names its problem was written with."""
    from sitroom.core.models import Place

    from .models import Unit

    place = Place.objects.filter(code=gap.site_id).only(
        "name", "name_kk", "name_ru").first()
    unit = Unit.objects.filter(code=gap.unit_id).only("name", "name_kk", "name_ru").first()
    return replace(gap, site_name=place.label() if place else gap.site_name,
                   unit_name=unit.label() if unit else gap.unit_name)


def gap_text(gap: Gap) -> str:
    """One sentence naming the site, the unit, the time and the shortfall (said to be a
    planned movement's when it is), in the reader's language."""
    text = _gap_text(_in_language(gap))
    return _("Planned movement: %(gap)s") % {"gap": text} if gap.planned else text


def _gap_text(gap: Gap) -> str:
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
