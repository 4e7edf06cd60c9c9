"""Forms of the operating picture: timeline filters, as-of, posting an entry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from urllib.parse import urlencode

from django import forms
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sitroom.core.choices import JOURNAL_KINDS, JournalKind, JournalSource
from sitroom.core.models import Area, Place
from sitroom.core.queries import JournalFilter

LOCAL_INPUT = "%Y-%m-%dT%H:%M"
AS_OF_PARAM = "%Y-%m-%dT%H:%M:%S"  # links that keep a page's moment: local, to the second


class LocalDateTimeField(forms.DateTimeField):
    """A datetime-local input, read in the deployment's time zone."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT)
    input_formats = [LOCAL_INPUT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"]


class AreaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Area) -> str:
        indent = "\u2003" * obj.path.count("/")
        return f"{indent[:-1]}{obj.label()}"


class PeriodFilterForm(forms.Form):
    """A filter form with a From (`since`) and a To (`until`): To may not come first."""

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("must not be earlier than From"))
        return data


class TimelineFilterForm(PeriodFilterForm):
    area = AreaChoiceField(label=_("Area"), queryset=Area.objects.none(), to_field_name="code",
                           required=False, empty_label=_("All areas"))
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    source = forms.ChoiceField(label=_("Source"), required=False)
    since = LocalDateTimeField(label=_("From"), required=False)
    until = LocalDateTimeField(label=_("To"), required=False)
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    as_of = LocalDateTimeField(label=_("As of"), required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = Area.objects.visible_to(user).order_by("path")
        self.fields["kind"].choices = [("", _("All kinds"))] + [
            (k, v) for k, v in JOURNAL_KINDS.items()]
        self.fields["source"].choices = [("", _("All sources"))] + list(JournalSource.choices)

    def to_filter(self) -> JournalFilter:
        d = self.cleaned_data if self.is_valid() else {}
        return JournalFilter(
            area=d.get("area"), kind=d.get("kind") or None, source=d.get("source") or None,
            since=d.get("since"), until=d.get("until"), q=d.get("q") or None,
            as_of=d.get("as_of"))

    def live_query(self) -> str:
        """The filters the live stream applies on the server (all but the search text,
        which the page checks against the box as it reads now)."""
        from urllib.parse import urlencode

        d = self.cleaned_data if self.is_valid() else {}

        def moment(value):
            return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M:%S") if value else ""

        params = {k: v for k, v in (("area", d.get("area").code if d.get("area") else ""),
                                    ("kind", d.get("kind")), ("source", d.get("source")),
                                    ("since", moment(d.get("since"))),
                                    ("until", moment(d.get("until")))) if v}
        return urlencode(params)


class EntryForm(forms.Form):
    """Record a journal entry. Prefixed, so its fields never clash with the filters'."""

    prefix = "entry"
    kind = forms.ChoiceField(label=_("Kind"), initial=JournalKind.NOTE)
    summary = forms.CharField(label=_("What happened"), max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 3}))
    area = AreaChoiceField(label=_("Area"), queryset=Area.objects.none(), to_field_name="code",
                           required=False, empty_label=_("— choose —"))
    place = forms.ModelChoiceField(label=_("Place"), queryset=Place.objects.none(),
                                   to_field_name="code", required=False,
                                   empty_label=_("— none —"))
    occurred_at = LocalDateTimeField(label=_("When it happened"), required=False,
                                     help_text=_("Leave empty for now."))
    estimate = forms.BooleanField(label=_("Figures are estimates"), required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = Area.objects.visible_to(user).order_by("path")
        self.fields["place"].queryset = Place.objects.visible_to(user).order_by("name")
        self.fields["kind"].choices = [(k, v) for k, v in JOURNAL_KINDS.items()
                                       if k in {"note", "event", "decision", "statement",
                                                "movement", "casualties", "infrastructure"}]

    def clean(self):
        data = super().clean()
        if not data.get("area") and not data.get("place"):
            self.add_error("area", _("Choose the area (or place) this is about."))
        return data


def as_of_from(request) -> datetime | None:
    """The as-of moment in the query string (local time), or None for now."""
    raw = request.GET.get("as_of")
    if not raw:
        return None
    field = LocalDateTimeField(required=False)
    try:
        value = field.clean(raw)
    except forms.ValidationError:
        return None
    return value if value is None or timezone.is_aware(value) else timezone.make_aware(value)


def as_of_param(as_of: datetime) -> str:
    """The `as_of` value a link carries to keep a page's moment (local time, to the second:
    a page as of 12:00:30 links to 12:00:30, not 12:00)."""
    return timezone.localtime(as_of).strftime(AS_OF_PARAM)


def as_of_query(as_of: datetime | None) -> str:
    """"?as_of=..." for links that keep a page's moment; "" for now."""
    return "" if as_of is None else "?" + urlencode({"as_of": as_of_param(as_of)})


def refuses_malformed_as_of(view: Callable) -> Callable:
    """A page that can be seen as of a moment answers 400, naming the field and the form
    it takes, when `as_of` is given but is not a date and time: shown silently as now, a
    mistyped moment would pass today's board off as the one asked for."""

    @wraps(view)
    def checked(request, *args, **kwargs):
        if request.GET.get("as_of") and as_of_from(request) is None:
            rest = request.GET.copy()
            rest.pop("as_of")
            now_url = request.path + (f"?{rest.urlencode()}" if rest else "")
            return render(request, "400.html", status=400, context={
                "reason": _("As of: not a date and time (write it as 2022-01-06T12:00)."),
                "now_url": now_url})
        return view(request, *args, **kwargs)

    return checked
