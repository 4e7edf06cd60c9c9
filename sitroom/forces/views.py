"""Pages of the stabilisation force: the force board with its map, recording a movement,
the withdrawal planner (runs in the background, with progress, Stop and Approve), and a
Gantt view of the plan against what moved."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from sitroom.core.actors import Actor
from sitroom.core.choices import JournalSource
from sitroom.core.errors import InvalidInput, NotAllowed
from sitroom.core.journal import chain_head
from sitroom.core.permissions import scope_of
from sitroom.web.forms import as_of_from, refuses_malformed_as_of
from sitroom.web.htmx import wants_part

from . import queries, runs, services
from .access import APPROVERS, SITE_WRITERS, WRITERS
from .capacity import load_warnings
from .choices import AirfieldRole
from .forms import GuardPostEndForm, GuardPostForm, MovementForm, PlanRunForm, ReliefForm
from .models import Airfield, Movement, PlannerRun, Relief, Unit, WithdrawalPlan
from .planning import default_start
from .render import bound_name, gap_text, load_warning_text, moment_text, plan_reason_text

WEB = JournalSource.WEB


def _may_record(user) -> bool:
    return scope_of(user).role in WRITERS


def _sees_plans(user) -> bool:
    return WithdrawalPlan.objects.visible_to(user).exists() or scope_of(user).everything


# --- the force board ------------------------------------------------------------------

def _site_states(data: dict[str, Any]) -> tuple[list[dict], set[str]]:
    """Guarded sites for the map: guarded / handed over / gap."""
    gap_sites = {g["site_id"] for g in data["gaps"]}
    sites: dict[str, dict] = {}
    for row in data["contingents"]:
        for state, items in (("handed", row["handovers_done"]),
                             ("guarded", row["sites_guarded"])):
            for item in items:
                place = item["post"].place
                if place.lat is None or place.lon is None:
                    continue
                sites[place.code] = {
                    "code": place.code, "name": place.label(), "lat": place.lat,
                    "url": f"{reverse('forces:sites')}#site-{place.code}",
                    "lon": place.lon, "unit": item["post"].unit.label(),
                    "relief": item["relief"].relieving_label() if item["relief"] else "",
                    "state": "gap" if place.code in gap_sites else state}
    return list(sites.values()), gap_sites


def _airfields() -> list[dict]:
    return [{"code": a.code, "name": a.label(), "lat": a.lat, "lon": a.lon}
            for a in Airfield.objects.filter(role=AirfieldRole.APOE)]


@login_required
@refuses_malformed_as_of
def board(request):
    """Per contingent: still in country, sites guarded, handovers, gaps, deviations."""
    as_of = as_of_from(request)
    data = queries.board(request.user, as_of)
    sites, gap_sites = _site_states(data)
    for row in data["contingents"]:
        row["gap_texts"] = [g["message"] for g in row["gaps"]]
        for item in row["sites_guarded"] + row["handovers_done"]:
            item["gap"] = item["post"].place.code in gap_sites
    head = chain_head()[0]
    context = {
        "board": data, "as_of": as_of, "map_data": {"sites": sites,
                                                     "airfields": _airfields()},
        "gap_texts": [g["message"] for g in data["gaps"]],
        "deviations": [_deviation(d) for d in data["deviations"]],
        "load_warnings": [load_warning_text(w) for w in data["load_warnings"]],
        # one flight may be over more than one limit: the heading counts flights
        "overloaded_flights": len({w["movement"] for w in data["load_warnings"]}),
        "can_record": _may_record(request.user),
        "sees_plans": _sees_plans(request.user),
        "can_record_sites": _may_record_sites(request.user),
        "live_url": f"?kind=force&after={head}",
    }
    template = "forces/partials/board.html" if wants_part(request) else "forces/board.html"
    return render(request, template, context)


def _t(moment: datetime | None) -> str:
    return date_format(timezone.localtime(moment), "j M H:i") if moment else "—"


def _deviation(d: dict[str, Any]) -> dict[str, Any]:
    from .choices import DeviationKind

    label = DeviationKind(d["kind"]).label if d["kind"] in DeviationKind.values else d["kind"]
    return d | {"label": label, "planned_text": _t(d.get("planned")),
                "actual_text": _t(d.get("actual"))}


# --- recording a movement ----------------------------------------------------------------

@login_required
def movement_new(request):
    if not _may_record(request.user):
        return HttpResponseForbidden(_("Only directors and duty officers record movements."))
    plan = queries.approved_plan() if _sees_plans(request.user) else None
    form = MovementForm(request.POST or None, user=request.user, plan=plan)
    if request.method == "POST" and form.is_valid():
        try:
            move, _changed = services.record_movement(form.values(),
                                                      actor=Actor(user=request.user),
                                                      source=WEB)
        except InvalidInput as exc:
            for name, msgs in exc.errors.items():
                field = form.field_for(name)
                kind = name.split(".vehicles.", 1)[1] if ".vehicles." in name else None
                for msg in msgs:  # one line each; a vehicle's problem names its kind
                    form.add_error(field, f"{kind}: {msg}" if kind and kind not in msg
                                   else msg if field is not None else f"{name}: {msg}")
        except NotAllowed:
            form.add_error("origin", _("You may not record movements from here."))
        else:
            messages.success(request, _("Movement %(label)s recorded.")
                             % {"label": move.label or move.uid})
            for warning in load_warnings([move]):  # recorded all the same: what flew, flew
                messages.warning(request, "⚠ " + load_warning_text(warning))
            return redirect("forces:board")
    units = Unit.objects.visible_to(request.user).prefetch_related("vehicles").order_by("code")
    return render(request, "forces/movement_form.html", {"form": form, "units": units})


# --- guarded sites: who guards each, who relieves it ------------------------------------

def _may_record_sites(user) -> bool:
    return scope_of(user).role in SITE_WRITERS


@login_required
@refuses_malformed_as_of
def sites(request):
    """Per guarded site: its guard posts and national reliefs as known at `as_of`, with
    the handover rule's gaps; forms to add a guard post, end one, add or change a relief."""
    as_of = as_of_from(request)
    rows = queries.sites(request.user, as_of)
    for row in rows:
        row["gap_texts"] = [g["message"] for g in row["gaps"]]
    return render(request, "forces/sites.html", {
        "sites": rows, "as_of": as_of, "can_record": _may_record_sites(request.user)})


def _site_gaps(user, place_code: str) -> list[str]:
    """The handover rule's gaps at one site, as recorded now, in the reader's language."""
    return [gap_text(g) for g in services.check_force(None, user=user)
            if g.site_id == place_code]


def _saved(request, message: str, place_code: str):
    """Back to the site on the sites page, telling what was recorded and, when the
    change leaves the site without its handover, which gap it made."""
    messages.success(request, message)
    for text in _site_gaps(request.user, place_code):
        messages.warning(request, "⚠ " + text)
    return redirect(f"{reverse('forces:sites')}#site-{place_code}")


def _refused(form, exc: Exception, field: str) -> None:
    """A service's refusal on the form: each bad field by name, or the writer's right."""
    if isinstance(exc, NotAllowed):
        form.add_error(field, _("You may not record guard posts or reliefs at this site."))
        return
    for name, msgs in exc.errors.items():
        target = name if name in form.fields else None
        for msg in msgs:
            form.add_error(target, msg if target else f"{name}: {msg}")


def _site_form(request, form, title: str, intro: str = "", status: int = 200):
    return render(request, "forces/site_form.html",
                  {"form": form, "title": title, "intro": intro}, status=status)


@login_required
def guard_post_new(request):
    if not _may_record_sites(request.user):
        return HttpResponseForbidden(_("Only directors, duty officers and liaison officers "
                                       "record guard posts and reliefs."))
    initial = {"place": request.GET.get("place", "")}
    form = GuardPostForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            post, _changed = services.record_guard_post(
                form.values(), actor=Actor(user=request.user), source=WEB)
        except (InvalidInput, NotAllowed) as exc:
            _refused(form, exc, "place")
        else:
            return _saved(request, _("%(unit)s guards %(site)s from %(t)s: recorded.")
                          % {"unit": post.unit.label(), "site": post.place.label(),
                             "t": moment_text(post.start)}, post.place.code)
    return _site_form(request, form, _("Add a guard post"))


@login_required
def guard_post_end(request, key: str):
    if not _may_record_sites(request.user):
        return HttpResponseForbidden(_("Only directors, duty officers and liaison officers "
                                       "record guard posts and reliefs."))
    post = queries.guard_posts(request.user).filter(uid=key).first()
    if post is None:
        raise Http404(_("No such guard post."))
    form = GuardPostEndForm(request.POST or None,
                            initial={"end": timezone.localtime(post.end) if post.end else None})
    if request.method == "POST" and form.is_valid():
        try:
            post = services.update_guard_post(key, {"end": form.cleaned_data["end"]},
                                              actor=Actor(user=request.user), source=WEB)
        except (InvalidInput, NotAllowed) as exc:
            _refused(form, exc, "end")
        else:
            return _saved(request, _("%(unit)s guards %(site)s until %(t)s: recorded.")
                          % {"unit": post.unit.label(), "site": post.place.label(),
                             "t": moment_text(post.end)}, post.place.code)
    return _site_form(request, form, _("End a guard post"), _(
        "%(unit)s guards %(site)s since %(t)s.") % {
        "unit": post.unit.label(), "site": post.place.label(),
        "t": moment_text(post.start)})


@login_required
def relief_edit(request, key: str | None = None):
    """Add a national relief, or change one (`key`): a new version, the old one kept."""
    if not _may_record_sites(request.user):
        return HttpResponseForbidden(_("Only directors, duty officers and liaison officers "
                                       "record guard posts and reliefs."))
    relief = None
    initial = {"place": request.GET.get("place", "")}
    if key is not None:
        relief = queries.reliefs(request.user).filter(uid=key).first()
        if relief is None:
            raise Http404(_("No such relief."))
        initial = {"place": relief.place.code, "relieving_unit": relief.relieving_unit,
                   "relieving_unit_ru": relief.relieving_unit_ru,
                   "relieving_unit_kk": relief.relieving_unit_kk,
                   "start": timezone.localtime(relief.start), "note": relief.note}
    form = ReliefForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        actor = Actor(user=request.user)
        try:
            if relief is None:
                relief, _changed = services.record_relief(form.values(), actor=actor,
                                                          source=WEB)
            else:
                relief = services.update_relief(key, form.values(), actor=actor,
                                                source=WEB)
        except (InvalidInput, NotAllowed) as exc:
            _refused(form, exc, "place")
        else:
            return _saved(request, _("%(unit)s takes over %(site)s from %(t)s: recorded.")
                          % {"unit": relief.relieving_label(), "site": relief.place.label(),
                             "t": moment_text(relief.start)}, relief.place.code)
    return _site_form(request, form, _("Add a national relief") if key is None
                      else _("Change a national relief"))


# --- the planner -------------------------------------------------------------------------

def _plan_view(row: WithdrawalPlan | None, run: PlannerRun | None = None
               ) -> dict[str, Any] | None:
    if row is None:
        return None
    data = row.plan or {}
    start = row.start
    sorties = []
    for s in data.get("sorties") or []:
        units = s.get("units") or []
        sorties.append({
            "id": s.get("id"), "aircraft_type": s.get("aircraft_type"),
            "airframe": (s.get("airframe") or 0) + 1, "origin": s.get("origin"),
            "destination": s.get("destination"),
            "depart": _parse(s.get("depart")), "arrive": _parse(s.get("arrive")),
            "units": ", ".join(u.get("unit", "") for u in units),
            "personnel": sum(int(u.get("personnel") or 0) for u in units),
            "vehicles": sum(len(u.get("vehicles") or ()) for u in units),
            "weight_kg": s.get("weight_kg"), "seats": s.get("seats_used")})
    road = [{"unit": r.get("unit"), "depart": _parse(r.get("depart")),
             "arrive": _parse(r.get("arrive"))} for r in data.get("road_moves") or []]

    def hours(minutes):
        return None if minutes is None else round(minutes / 60, 1)

    closure_bounds = [{"name": bound_name(k), "minutes": v, "hours": hours(v),
                       "binding": k == data.get("closure_bound_name")}
                      for k, v in (data.get("closure_bounds") or {}).items()]
    sortie_bounds = [{"name": bound_name(k), "value": v,
                      "binding": k == data.get("sortie_bound_name")}
                     for k, v in (data.get("sortie_bounds") or {}).items()]
    closure_min = data.get("closure_min")
    baseline = (run.baseline if run is not None else None) or {}
    check = services.plan_check(row)
    gaps = [gap_text(g) for g in check["gaps"]]
    gaps += [f"{name}: {' '.join(msgs)}" for name, msgs in check["errors"].items()]
    return {"row": row, "status": data.get("status"), "sorties": sorties, "road": road,
            "closure": row.closure, "closure_hours": hours(closure_min),
            "ratio": row.ratio, "ratio_bound": bound_name(row.ratio_bound),
            "sortie_ratio": row.sortie_ratio, "sortie_bound": bound_name(row.sortie_bound),
            "closure_bounds": closure_bounds, "sortie_bounds": sortie_bounds,
            "explanation": plan_reason_text(data), "start": start,
            "baseline": baseline | {"closure_hours": hours(baseline.get("closure_min"))}
            if baseline else None, "gaps": gaps, "gaps_changed": check["changed"],
            "gaps_when_planned": [gap_text(g) for g in check["gaps_when_planned"]],
            "notes": data.get("notes") or []}


def _parse(value):
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _recent_plans():
    """The planner page's list of recent plans (the page and a finished run's update)."""
    return WithdrawalPlan.objects.all()[:8]


def _run_context(request, run: PlannerRun | None) -> dict[str, Any]:
    if run is not None:
        run = runs.current(run)
    row = run.plan if run is not None and run.plan_id else None
    return {"run": run, "result": _plan_view(row, run),
            "can_plan": _may_record(request.user),
            "can_approve": scope_of(request.user).role in APPROVERS,
            "approve_errors": []}


@login_required
def plan(request):
    """Start a run; see the latest run or plan (`?run=` / `?plan=`)."""
    if not _sees_plans(request.user):
        raise Http404(_("Withdrawal plans cover the whole force; you do not see all of it."))
    form = PlanRunForm(request.POST or None,
                       initial={"start": timezone.localtime(default_start()),
                                "time_limit": 20})
    run = None
    if request.method == "POST":
        if not _may_record(request.user):
            return HttpResponseForbidden(_("Only directors and duty officers run the "
                                           "planner."))
        if form.is_valid():
            try:
                run = runs.start_run(request.user, start=form.cleaned_data["start"],
                                     time_limit_s=form.cleaned_data["time_limit"])
            except InvalidInput as exc:
                for name, msgs in exc.errors.items():
                    form.add_error(name if name in form.fields else None,
                                   f"{name}: {' '.join(msgs)}" if name not in form.fields
                                   else " ".join(msgs))
            else:
                return redirect(f"{request.path}?run={run.pk}")
    if request.GET.get("run", "").isdigit():
        run = PlannerRun.objects.filter(pk=int(request.GET["run"])).first()
    context = _run_context(request, run)
    if run is None and request.GET.get("plan", "").isdigit():
        row = WithdrawalPlan.objects.filter(pk=int(request.GET["plan"])).first()
        if row is None:
            raise Http404(_("No such plan."))
        context["result"] = _plan_view(row, row.runs.first())
    context |= {"form": form,
                "runs": PlannerRun.objects.select_related("plan")[:8],
                "plans": _recent_plans()}
    return render(request, "forces/plan.html", context)


@login_required
def run_status(request, pk: int):
    """The run's progress and, when it ends, its plan (polled by the page)."""
    if not _sees_plans(request.user):
        raise Http404
    run = get_object_or_404(PlannerRun, pk=pk)
    context = _run_context(request, run)
    if context["run"].state != "running":  # the run's plan joins the list beside it
        context["plans_oob"] = _recent_plans()
    return render(request, "forces/partials/run.html", context)


@login_required
@require_POST
def run_stop(request, pk: int):
    if not _may_record(request.user):
        return HttpResponseForbidden(_("Only directors and duty officers run the planner."))
    run = get_object_or_404(PlannerRun, pk=pk)
    runs.request_stop(run)
    if request.headers.get("HX-Request"):
        return run_status(request, pk)
    return redirect(f"/forces/plan/?run={pk}")


@login_required
@require_POST
def plan_approve(request, pk: int):
    if not _sees_plans(request.user):
        raise Http404
    row = get_object_or_404(WithdrawalPlan, pk=pk)
    errors: list[str] = []
    try:
        services.approve_plan(row.pk, Actor(user=request.user), source=WEB)
    except NotAllowed:
        errors = [_("Only a director approves a withdrawal plan.")]
    except InvalidInput as exc:
        errors = [m for msgs in exc.errors.values() for m in msgs]
    else:
        messages.success(request, _("Plan %(id)s approved.") % {"id": row.pk})
        return redirect(f"/forces/plan/?plan={row.pk}")
    row.refresh_from_db()
    run = row.runs.first()
    context = _run_context(request, run) | {
        "form": PlanRunForm(initial={"start": timezone.localtime(default_start()),
                                     "time_limit": 20}),
        "runs": PlannerRun.objects.select_related("plan")[:8],
        "plans": _recent_plans(),
        "approve_errors": errors}
    context["result"] = _plan_view(row, run)
    context["run"] = None
    return render(request, "forces/plan.html", context, status=422)


# --- Gantt -----------------------------------------------------------------------------

GANTT_WIDTH = 1100
LABEL_W = 190  # row labels: at most 26 characters (longer ones end in …, full name on hover)
ROW_H = 20


@login_required
def gantt(request):
    """Per airframe: planned sorties and actual flights side by side; per site: guard and
    relief windows. Server-rendered SVG, times in the deployment's time zone."""
    sees_plans = _sees_plans(request.user)
    row = None
    if sees_plans:
        if request.GET.get("plan", "").isdigit():
            row = WithdrawalPlan.objects.filter(pk=int(request.GET["plan"])).first()
        row = row or queries.approved_plan() or WithdrawalPlan.objects.exclude(
            sorties=0).first()
    moves = list(queries.movements(request.user).exclude(actual_departure=None))
    posts = list(queries.guard_posts(request.user))
    reliefs: dict[int, Relief] = {}
    for r in queries.reliefs(request.user).order_by("start"):
        reliefs.setdefault(r.place_id, r)
    window = (_day(request.GET.get("from")), _day(request.GET.get("to"), end=True))
    chart = gantt_chart(row, moves, posts, reliefs, window)
    return render(request, "forces/gantt.html", {"chart": chart, "plan": row,
                                                 "plans": WithdrawalPlan.objects.all()[:12]
                                                 if sees_plans else []})


def _day(raw: str | None, end: bool = False) -> datetime | None:
    """A YYYY-MM-DD of the window's form as the start (or the end) of that local day."""
    try:
        day = datetime.strptime(raw or "", "%Y-%m-%d")
    except ValueError:
        return None
    return timezone.make_aware(day + timedelta(days=1 if end else 0))


# Without a window chosen, the chart shows the plan and the movements near it, so that one
# record dated years away does not squeeze the withdrawal into a sliver.
GANTT_NEAR = timedelta(days=7)
GANTT_DEFAULT_SPAN = timedelta(days=14)


def _window(bars, chosen: tuple[datetime | None, datetime | None]
            ) -> tuple[datetime, datetime]:
    moving = sorted(b[2] for b in bars if b[0] != "sites") or sorted(b[2] for b in bars)
    planned = [b for b in bars if b[0] == "plan"]
    if planned:
        lo = min(b[2] for b in planned) - timedelta(hours=12)
        hi = max(b[3] for b in planned) + timedelta(hours=12)
        near = [b for b in bars if b[0] != "sites" and lo - GANTT_NEAR <= b[2] <= hi + GANTT_NEAR]
        lo = min([lo, *(b[2] for b in near)])
        hi = max([hi, *(b[3] for b in near)])
    else:
        lo = moving[0] - timedelta(hours=12)
        hi = min(max(b[3] for b in bars), lo + GANTT_DEFAULT_SPAN)
    lo, hi = chosen[0] or lo, chosen[1] or hi
    return lo, max(hi, lo + timedelta(hours=1))


def gantt_chart(row, moves: list[Movement], posts, reliefs,
                chosen: tuple[datetime | None, datetime | None] = (None, None)
                ) -> dict[str, Any]:
    bars: list[tuple[str, str, datetime, datetime, str, str]] = []  # group,row,a,b,cls,title
    if row is not None:
        for s in (row.plan or {}).get("sorties") or []:
            a, b = _parse(s.get("boarding")) or _parse(s.get("depart")), _parse(s.get("arrive"))
            if a and b:
                name = f"{s.get('aircraft_type')} #{(s.get('airframe') or 0) + 1}"
                units = ", ".join(u.get("unit", "") for u in s.get("units") or [])
                bars.append(("plan", name, a, b, "planned",
                             f"{s.get('id')} {s.get('origin')}→{s.get('destination')} "
                             f"{_t(a)}–{_t(b)} {units}"))
        for r in (row.plan or {}).get("road_moves") or []:
            a, b = _parse(r.get("depart")), _parse(r.get("arrive"))
            if a and b:
                bars.append(("plan", _("road: %(unit)s") % {"unit": r.get("unit")}, a, b,
                             "planned road", f"{r.get('unit')} {_t(a)}–{_t(b)}"))
    if row is not None:
        for s in (row.plan or {}).get("sorties") or []:
            a, b = _parse(s.get("depart")), _parse(s.get("arrive"))
            for u in s.get("units") or []:
                if a and b:
                    bars.append(("units", u.get("unit", ""), a, b, "planned half",
                                 f"{s.get('id')} {_t(a)}–{_t(b)}"))
        for r in (row.plan or {}).get("road_moves") or []:
            a, b = _parse(r.get("depart")), _parse(r.get("arrive"))
            if a and b:
                bars.append(("units", r.get("unit", ""), a, b, "planned road half",
                             f"{r.get('unit')} {_t(a)}–{_t(b)}"))
    for m in moves:
        a = m.actual_departure
        b = m.actual_arrival or (a + timedelta(hours=4))
        for item in m.manifest or []:
            people = int(item.get("personnel") or 0)
            bars.append(("units", item.get("unit", ""), a, b,
                         "actual half low" + (" road" if m.kind == "road" else ""),
                         f"{m.label or m.uid} {_t(a)}–{_t(b)}: "
                         + ngettext("%(n)d person", "%(n)d people", people) % {"n": people}))
    for g in posts:
        relief = reliefs.get(g.place_id)
        end = g.end or (relief.start + timedelta(hours=6) if relief else None)
        name = g.place.label()
        if end:
            bars.append(("sites", name, g.start, end, "guard",
                         f"{g.unit.label()}: {_t(g.start)}–{_t(g.end)}"))
        if relief:
            r_end = max(end or relief.start, relief.start) + timedelta(hours=6)
            bars.append(("sites", name, relief.start, r_end, "relief",
                         f"{relief.relieving_label()}: {_t(relief.start)}"))
    if not bars:
        return {"empty": True}
    t0, t1 = _window(bars, chosen)
    t0 = timezone.localtime(t0).replace(minute=0, second=0, microsecond=0)
    outside = len({(b[1], b[2]) for b in bars if b[0] != "sites" and (b[3] <= t0 or b[2] >= t1)})
    bars = [b for b in bars if b[3] > t0 and b[2] < t1]
    span = max((t1 - t0).total_seconds(), 3600)
    plot_w = GANTT_WIDTH - LABEL_W

    def x(t: datetime) -> float:
        seconds = min(max(0.0, (t - t0).total_seconds()), span)
        return round(LABEL_W + seconds / span * plot_w, 1)

    groups = [("plan", _("Planned sorties (per airframe)")),
              ("units", _("Per unit: planned (upper) and actual (lower) movements")),
              ("sites", _("Guarded sites: guard and national relief"))]
    rows_out, y = [], 24
    headers = []
    for key, title in groups:
        names: list[str] = []
        for b in bars:
            if b[0] == key and b[1] not in names:
                names.append(b[1])
        if not names:
            continue
        headers.append({"y": y + 13, "title": title})
        y += ROW_H
        for name in names:
            items = []
            for b in bars:
                if b[0] == key and b[1] == name and b[3] > t0:
                    half = "half" in b[4]
                    items.append({"x": x(b[2]), "w": max(2.0, x(b[3]) - x(b[2])),
                                  "cls": b[4], "title": b[5],
                                  "y": y + (10 if "low" in b[4] else 3), "h": 7 if half else 14})
            rows_out.append({"y": y, "label": name, "bars": items, "group": key})
            y += ROW_H
    ticks = []
    step = timedelta(hours=6) if span <= 5 * 86400 else timedelta(days=1)
    t = t0.replace(hour=0) if step == timedelta(days=1) else t0.replace(
        hour=(t0.hour // 6) * 6)
    while t <= t1 and len(ticks) < 80:
        if t >= t0:
            local = timezone.localtime(t)
            ticks.append({"x": x(t), "label": local.strftime("%d.%m %H:%M"),
                          "major": local.hour == 0})
        t += step
    return {"empty": False, "width": GANTT_WIDTH, "height": y + 10, "rows": rows_out,
            "headers": headers, "ticks": ticks, "label_w": LABEL_W,
            "t0": timezone.localtime(t0), "t1": timezone.localtime(t1), "outside": outside,
            "last_day": timezone.localtime(t1 - timedelta(microseconds=1)).date()}

