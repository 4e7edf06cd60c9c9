"""Forms of the force pages: record a movement, start a planner run."""

from __future__ import annotations

import re

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from sitroom.core.models import Place
from sitroom.web.forms import LocalDateTimeField

from .choices import AirfieldRole, MovementKind
from .models import AircraftType, Airfield, GuardPost, Unit

MANIFEST_ROWS = 4
_PAIR = re.compile(r"^\s*(.+?)\s*[=:×x]\s*(\d+)\s*$")


class MovementForm(forms.Form):
    """A flight or a road convoy, planned or flown, with up to four units aboard. Naming
    the approved plan's sortie it flies links it to the plan (for the deviations) and
    fills what is left empty (aircraft, airfields, planned times, loads) from the plan."""

    sortie = forms.ChoiceField(label=_("Sortie of the approved plan"), required=False,
                               help_text=_("Empty fields are filled from the plan."))
    kind = forms.ChoiceField(label=_("Kind"), choices=MovementKind.choices)
    label = forms.CharField(label=_("Call sign or label"), max_length=100, required=False)
    aircraft_type = forms.ChoiceField(label=_("Aircraft type"), required=False)
    origin = forms.ChoiceField(label=_("From airfield"), required=False)
    origin_place = forms.ChoiceField(label=_("From site (convoy)"), required=False)
    destination = forms.ChoiceField(label=_("To airfield"), required=False)
    destination_text = forms.CharField(label=_("Destination (text)"), max_length=200,
                                       required=False)
    planned_departure = LocalDateTimeField(label=_("Planned departure"), required=False)
    planned_arrival = LocalDateTimeField(label=_("Planned arrival"), required=False)
    actual_departure = LocalDateTimeField(label=_("Actual departure"), required=False)
    actual_arrival = LocalDateTimeField(label=_("Actual arrival"), required=False)
    note = forms.CharField(label=_("Note"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user=None, plan=None, **kwargs):
        super().__init__(*args, **kwargs)
        none = [("", _("— none —"))]
        self.plan_sorties = {s.get("id"): s for s in (plan.plan or {}).get("sorties") or []
                             } if plan is not None else {}
        self.vehicle_kinds = {v.get("id"): v.get("kind")
                              for u in ((plan.problem or {}).get("units") or [] if plan else [])
                              for v in u.get("vehicles") or []}
        self.fields["sortie"].choices = none + [
            (sid, _sortie_label(s)) for sid, s in self.plan_sorties.items()]
        if not self.plan_sorties:
            del self.fields["sortie"]
        self.fields["aircraft_type"].choices = none + sorted(
            ((t.code, t.label()) for t in AircraftType.objects.all()),
            key=lambda choice: choice[1].casefold())
        apoe = Airfield.objects.filter(role=AirfieldRole.APOE).order_by("name")
        self.fields["origin"].choices = none + [(a.code, a.label()) for a in apoe]
        self.fields["destination"].choices = none + [
            (a.code, a.label()) for a in Airfield.objects.order_by("role", "name")]
        site_ids = GuardPost.objects.visible_to(user).known_at(None).values("place_id")
        self.fields["origin_place"].choices = none + [
            (p.code, p.label()) for p in Place.objects.filter(pk__in=site_ids).order_by("code")]
        units = [("", _("— unit —"))] + [
            (u.code, f"{u.code} — {u.label()}") for u in Unit.objects.visible_to(user)]
        for i in range(1, MANIFEST_ROWS + 1):
            self.fields[f"unit_{i}"] = forms.ChoiceField(
                label=_("Unit %(n)d") % {"n": i}, choices=units, required=False)
            self.fields[f"personnel_{i}"] = forms.IntegerField(
                label=_("Personnel %(n)d") % {"n": i}, min_value=0, required=False)
            self.fields[f"vehicles_{i}"] = forms.CharField(
                label=_("Vehicles %(n)d") % {"n": i}, required=False, max_length=500,
                help_text=_("kind=count, separated by “;”, e.g. “BTR-82A=2; KamAZ-5350=1”"))

    def clean(self):
        data = super().clean()
        sortie = self.plan_sorties.get(data.get("sortie") or "")
        if sortie is not None:
            self._fill_from(sortie, data)
        manifest = []
        for i in range(1, MANIFEST_ROWS + 1):
            unit = data.get(f"unit_{i}")
            people = data.get(f"personnel_{i}")
            raw = data.get(f"vehicles_{i}") or ""
            if not unit:
                if people or raw.strip():
                    self.add_error(f"unit_{i}", _("Choose the unit these people and "
                                                  "vehicles belong to."))
                continue
            vehicles: dict[str, int] = {}
            for part in filter(None, (p.strip() for p in raw.split(";"))):
                match = _PAIR.match(part)
                if match is None:
                    self.add_error(f"vehicles_{i}", _("“%(part)s” is not kind=count")
                                   % {"part": part})
                    continue
                vehicles[match.group(1)] = vehicles.get(match.group(1), 0) + \
                    int(match.group(2))
            manifest.append({"unit": unit, "personnel": people or 0, "vehicles": vehicles})
        if not manifest and not any(f"unit_{i}" in self.errors
                                    for i in range(1, MANIFEST_ROWS + 1)):
            self.add_error("unit_1", _("List at least one unit aboard."))
        data["manifest"] = manifest
        return data

    def _fill_from(self, sortie: dict, data: dict) -> None:
        """What the plan says of the sortie, in the fields left empty."""
        for key, value in (("aircraft_type", sortie.get("aircraft_type")),
                           ("origin", sortie.get("origin")),
                           ("destination", sortie.get("destination")),
                           ("planned_departure", _moment(sortie.get("depart"))),
                           ("planned_arrival", _moment(sortie.get("arrive")))):
            if not data.get(key) and value:
                data[key] = value
        data["kind"] = MovementKind.FLIGHT
        if not any(data.get(f"unit_{i}") for i in range(1, MANIFEST_ROWS + 1)):
            for i, load in enumerate((sortie.get("units") or [])[:MANIFEST_ROWS], start=1):
                data[f"unit_{i}"] = load.get("unit")
                data[f"personnel_{i}"] = load.get("personnel") or 0
                kinds: dict[str, int] = {}
                for vid in load.get("vehicles") or []:
                    kind = self.vehicle_kinds.get(vid)
                    if kind:
                        kinds[kind] = kinds.get(kind, 0) + 1
                data[f"vehicles_{i}"] = "; ".join(f"{k}={n}" for k, n in kinds.items())

    def values(self) -> dict:
        """The data `services.record_movement` takes."""
        d = self.cleaned_data
        out = {k: d.get(k) or None for k in (
            "kind", "label", "aircraft_type", "origin", "origin_place", "destination",
            "destination_text", "planned_departure", "planned_arrival", "actual_departure",
            "actual_arrival", "note", "sortie")}
        out["manifest"] = d["manifest"]
        for key in ("label", "destination_text", "note"):
            out[key] = out[key] or ""
        return out

    def field_for(self, name: str) -> str | None:
        """The form field a service error key names (manifest[0].personnel → personnel_1)."""
        match = re.match(r"manifest\[(\d+)\](?:\.(unit|personnel|vehicles))?", name)
        if match:
            rows = [i for i in range(1, MANIFEST_ROWS + 1)
                    if self.cleaned_data.get(f"unit_{i}")]
            index = int(match.group(1))
            if index < len(rows):
                return f"{match.group(2) or 'unit'}_{rows[index]}"
            return None
        if name == "manifest":
            return "unit_1"
        return name if name in self.fields else None


def _moment(text: str | None):
    from datetime import datetime

    return datetime.fromisoformat(text) if text else None


def _sortie_label(s: dict) -> str:
    when = _moment(s.get("depart"))
    loads = ", ".join(u.get("unit", "") for u in s.get("units") or [])
    return (f"{s.get('id')} · {s.get('aircraft_type')} · {s.get('origin')}→"
            f"{s.get('destination')} · {date_format(timezone.localtime(when), 'j M H:i')}"
            f" · {loads}") if when else str(s.get("id"))


class PlanRunForm(forms.Form):
    start = LocalDateTimeField(label=_("Plan from"),
                               help_text=_("The force in country at this moment is planned."))
    time_limit = forms.IntegerField(label=_("Time limit (s)"), min_value=1, max_value=600,
                                    initial=20)


# --- guarded sites: guard posts and national reliefs --------------------------------------

def _place_choices(user):
    none = [("", _("— site —"))]
    return none + [(p.code, f"{p.label()} ({p.code})")
                   for p in Place.objects.visible_to(user).order_by("code")]


class GuardPostForm(forms.Form):
    """A unit of the force guards a site from a moment (until another, when known)."""

    unit = forms.ChoiceField(label=pgettext_lazy("military", "Unit"))
    place = forms.ChoiceField(label=_("Site"))
    start = LocalDateTimeField(label=_("Guards from"))
    end = LocalDateTimeField(label=_("Guards until"), required=False,
                             help_text=_("Empty while the unit still guards the site."))
    travel_min = forms.IntegerField(label=_("Road time to the airfield (min)"), min_value=0,
                                    max_value=24 * 60, initial=60)
    overlap_min = forms.IntegerField(label=_("Required overlap with the relief (min)"),
                                     min_value=0, max_value=24 * 60, required=False,
                                     help_text=_("Empty: the force's rule (60 min)."))
    note = forms.CharField(label=_("Note"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [("", _("— unit —"))] + [
            (u.code, f"{u.code} — {u.label()}") for u in Unit.objects.visible_to(user)]
        self.fields["place"].choices = _place_choices(user)

    def values(self) -> dict:
        """The data `services.record_guard_post` takes."""
        d = self.cleaned_data
        return {"unit": d["unit"], "place": d["place"], "start": d["start"],
                "end": d.get("end"), "travel_min": d["travel_min"],
                "overlap_min": d.get("overlap_min"), "note": d.get("note") or ""}


class GuardPostEndForm(forms.Form):
    """The moment a unit stops guarding a site."""

    end = LocalDateTimeField(label=_("Guards until"))


class ReliefForm(forms.Form):
    """A national unit takes over the guard of a site from a moment; its name in three
    languages (Russian and Kazakh fall back to English)."""

    place = forms.ChoiceField(label=_("Site"))
    relieving_unit = forms.CharField(label=_("Relieving unit"), max_length=200)
    relieving_unit_ru = forms.CharField(label=_("Relieving unit (Russian)"), max_length=200,
                                        required=False)
    relieving_unit_kk = forms.CharField(label=_("Relieving unit (Kazakh)"), max_length=200,
                                        required=False)
    start = LocalDateTimeField(label=_("Guards from"))
    note = forms.CharField(label=_("Note"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].choices = _place_choices(user)

    def values(self) -> dict:
        """The data `services.record_relief` takes."""
        d = self.cleaned_data
        return {k: d.get(k) or "" for k in ("place", "relieving_unit", "relieving_unit_ru",
                                              "relieving_unit_kk", "note")} | {
            "start": d["start"]}
