"""The lifelines board and a cell's history."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from sitroom.core.journal import chain_head
from sitroom.core.models import Area
from sitroom.web.forms import as_of_from, refuses_malformed_as_of
from sitroom.web.htmx import wants_part

from . import queries
from .choices import SEVERITY, Status
from .models import Component


@login_required
@refuses_malformed_as_of
def board(request):
    """Areas × components in status colours, with symbols and words; as of any moment."""
    head = chain_head()[0]
    area = None
    if request.GET.get("area"):
        area = Area.objects.visible_to(request.user).defer("boundary").filter(
            code=request.GET["area"]).first()
        if area is None:
            raise Http404(_("No such area."))
    as_of = as_of_from(request)
    data = queries.board(request.user, area, as_of)
    groups = []
    for comp in data["components"]:
        if groups and groups[-1][0] == comp.lifeline:
            groups[-1][1] += 1
        else:
            groups.append([comp.lifeline, 1])
    context = {"board": data, "groups": groups, "as_of": as_of,
               "fresh_hours": settings.LIFELINE_FRESH_HOURS,
               "live_url": f"?kind=lifeline&after={head}",
               "statuses": [(s, queries.Cell(status=s)) for s in Status.values]}
    template = "lifelines/partials/board.html" if wants_part(request) \
        else "lifelines/board.html"
    return render(request, template, context)


@login_required
@refuses_malformed_as_of
def cell_history(request, area, component):
    """Every report of one component in one area, as a step chart and a table."""
    area_obj = Area.objects.visible_to(request.user).defer("boundary").filter(
        code=area).first()
    comp = Component.objects.filter(code=component).first()
    if area_obj is None or comp is None:
        raise Http404(_("No such area or component."))
    as_of = as_of_from(request)
    reports = list(queries.history(request.user, area_obj, comp, as_of))
    return render(request, "lifelines/history.html", {
        "area": area_obj, "component": comp, "reports": reports, "as_of": as_of,
        "chart": step_chart(reports, as_of or timezone.now())})


def step_chart(reports, end) -> dict:
    """Segments of a step chart: each report holds until the next one (SVG units)."""
    if not reports:
        return {"segments": [], "width": 800, "height": 60, "ticks": []}
    start = reports[0].occurred_at
    end = max(end, reports[-1].occurred_at + timedelta(hours=1))
    span = (end - start).total_seconds() or 1
    width = 800
    segments = []
    for i, r in enumerate(reports):
        until = reports[i + 1].occurred_at if i + 1 < len(reports) else end
        x0 = (r.occurred_at - start).total_seconds() / span * width
        x1 = (until - start).total_seconds() / span * width
        level = SEVERITY[r.status]
        segments.append({"x": round(x0, 1), "w": round(max(x1 - x0, 1), 1),
                         "y": 10 + (3 - level) * 10, "status": r.status, "report": r})
    days = []
    day = timezone.localtime(start).replace(hour=0, minute=0, second=0, microsecond=0)
    while day <= end and len(days) < 60:
        if day >= start:
            days.append({"x": round((day - start).total_seconds() / span * width, 1),
                         "label": day.strftime("%d.%m")})
        day += timedelta(days=1)
    return {"segments": segments, "width": width, "height": 60, "ticks": days}
