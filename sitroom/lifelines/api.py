"""The lifelines on the API: for utilities and agencies to report, for everyone to read."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from ninja import Header, Query, Router, Status
from pydantic import AwareDatetime

from sitroom.api.auth import actor_of
from sitroom.api.fast import trusted_json
from sitroom.api.openapi import problems
from sitroom.api.pagination import check_limit, decode_cursor, encode_cursor, next_url
from sitroom.core.choices import JournalSource
from sitroom.core.errors import InvalidInput
from sitroom.core.models import Area

from . import queries, services
from .models import Component
from .schemas import (
    BatchIn,
    BatchOut,
    ComponentOut,
    ComponentPatch,
    LifelineBoardOut,
    StatusIn,
    StatusOut,
    status_data,
)

router = Router(tags=["lifelines"])
API = JournalSource.API


def _area(user, code: str | None) -> Area | None:
    if not code:
        return None
    area = Area.objects.visible_to(user).defer("boundary").filter(code=code).first()
    if area is None:
        raise InvalidInput({"area": f"no area with code {code!r}"})
    return area


def _draft(item: StatusIn) -> services.StatusDraft:
    return services.StatusDraft(**item.model_dump())


def _component_out(c: Component) -> ComponentOut:
    return ComponentOut(code=c.code, lifeline=c.lifeline.code, unit=c.unit, active=c.active,
                        position=c.position,
                        name={"en": c.name, "ru": c.name_ru, "kk": c.name_kk})


@router.get("/lifelines/components", response=list[ComponentOut])
def list_components(request):
    return [_component_out(c) for c in Component.objects.select_related("lifeline")
            .order_by("lifeline__position", "position")]


@router.patch("/lifelines/components/{code}", response=ComponentOut,
              summary="Rename, reorder or retire a component (administrators)")
def patch_component(request, code: str, body: ComponentPatch):
    component = services.update_component(code, body.dict(exclude_unset=True),
                                          actor=actor_of(request), source=API)
    return _component_out(component)


@router.post("/lifelines/status", response={201: StatusOut, 200: StatusOut},
             summary="Report the status of one component in one area")
def post_status(request, body: StatusIn,
                idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    draft = _draft(body)
    draft.key = idempotency_key or draft.key
    result = services.report_statuses([draft], actor=actor_of(request), source=API,
                                      key_scope=f"api:{request.user.pk}:")
    if result.replayed:
        return Status(200, StatusOut.of(result.replayed[0]))
    return Status(201, StatusOut.of(result.stored[0]))


@router.post("/lifelines/status/batch", response={201: BatchOut, 200: BatchOut},
             summary="Report up to 10,000 statuses at once")
def post_batch(request, body: BatchIn):
    """All or nothing by default: one invalid item and nothing is stored (422, naming
    `items[i].field`). With `partial=true` the valid items are stored and the others
    listed in `errors`. An item whose `key` you sent before is not stored again."""
    result = services.report_statuses([_draft(i) for i in body.items], actor=actor_of(request),
                                      source=API, partial=body.partial,
                                      key_scope=f"api:{request.user.pk}:")
    out = BatchOut(stored=len(result.stored), already_stored=len(result.replayed),
                   ids=[r.pk for r in result.stored],
                   errors=[{"index": i, "errors": e} for i, e in sorted(result.errors.items())])
    return Status(201 if result.stored else 200, out)


@router.get("/lifelines/status", response=dict, summary="Status reports, newest first")
def list_status(request, area: str | None = None, component: str | None = None,
                since: Query[AwareDatetime | None] = None,
                until: Query[AwareDatetime | None] = None,
                as_of: Query[AwareDatetime | None] = None, limit: int = 100,
                cursor: str | None = None):
    check_limit(limit)
    qs = queries.reports(request.user, area=_area(request.user, area), component=component,
                         since=since, until=until, as_of=as_of)
    if cursor:
        value = decode_cursor(cursor)
        if len(value) != 1 or not isinstance(value[0], int):
            raise InvalidInput({"cursor": "is not a cursor this API issued"})
        last = qs.filter(pk=value[0]).values_list("occurred_at", flat=True).first()
        if last is not None:
            from django.db.models import Q

            qs = qs.filter(Q(occurred_at__lt=last) | Q(occurred_at=last, id__lt=value[0]))
    rows = list(qs[: limit + 1])
    more, rows = len(rows) > limit, rows[:limit]
    return {"items": [StatusOut.of(r).dict() for r in rows],
            "next": next_url(request, encode_cursor([rows[-1].pk]) if more else None)}


@router.get("/lifelines/history", response=list[StatusOut],
            summary="Every report of one component in one area, oldest first")
def cell_history(request, area: str, component: str,
                 as_of: Query[AwareDatetime | None] = None):
    comp = Component.objects.filter(code=component).first()
    if comp is None:
        raise InvalidInput({"component": f"no component {component!r}"})
    return [StatusOut.of(r) for r in queries.history(request.user, _area(request.user, area),
                                                     comp, as_of)
            .select_related("area", "component").defer("area__boundary")]


@router.get("/lifelines/board", response=LifelineBoardOut,
            summary="The board: an area and the areas inside it, by component",
            openapi_extra=problems(404))
def board(request, area: str | None = None, as_of: Query[AwareDatetime | None] = None,
          rule: str | None = None):
    """`as_of` is an ISO 8601 time with offset; `rule` is worst (default) or majority."""
    if rule not in (None, "worst", "majority"):
        raise InvalidInput({"rule": "expected worst or majority"})
    data = queries.board(request.user, _area(request.user, area), as_of, rule)
    if data["area"] is None and area is None:
        raise Http404("no area visible to you")
    return trusted_json({
        "area": data["area"].code, "as_of": data["moment"], "rule": data["rule"],
        "fresh_hours": settings.LIFELINE_FRESH_HOURS,
        "rows": [{"area": row["area"].code, "name": row["area"].label(),
                  "summary": row["summary"],
                  "cells": [{"component": comp.code, "status": cell.status, "stale": cell.stale,
                             "rolled_up": cell.rolled_up, "counts": cell.counts,
                             "report": status_data(cell.reported) if cell.reported else None}
                            for comp, cell in zip(data["components"], row["cells"],
                                                  strict=True)]}
                 for row in data["rows"]]})
