"""Gaps, bound names and infeasibility reasons in the reader's language: the web, API and
CLI show a gap from its kind and parameters through gettext, never the planner's English
`str(gap)`, and why a problem cannot be planned from the planner's reason code and
parameters, never its English `explanation`; the web shows the planner's bounds by
translated names (the plan's data keeps the planner's names, which the API and the JSON
plan use as keys)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format, localize
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

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
    carry the names its problem was written with. A gap of what happened names its site
    by the place's code; a plan's, by the guard post's key (the planner's site)."""
    from sitroom.core.models import Place

    from .models import GuardPost, Unit

    place = Place.objects.filter(code=gap.site_id).only(
        "name", "name_kk", "name_ru").first()
    if place is None:
        post = GuardPost.objects.filter(uid=gap.site_id).select_related("place").first()
        place = post.place if post else None
    unit = Unit.objects.filter(code=gap.unit_id).only("name", "name_kk", "name_ru").first()
    return replace(gap, site_name=place.label() if place else gap.site_name,
                   unit_name=unit.label() if unit else gap.unit_name)


def gap_text(gap: Gap, *, look_up: bool = True) -> str:
    """One sentence naming the site, the unit, the time and the shortfall (said to be a
    planned movement's when it is), in the reader's language. `look_up`: name the site and
    unit as the database knows them in the reader's language (off where there may be no
    database, e.g. `sitroom plan-withdrawal --problem`: the problem's names are kept)."""
    text = _gap_text(_in_language(gap) if look_up else gap)
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


def gap_out(gap: Gap, *, look_up: bool = True) -> dict:
    """A gap for the API and the command's JSON: its kind and parameters, and the
    sentence in the reader's language."""
    data = gap.to_json()
    data["message"] = gap_text(gap, look_up=look_up)
    return data


# --- why a problem cannot be planned ---------------------------------------------------

REASON_TEXT = {
    "start-without-offset": gettext_lazy("the start time has no UTC offset"),
    "fleet-unknown-type": gettext_lazy("fleet: aircraft type %(aircraft)s is not in the "
                                       "list of aircraft types"),
    "airfield-no-ground": gettext_lazy("airfield %(airfield)s: the maximum number of "
                                       "aircraft on the ground must be at least 1"),
    "airfield-half-hours": gettext_lazy("airfield %(airfield)s: give both its opening and "
                                        "its closing time, or neither"),
    "unit-road-time-zero": gettext_lazy("unit %(unit)s may leave by road, but its road "
                                        "time home is 0 min"),
    "unit-airfield-not-apoe": gettext_lazy("unit %(unit)s: its departure airfield "
                                           "%(airfield)s is not among the airfields in "
                                           "country"),
    "unit-destination-not-apod": gettext_lazy("unit %(unit)s: its home airfield "
                                              "%(destination)s is not among the home "
                                              "airfields"),
    "unit-no-seats": gettext_lazy("unit %(unit)s: no aircraft type with airframes "
                                  "available has seats"),
    "vehicle-fits-no-aircraft": gettext_lazy("vehicle %(vehicle)s (%(kind)s) of unit "
                                             "%(unit)s fits no aircraft type with airframes "
                                             "available: %(why)s"),
    "site-unknown-unit": gettext_lazy("site %(site)s: guarded by unit %(unit)s, which is "
                                      "not in the force"),
    "site-without-relief": gettext_lazy("site %(site)s: no national relief is planned, so "
                                        "unit %(unit)s can never hand it over and leave"),
}

MISFIT_TEXT = {
    "width": gettext_lazy("width %(value)s m exceeds the %(aircraft)s floor width of "
                          "%(limit)s m"),
    "height": gettext_lazy("height %(value)s m exceeds the %(aircraft)s hold height of "
                           "%(limit)s m"),
    "length": gettext_lazy("length %(value)s m exceeds the %(aircraft)s floor length of "
                           "%(limit)s m"),
    "weight": gettext_lazy("weight %(value)s kg exceeds the %(aircraft)s allowable cabin "
                           "load of %(limit)s kg"),
}


def _named(code: str, name: str, kind: str, look_up: bool) -> str:
    """"Name (CODE)" with the name in the reader's language when the database knows the
    unit (or the place, or the guard post of the site)."""
    if look_up and code:
        from sitroom.core.models import Place

        from .models import GuardPost, Unit

        found = None
        if kind == "unit":
            found = Unit.objects.filter(code=code).first()
        else:
            found = Place.objects.filter(code=code).first()
            if found is None:
                post = GuardPost.objects.filter(uid=code).select_related("place").first()
                found = post.place if post else None
        if found is not None:
            name = found.label()
    return f"{name} ({code})" if name and name != code else str(code)


def reason_text(reason: dict | None, explanation: str = "", *, look_up: bool = True) -> str:
    """Why the planner found no plan, in the reader's language, from its reason code and
    parameters (`planner.common.REASONS`); the planner's English `explanation` only for a
    plan stored before reasons had codes. `look_up`: name units and sites as the database
    knows them in the reader's language (off where there may be no database)."""
    code = (reason or {}).get("code")
    if code not in REASON_TEXT:
        return explanation
    params = dict((reason or {}).get("params") or {})
    if "unit" in params:
        params["unit"] = _named(params["unit"], params.get("unit_name", ""), "unit", look_up)
    if "site" in params:
        params["site"] = _named(params["site"], params.get("site_name", ""), "site", look_up)
    if code == "vehicle-fits-no-aircraft":
        params["why"] = "; ".join(
            str(MISFIT_TEXT[m["dimension"]]) % {"aircraft": m["aircraft"],
                                                "value": localize(m["value"]),
                                                "limit": localize(m["limit"])}
            for m in params.get("misfits") or [] if m.get("dimension") in MISFIT_TEXT
        ) or _("no aircraft type has airframes available")
    try:
        return str(REASON_TEXT[code]) % params
    except (KeyError, TypeError, ValueError):
        return explanation


def plan_reason_text(data: dict | None, *, look_up: bool = True) -> str:
    """Why a stored plan (its JSON) is infeasible, in the reader's language ("" when it is
    not)."""
    data = data or {}
    if data.get("status") != "infeasible":
        return ""
    return reason_text(data.get("reason"), data.get("explanation") or "", look_up=look_up)


# --- loads over the aircraft's limits ----------------------------------------------------

def metres(value: float) -> str:
    """Metres to the centimetre, in the reader's number format, without a trailing ".0"."""
    value = round(value, 2)
    return localize(int(value) if value == int(value) else value)


def load_warning_text(w: dict) -> str:
    """A flight over its aircraft's seats, allowable cabin load or floor (or with a
    vehicle too big for its hold), in one sentence naming the movement, the figure and the
    limit, in the reader's language. The floor's sentence states the rule (lanes as many
    as the floor's width gives the narrowest vehicle; see `capacity`)."""
    p = {"movement": w["movement_label"], "aircraft": w["aircraft_name"],
         "value": w["value"], "limit": w["limit"], "person": w.get("person_kg")}
    if w["code"] == "seats":
        if w.get("with_vehicles"):
            return ngettext(
                "Movement %(movement)s carries %(value)d person: the %(aircraft)s seats "
                "at most %(limit)d with these vehicles aboard",
                "Movement %(movement)s carries %(value)d people: the %(aircraft)s seats "
                "at most %(limit)d with these vehicles aboard", w["value"]) % p
        return ngettext(
            "Movement %(movement)s carries %(value)d person: the %(aircraft)s seats at "
            "most %(limit)d",
            "Movement %(movement)s carries %(value)d people: the %(aircraft)s seats at "
            "most %(limit)d", w["value"]) % p
    if w["code"] == "floor":
        p |= {"value": metres(w["value"]), "limit": metres(w["limit"]),
              "gap": metres(w["gap_m"]), "lanes": w["lanes"],
              "floor": metres(w["limit"] / w["lanes"])}
        return ngettext(
            "Movement %(movement)s carries vehicles needing %(value)s m of floor (their "
            "lengths and %(gap)s m between vehicles): the %(aircraft)s floor takes "
            "%(limit)s m, in %(lanes)d lane of %(floor)s m (as many as its width gives "
            "the narrowest vehicle aboard)",
            "Movement %(movement)s carries vehicles needing %(value)s m of floor (their "
            "lengths and %(gap)s m between vehicles): the %(aircraft)s floor takes "
            "%(limit)s m, in %(lanes)d lanes of %(floor)s m side by side (as many as its "
            "width gives the narrowest vehicle aboard)", w["lanes"]) % p
    if w["code"] == "outsize":
        p |= {"value": metres(w["value"]), "limit": metres(w["limit"]),
              "vehicle": w["vehicle"]}
        if w["dimension"] == "width":
            return _("Movement %(movement)s carries a %(vehicle)s %(value)s m wide: the "
                     "%(aircraft)s floor is %(limit)s m wide") % p
        if w["dimension"] == "height":
            return _("Movement %(movement)s carries a %(vehicle)s %(value)s m high: the "
                     "%(aircraft)s hold is %(limit)s m high") % p
        return _("Movement %(movement)s carries a %(vehicle)s %(value)s m long: the "
                 "%(aircraft)s floor is %(limit)s m long") % p
    return _("Movement %(movement)s carries %(value)d kg (vehicles and %(person)d kg a "
             "person): the allowable cabin load of the %(aircraft)s is %(limit)d kg") % p


def load_warning_out(w: dict) -> dict:
    """A load warning for the API: its figures and the sentence in the reader's
    language."""
    return w | {"message": load_warning_text(w)}


# --- a problem file that cannot be read --------------------------------------------------

FORMAT_TEXT = {
    "not-json": gettext_lazy("not JSON (line %(line)s, column %(column)s)"),
    "not-object": gettext_lazy("expected an object, got %(got)s"),
    "unknown-fields": gettext_lazy("unknown field(s): %(fields)s"),
    "missing": gettext_lazy("missing"),
    "not-list": gettext_lazy("expected a list"),
    "not-datetime": gettext_lazy("not an ISO 8601 time: %(value)s"),
    "no-offset": gettext_lazy("the time %(value)s has no UTC offset"),
    "not-time": gettext_lazy("not a time of day: %(value)s"),
    "not-integer": gettext_lazy("expected a whole number, got %(value)s"),
    "not-number": gettext_lazy("expected a number, got %(value)s"),
    "not-string": gettext_lazy("expected text, got %(value)s"),
    "not-bool": gettext_lazy("expected true or false, got %(value)s"),
}


def problem_error_text(exc) -> str:
    """Why a problem file cannot be read (a `planner.model.ProblemFormatError`), naming
    the field by its path in the file, in the reader's language."""
    label = FORMAT_TEXT.get(getattr(exc, "code", None))
    if label is None:
        return str(exc)
    try:
        text = str(label) % exc.params
    except (KeyError, TypeError, ValueError):
        return str(exc)
    return f"{exc.field}: {text}" if exc.field else text
