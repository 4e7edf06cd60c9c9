"""Pages of the security situation: incident list, map, detail, forms; the country board."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.forms.utils import flatatt
from django.http import Http404, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sitroom.core import filestore
from sitroom.core.actors import Actor
from sitroom.core.choices import JournalSource
from sitroom.core.errors import InvalidInput, NotAllowed
from sitroom.core.journal import chain_head
from sitroom.core.models import Area, as_uid
from sitroom.core.permissions import (
    FIGURES_RECORD,
    INCIDENTS_MANAGE,
    INCIDENTS_REPORT,
    ROLE_ACTIONS,
    can,
    scope_of,
)
from sitroom.web.forms import as_of_from, as_of_query, refuses_malformed_as_of
from sitroom.web.htmx import wants_part

from . import queries, services
from .api_exchange import document_response
from .choices import POSTURE_STATES, STATUS_ACTIONS, PostureKind
from .documents import (
    add_document,
    attached,
    document_of,
    documents_of,
    with_document_counts,
    with_rights,
    withdraw_document,
)
from .exchange import import_incidents
from .forms import BoardForm, CasualtyForm, IncidentFilterForm, IncidentForm, PostureForm
from .models import Incident

WEB = JournalSource.WEB
PAGE = 50


def _rights(user) -> set[str]:
    return ROLE_ACTIONS.get(scope_of(user).role, set())


def _incident_or_404(user, uid: str) -> Incident:
    try:
        found = queries.incidents(user, queries.IncidentFilter(include_merged=True)).filter(
            uid=uid).first()
    except Exception:  # malformed uuid
        found = None
    if found is None:
        raise Http404(_("No such incident."))
    return found


@login_required
def incident_list(request):
    """The incident log: filters, sorting, bulk actions, the map; live.

    The list partial carries everything that follows the filters — the count, the export
    links and the map's query — so an htmx filter change updates them all at once."""
    head = chain_head()[0]
    form = IncidentFilterForm(request.GET or None, user=request.user)
    flt = form.to_filter()
    page = Paginator(queries.incidents(request.user, flt, form.ordering()), PAGE).get_page(
        request.GET.get("page"))
    page.object_list = with_document_counts(list(page.object_list), flt.as_of)
    query = request.GET.copy()
    query.pop("page", None)
    api_query = filter_query(flt)
    context = {"form": form, "page": page, "query": query.urlencode(), "as_of": flt.as_of,
               "then": as_of_query(flt.as_of),
               "can_manage": INCIDENTS_MANAGE in _rights(request.user),
               "can_report": INCIDENTS_REPORT in _rights(request.user),
               "live_url": f"?kind=incident&after={head}", "map_query": api_query,
               "export_formats": ["csv", "xlsx", "geojson", "kml"],
               "export_query": api_query, "ignored": form.ignored_filters()}
    if context["can_manage"] and not flt.as_of:
        context["assignees"] = queries.assignees(request.user)
        context["nobody"] = NOBODY
    if wants_part(request):
        return render(request, "incidents/partials/list.html", {**context, "oob": True})
    return render(request, "incidents/list.html", context)


def filter_query(flt: queries.IncidentFilter) -> str:
    """The list's filters as the map and export APIs take them: every filter the list
    applies, times as ISO 8601 with the deployment zone's offset (so no browser ever
    reads a typed time in its own zone)."""
    params = {
        "area": flt.area.code if flt.area else None, "type": flt.type,
        "subtype": flt.subtype, "status": ",".join(flt.statuses) or None, "q": flt.q,
        "tag": flt.tag, "min_severity": flt.min_severity, "assignee": flt.assignee,
        "documents": None if flt.documents is None else str(flt.documents).lower(),
        **{k: timezone.localtime(v).isoformat() if v else None for k, v in (
            ("since", flt.since), ("until", flt.until), ("as_of", flt.as_of))}}
    return urlencode({k: v for k, v in params.items() if v})


@login_required
@require_POST
def bulk_action(request):
    ids = request.POST.getlist("ids")
    action = request.POST.get("action", "")
    items = list(queries.incidents(request.user, queries.IncidentFilter(include_merged=True))
                 .filter(uid__in=[i for i in ids if as_uid(i) is not None])) if ids else []
    actor = Actor(user=request.user)
    statuses = STATUS_ACTIONS
    try:
        if not items:
            raise InvalidInput({"ids": [_("Select at least one incident.")]})
        if action == "assign":
            assignee = _bulk_assignee(request.POST.get("assignee", ""))
            services.assign(items, assignee, actor=actor, source=WEB)
            done = (_("%(n)d incident(s) assigned to %(user)s.")
                    % {"n": len(items), "user": assignee} if assignee else
                    _("%(n)d incident(s) unassigned.") % {"n": len(items)})
        elif action in statuses:
            services.set_status(items, statuses[action], actor=actor, source=WEB)
            done = _("%(n)d incident(s) updated.") % {"n": len(items)}
        else:
            raise InvalidInput({"action": [_("Choose an action.")]})
    except InvalidInput as exc:
        messages.error(request, exc.text())
    except NotAllowed:
        return HttpResponseForbidden(_("You may not do this to these incidents."))
    else:
        messages.success(request, done)
    return redirect(_back_to(request))


def _back_to(request) -> str:
    """The page the bulk bar was on: its `next`, only when it is a path of this site (a
    link from elsewhere must not turn the action into a redirect to another host)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("incidents:list")


# The bulk bar's "— nobody (unassign) —": no user name can hold "!" (Django's validator).
NOBODY = "!nobody"


def _bulk_assignee(value: str) -> str | None:
    """The user name chosen in the bulk bar's "Assign to", or None for the explicit
    "nobody". Left on its placeholder, nothing is changed: taking incidents off whoever
    follows them up is a choice of its own, not what a forgotten field does."""
    value = value.strip()
    if not value:
        raise InvalidInput({"assignee": [_(
            "Assign to: choose a person, or “— nobody (unassign) —” to take the selected "
            "incidents off whoever has them.")]})
    return None if value == NOBODY else value


@login_required
def incident_new(request):
    if INCIDENTS_REPORT not in _rights(request.user):
        return HttpResponseForbidden(_("You may not report incidents."))
    form = IncidentForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        actor = Actor(user=request.user)
        try:
            incident, _created = services.report_incident(actor=actor, source=WEB,
                                                          **form.values())
        except InvalidInput as exc:
            _form_errors(form, exc)
        except NotAllowed:
            form.add_error("area", _("You may not report incidents in this area."))
        else:
            messages.success(request, _("Incident reported."))
            _attach_on_report(request, incident, form.cleaned_data.get("document"), actor)
            return redirect("incidents:detail", uid=incident.uid)
    return render(request, "incidents/form.html", {"form": form, "incident": None},
                  status=422 if form.errors else 200)


def _attach_on_report(request, incident: Incident, upload, actor: Actor) -> None:
    """The photo sent with a new report. The report is kept even if the file is not (an
    empty file, say): the page says why, and it can be attached again there."""
    if upload is None:
        return
    try:
        add_document(incident, upload.chunks(), name=upload.name, actor=actor, source=WEB)
    except (InvalidInput, NotAllowed) as exc:
        messages.error(request, _("The file was not attached: %(problem)s") % {
            "problem": exc.text() if isinstance(exc, InvalidInput) else str(exc)})


def _form_errors(form, exc: InvalidInput) -> None:
    for field, msgs in exc.errors.items():
        form.add_error(field if field in form.fields else None, " ".join(msgs))


@login_required
def incident_edit(request, uid):
    incident = _incident_or_404(request.user, uid)
    form = IncidentForm(request.POST or None, user=request.user, new=False,
                        initial=IncidentForm.initial_for(incident))
    conflict = None
    if request.method == "POST" and form.is_valid():
        values = form.values()
        try:
            services.edit_incident(incident, values, actor=Actor(user=request.user),
                                   source=WEB, expected_version=form.cleaned_data["version"])
        except InvalidInput as exc:
            if "version" not in exc.errors:
                _form_errors(form, exc)
            else:
                form, conflict = _edit_conflict(request, incident)
        except NotAllowed as exc:
            return HttpResponseForbidden(str(exc))
        else:
            messages.success(request, _("Incident updated."))
            return redirect("incidents:detail", uid=incident.uid)
    return render(request, "incidents/form.html",
                  {"form": form, "incident": incident, "conflict": conflict},
                  status=422 if form.errors or conflict else 200)


def _edit_conflict(request, incident: Incident) -> tuple[IncidentForm, int]:
    """Someone saved the incident since this form was opened. The form keeps what the user
    typed, now based on the current version: saving again replaces that version with
    theirs, knowingly — the page says so and links to the current version."""
    incident.refresh_from_db(fields=["version"])
    data = request.POST.copy()
    data["version"] = str(incident.version)
    form = IncidentForm(data, user=request.user, new=False,
                        initial=IncidentForm.initial_for(incident))
    form.is_valid()
    return form, incident.version


@login_required
@refuses_malformed_as_of
def incident_detail(request, uid):
    """The incident now, live; or with `as_of` as it stood at that moment: its facts,
    status and area then, the history recorded by then, the documents listed then (one
    withdrawn since says so; who may open its file is decided now), and no actions."""
    incident = _incident_or_404(request.user, uid)
    as_of = as_of_from(request)
    if as_of is None:
        shown, listed = incident, documents_of(incident)
    else:
        shown = queries.incident_then(incident, as_of)
        if shown is None:
            return render(request, "404.html", status=404, context={
                "reason": _("This incident was not known yet at %(t)s.") % {
                    "t": timezone.localtime(as_of).strftime("%Y-%m-%d %H:%M")},
                "now_url": reverse("incidents:detail", args=[incident.uid])})
        listed = attached([incident], as_of)[incident.pk]
    documents = with_rights(request.user, incident, listed)
    for d in documents:  # nothing is withdrawn in the past view
        d.can_withdraw = d.can_withdraw and as_of is None
    return render(request, "incidents/detail.html", {
        "incident": shown, "as_of": as_of, "then": as_of_query(as_of),
        "history": queries.history(incident, as_of),
        "merged": queries.duplicates(incident, as_of),
        "documents": documents,
        "max_mb": settings.DOCUMENT_MAX_MB,
        "file_attrs": flatatt(filestore.input_attrs()),
        "can_attach": as_of is None and can(request.user, INCIDENTS_REPORT,
                                            area=incident.area),
        "can_manage": as_of is None and INCIDENTS_MANAGE in _rights(request.user),
        "live_url": f"?kind=incident&after={chain_head()[0]}",
    })


@login_required
@require_POST
def document_add(request, uid):
    """Attach a file to the incident; back to its page, which lists it."""
    incident = _incident_or_404(request.user, uid)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a file to attach."))
        return redirect("incidents:detail", uid=incident.uid)
    try:
        _doc, created = add_document(
            incident, upload.chunks(), name=upload.name, actor=Actor(user=request.user),
            source=WEB, description=request.POST.get("description", ""))
    except InvalidInput as exc:
        messages.error(request, exc.text())
    except NotAllowed:
        return HttpResponseForbidden(_("You may not add documents to this incident."))
    else:
        messages.success(request, _("Document added.") if created
                         else _("This file is already attached to this incident."))
    return redirect("incidents:detail", uid=incident.uid)


@login_required
def document_file(request, uid, doc):
    incident = _incident_or_404(request.user, uid)
    document = document_of(incident, doc)
    if document is None:
        raise Http404(_("No such document."))
    return document_response(request, incident, document, bool(request.GET.get("download")))


@login_required
@require_POST
def document_withdraw(request, uid, doc):
    """Withdraw a document attached by mistake, with the reason given in the form."""
    incident = _incident_or_404(request.user, uid)
    if document_of(incident, doc) is None:
        raise Http404(_("No such document."))
    try:
        withdraw_document(incident, doc, reason=request.POST.get("reason", ""),
                          actor=Actor(user=request.user), source=WEB)
    except InvalidInput as exc:
        messages.error(request, exc.text())
    except NotAllowed as exc:
        return HttpResponseForbidden(str(exc))
    else:
        messages.success(request, _("Document withdrawn."))
    return redirect("incidents:detail", uid=incident.uid)


@login_required
@require_POST
def incident_merge(request, uid):
    keep = _incident_or_404(request.user, uid)
    raw = (request.POST.get("duplicate") or "").strip().rstrip("/").split("/")[-1]
    try:
        duplicate = _incident_or_404(request.user, raw)
        services.merge(keep, duplicate, actor=Actor(user=request.user), source=WEB)
    except Http404:
        messages.error(request, _("No incident %(id)s to merge.") % {"id": raw})
    except InvalidInput as exc:
        messages.error(request, exc.text())
    except NotAllowed:
        return HttpResponseForbidden(_("You may not merge these incidents."))
    else:
        messages.success(request, _("Duplicate merged; both histories are kept."))
    return redirect("incidents:detail", uid=keep.uid)


@login_required
def incident_import(request):
    """Upload a CSV or XLSX file; see the row-by-row report. All or nothing by default."""
    if INCIDENTS_REPORT not in _rights(request.user):
        return HttpResponseForbidden(_("You may not report incidents."))
    report, error = None, None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = _("Choose a file to import.")
        else:
            try:
                report = import_incidents(upload, actor=Actor(user=request.user),
                                          source=JournalSource.IMPORT,
                                          skip_invalid=bool(request.POST.get("skip_invalid")))
            except InvalidInput as exc:
                error = exc.text()
            except NotAllowed as exc:
                return HttpResponseForbidden(str(exc))
    return render(request, "incidents/import.html", {"report": report, "error": error},
                  status=422 if error or (report and not report.written) else 200)


@login_required
@refuses_malformed_as_of
def board(request):
    """Which units are under a state of emergency, curfew, counter-terrorist regime; where
    order is restored — at any moment."""
    form = BoardForm(request.GET or None)
    moment = form.cleaned_data.get("as_of") if form.is_valid() else None
    data = queries.country_board(request.user, moment)
    scope = queries.board_scope(request.user)
    return render(request, "incidents/board.html", {
        "form": form, "board": data, "kinds": PostureKind.choices, "as_of": moment,
        "limited": scope is not None,
        "scope_names": ", ".join(area.label() for area in scope or []),
        "live_url": f"?after={chain_head()[0]}"})


@login_required
def area_security(request, code):
    """A unit's drill-down: its posture history, its figures, its recent incidents; and
    forms to record a posture change or a figure."""
    area = Area.objects.visible_to(request.user).filter(code=code).first()
    if area is None:
        raise Http404(_("No such area."))
    can_record = FIGURES_RECORD in _rights(request.user)
    posture_form = PostureForm(request.POST if "posture-change" in request.POST else None)
    figure_form = CasualtyForm(request.POST if "figure-count" in request.POST else None)
    if request.method == "POST":
        if not can_record:
            return HttpResponseForbidden(_("You may not record figures or measures."))
        actor = Actor(user=request.user)
        try:
            if posture_form.is_bound and posture_form.is_valid():
                d = posture_form.cleaned_data
                kind, state = d["change"].split(":")
                services.change_posture(
                    area=area.code, kind=kind, state=state, effective_at=d["effective_at"],
                    hours=d["hours"], decree=d["decree"], source_ref=d["source"],
                    estimate=d["estimate"], actor=actor, source=WEB)
                messages.success(request, _("Change recorded."))
                return redirect("incidents:area", code=area.code)
            if figure_form.is_bound and figure_form.is_valid():
                d = figure_form.cleaned_data
                services.record_casualties(
                    area=area.code, reporting_body=d["reporting_body"].code,
                    category=d["category"], group=d["group"], count=d["count"],
                    as_of=d["as_of"], source_ref=d["source"], estimate=d["estimate"],
                    actor=actor, source=WEB)
                messages.success(request, _("Figure recorded."))
                return redirect("incidents:area", code=area.code)
        except InvalidInput as exc:
            form = posture_form if posture_form.is_bound else figure_form
            _form_errors(form, exc)
        except NotAllowed:
            return HttpResponseForbidden(_("You may not record figures or measures here."))
    changes = list(queries.posture_history(area))
    for change in changes:
        change.state_label = POSTURE_STATES[change.kind].get(change.state, change.state)
    return render(request, "incidents/area.html", {
        "area": area, "changes": changes,
        "inside": Area.objects.visible_to(request.user).defer("boundary").filter(
            parent=area).order_by("name"),
        "figures": queries.latest_figures(request.user, area=area),
        "incidents": queries.incidents(request.user, queries.IncidentFilter(area=area))[:20],
        "can_record": can_record, "posture_form": posture_form, "figure_form": figure_form,
    }, status=422 if (posture_form.errors or figure_form.errors) else 200)


@login_required
def figures(request):
    """Casualty and detention figures: each body's latest side by side, with history."""
    return render(request, "incidents/figures.html",
                  {"rows": queries.latest_figures(request.user)})
