"""Forms of the security situation pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from sitroom.core import filestore
from sitroom.core.errors import InvalidInput
from sitroom.core.models import Area, Organization
from sitroom.web.forms import AreaChoiceField, LocalDateTimeField, PeriodFilterForm

from .choices import (
    POSTURE_STATES,
    CasualtyCategory,
    CasualtyGroup,
    IncidentStatus,
    PostureKind,
    Severity,
)
from .models import IncidentType
from .queries import ORDERINGS, IncidentFilter


def _type_choices(sub: bool):
    qs = IncidentType.objects.filter(parent__isnull=not sub).order_by("position")
    return [("", _("— any —") if not sub else _("— none —"))] + [
        (t.code, t.label()) for t in qs]


def _subtype_groups():
    """Sub-types under their type (one group each), so that a sub-type is chosen from
    its own type's list."""
    groups: dict[int, tuple[str, list]] = {}
    for t in IncidentType.objects.select_related("parent").filter(
            parent__isnull=False).order_by("parent__position", "position"):
        groups.setdefault(t.parent_id, (t.parent.label(), []))[1].append((t.code, t.label()))
    return [("", _("— none —")), *groups.values()]


class IncidentFilterForm(PeriodFilterForm):
    area = AreaChoiceField(label=_("Area"), queryset=Area.objects.none(), to_field_name="code",
                           required=False, empty_label=_("All areas"))
    type = forms.ChoiceField(label=_("Type"), required=False)
    status = forms.MultipleChoiceField(label=_("Status"), required=False,
                                       choices=IncidentStatus.choices,
                                       widget=forms.CheckboxSelectMultiple)
    min_severity = forms.TypedChoiceField(label=_("Severity at least"), required=False,
                                          coerce=int, empty_value=None,
                                          choices=[("", "—")] + list(Severity.choices))
    since = LocalDateTimeField(label=_("From"), required=False)
    until = LocalDateTimeField(label=_("To"), required=False)
    q = forms.CharField(label=_("Text"), required=False, max_length=200)
    documents = forms.TypedChoiceField(
        label=_("Documents"), required=False, empty_value=None,
        coerce=lambda v: {"with": True, "without": False}[v],
        choices=[("", "—"), ("with", _("With documents")),
                 ("without", _("Without documents"))])
    order = forms.ChoiceField(label=_("Sort by"), required=False, choices=[
        ("-occurred_at", _("Newest first")), ("occurred_at", _("Oldest first")),
        ("-severity", _("Most severe first")), ("-fatalities", _("Most fatalities first")),
        ("-recorded_at", _("Latest reported first"))])
    as_of = LocalDateTimeField(label=_("As of"), required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = Area.objects.visible_to(user).order_by("path")
        self.fields["type"].choices = _type_choices(sub=False)

    def _valid_values(self) -> dict:
        """The filters that are valid: one bad field leaves out itself, not the others."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return self.cleaned_data

    def ignored_filters(self) -> list[str]:
        """Labels of the filters left out because of an error."""
        if not self.is_bound:
            return []
        return [str(self.fields[name].label) for name in self.fields if name in self.errors]

    def to_filter(self) -> IncidentFilter:
        d = self._valid_values()
        return IncidentFilter(area=d.get("area"), type=d.get("type") or None,
                              statuses=d.get("status") or [], since=d.get("since"),
                              until=d.get("until"), q=d.get("q") or None,
                              min_severity=d.get("min_severity"), as_of=d.get("as_of"),
                              documents=d.get("documents"))

    def ordering(self) -> str:
        d = self._valid_values()
        return d.get("order") if d.get("order") in ORDERINGS else "-occurred_at"


class IncidentForm(forms.Form):
    """Report or correct an incident. Click the map to place it."""

    type = forms.ChoiceField(label=_("Type"))
    subtype = forms.ChoiceField(label=_("Sub-type"), required=False)
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    occurred_at = LocalDateTimeField(label=_("When it happened"), required=False,
                                     help_text=_("Leave empty for now."))
    lat = forms.FloatField(label=_("Latitude"), required=False, min_value=-90, max_value=90)
    lon = forms.FloatField(label=_("Longitude"), required=False, min_value=-180,
                           max_value=180)
    area = AreaChoiceField(label=_("Area"), queryset=Area.objects.none(), to_field_name="code",
                           required=False, empty_label=_("— from the point —"))
    severity = forms.TypedChoiceField(label=_("Severity"), coerce=int,
                                      choices=Severity.choices, initial=Severity.MODERATE)
    fatalities = forms.IntegerField(label=_("Fatalities"), required=False, min_value=0)
    injured = forms.IntegerField(label=_("Injured"), required=False, min_value=0)
    actors = forms.CharField(label=_("Actors"), required=False,
                             help_text=_("Separate with semicolons."))
    sources = forms.CharField(label=_("Sources"), required=False,
                              widget=forms.Textarea(attrs={"rows": 2}),
                              help_text=_("Links or documents, one per line."))
    tags = forms.CharField(label=_("Tags"), required=False,
                           help_text=_("Separate with commas."))
    estimate = forms.BooleanField(label=_("Figures are estimates"), required=False)
    document = forms.FileField(
        label=_("Photo or document (optional)"), required=False,
        help_text=_("Attached to the report when it is saved; more can be added on its page."))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, user=None, new=True, **kwargs):
        super().__init__(*args, **kwargs)
        if new:
            self.fields["document"].widget.attrs.update(filestore.input_attrs())
        else:  # a correction changes the facts; documents are added on the report's page
            del self.fields["document"]
        self.fields["area"].queryset = Area.objects.visible_to(user).order_by("path")
        # No type chosen for the reporter: a hurried report is not filed as a battle.
        self.fields["type"].choices = [("", _("— choose —")), *_type_choices(sub=False)[1:]]
        self.fields["subtype"].choices = _subtype_groups()

    def clean_document(self):
        """A file of a type not taken, or too large, is named here, before anything is
        written (the bytes themselves are checked again when kept)."""
        upload = self.cleaned_data.get("document")
        if upload is not None:
            try:
                filestore.check_upload(upload.name or "", upload.size)
            except InvalidInput as exc:
                raise forms.ValidationError(exc.errors["file"]) from None
        return upload

    def values(self) -> dict:
        d = self.cleaned_data
        return {
            "type": d["type"], "subtype": d.get("subtype") or None, "title": d["title"],
            "description": d.get("description", ""), "occurred_at": d.get("occurred_at"),
            "lat": d.get("lat"), "lon": d.get("lon"),
            "area": d["area"].code if d.get("area") else None,
            "severity": d["severity"], "fatalities": d.get("fatalities"),
            "injured": d.get("injured"),
            "actors": [a.strip() for a in d.get("actors", "").split(";") if a.strip()],
            "sources": [s.strip() for s in d.get("sources", "").splitlines() if s.strip()],
            "tags": [t.strip() for t in d.get("tags", "").split(",") if t.strip()],
            "estimate": d.get("estimate", False),
        }

    @classmethod
    def initial_for(cls, incident) -> dict:
        return {
            "type": incident.type.code, "subtype": incident.subtype.code if incident.subtype_id
            else "", "title": incident.title, "description": incident.description,
            "occurred_at": incident.occurred_at, "lat": incident.lat, "lon": incident.lon,
            "area": incident.area.code, "severity": incident.severity,
            "fatalities": incident.fatalities, "injured": incident.injured,
            "actors": "; ".join(incident.actors), "sources": "\n".join(incident.sources),
            "tags": ", ".join(incident.tags), "estimate": incident.estimate,
            "version": incident.version,
        }


class BoardForm(forms.Form):
    as_of = LocalDateTimeField(label=_("Board as of"), required=False)


class PostureForm(forms.Form):
    """Record that a measure or state changed in an area (declared, lifted, restored…)."""

    prefix = "posture"
    change = forms.ChoiceField(label=pgettext_lazy("a recorded change (noun)", "Change"))
    effective_at = LocalDateTimeField(label=_("Effective from"))
    hours = forms.CharField(label=_("Hours"), required=False, max_length=40,
                            help_text=_("for a curfew, e.g. 23:00-07:00"))
    decree = forms.CharField(label=_("Decree reference"), required=False, max_length=300)
    source = forms.CharField(label=_("Source"), required=False)
    estimate = forms.BooleanField(label=_("Date or facts are estimates"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["change"].choices = [
            (str(kind_label), [(f"{kind}:{state}", f"{kind_label}: {label}")
                               for state, label in POSTURE_STATES[kind].items()])
            for kind, kind_label in PostureKind.choices]


class CasualtyForm(forms.Form):
    """Record one reporting body's figure for the area."""

    prefix = "figure"
    reporting_body = forms.ModelChoiceField(label=_("Reporting body"),
                                            queryset=Organization.objects.all(),
                                            to_field_name="code")
    category = forms.ChoiceField(label=_("Category"), choices=CasualtyCategory.choices)
    group = forms.ChoiceField(label=_("Group"), choices=CasualtyGroup.choices)
    count = forms.IntegerField(label=_("Count"), min_value=0)
    as_of = LocalDateTimeField(label=_("Figure as of"))
    source = forms.CharField(label=_("Source"), required=False)
    estimate = forms.BooleanField(label=_("Estimate"), required=False)
