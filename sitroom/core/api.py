"""The core domain on the API: journal, areas, places, organizations."""

from __future__ import annotations

from datetime import datetime

from django.http import Http404, JsonResponse
from ninja import Header, Query, Router, Status
from pydantic import AwareDatetime

from sitroom.api.auth import actor_of
from sitroom.api.pagination import check_limit, decode_cursor, encode_cursor, next_url

from . import queries, services
from .choices import JournalSource
from .errors import InvalidInput
from .models import Area, Organization, Place
from .permissions import scope_of
from .schemas import (
    AreaOut,
    AreaPage,
    EntryIn,
    EntryOut,
    EntryPage,
    MeOut,
    OrganizationOut,
    OrganizationPage,
    PlaceIn,
    PlaceOut,
    PlacePage,
)

router = Router()


def _visible(qs, field: str, code: str | None, user):
    """The visible object with this code; invisible ones are reported as unknown."""
    if not code:
        return None
    obj = qs.visible_to(user).filter(code=code).first()
    if obj is None:
        raise InvalidInput({field: f"no {field} with code {code!r}"})
    return obj


@router.get("/me", response=MeOut, tags=["account"], summary="Who am I and what may I see")
def me(request):
    scope = scope_of(request.user)
    return MeOut(
        username=request.user.get_username(), role=scope.role,
        all_areas=scope.everything,
        areas=sorted(Area.objects.filter(path__in=scope.area_paths).values_list("code",
                                                                              flat=True)),
        organizations=sorted(Organization.objects.filter(pk__in=scope.organization_ids)
                             .values_list("code", flat=True)))


@router.get("/journal", response=EntryPage, tags=["journal"],
            summary="Journal entries, newest first (occurred_at, then seq)")
def list_journal(
    request,
    area: str | None = None,
    kind: str | None = None,
    source: str | None = None,
    since: Query[AwareDatetime | None] = None,
    until: Query[AwareDatetime | None] = None,
    q: str | None = None,
    as_of: Query[AwareDatetime | None] = None,
    limit: int = 50,
    cursor: str | None = None,
):
    """Filters as on the operating picture. `as_of` shows only what was known then (occurred
    and recorded by that moment). Follow `next` for the following page."""
    check_limit(limit)
    flt = queries.JournalFilter(
        area=_visible(Area.objects, "area", area, request.user), kind=kind, source=source,
        since=since, until=until, q=q, as_of=as_of)
    qs = queries.journal_entries(request.user, flt)
    if cursor:
        occurred, seq = _journal_cursor(cursor)
        from django.db.models import Q

        qs = qs.filter(Q(occurred_at__lt=occurred) | Q(occurred_at=occurred, seq__lt=seq))
    rows = list(qs[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor([rows[-1].occurred_at.isoformat(), rows[-1].seq]) if more else None
    return EntryPage(items=[EntryOut.of(e) for e in rows], next=next_url(request, nxt))


def _journal_cursor(cursor: str) -> tuple[datetime, int]:
    value = decode_cursor(cursor)
    try:
        return datetime.fromisoformat(value[0]), int(value[1])
    except (IndexError, TypeError, ValueError):
        raise InvalidInput({"cursor": "is not a cursor this API issued"}) from None


@router.get("/journal/{int:seq}", response=EntryOut, tags=["journal"])
def get_entry(request, seq: int):
    entry = queries.journal_entries(request.user).filter(seq=seq).first()
    if entry is None:
        raise Http404(f"no journal entry #{seq}")
    return EntryOut.of(entry)


@router.post("/journal", response={201: EntryOut, 200: EntryOut}, tags=["journal"],
             summary="Record a journal entry")
def create_entry(request, body: EntryIn,
                 idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    """Send an `Idempotency-Key` header to make retries safe: a repeated key returns the
    entry first recorded with it (status 200) instead of recording it again."""
    user = request.user
    place = _visible(Place.objects, "place", body.place, user)
    area = _visible(Area.objects, "area", body.area, user)
    external_id = None
    if idempotency_key is not None:
        if not 1 <= len(idempotency_key) <= 100:
            raise InvalidInput({"Idempotency-Key": "must be 1 to 100 characters long"})
        external_id = f"{user.pk}:{idempotency_key}"
    before = _existing(external_id)
    entry = services.record_entry(
        actor=actor_of(request), source=JournalSource.API, kind=body.kind,
        summary=body.summary, occurred_at=body.occurred_at, area=area, place=place,
        organization=_visible(Organization.objects, "organization", body.organization, user),
        payload=body.payload, estimate=body.estimate, external_id=external_id)
    return Status(200 if before else 201, EntryOut.of(entry))


def _existing(external_id: str | None) -> bool:
    from .models import JournalEntry

    return bool(external_id) and JournalEntry.objects.filter(
        source=JournalSource.API, external_id=external_id).exists()


def _offset_page(request, qs, limit: int, cursor: str | None):
    check_limit(limit)
    offset = 0
    if cursor:
        value = decode_cursor(cursor)
        if len(value) != 1 or not isinstance(value[0], int) or value[0] < 0:
            raise InvalidInput({"cursor": "is not a cursor this API issued"})
        offset = value[0]
    count = qs.count()
    rows = list(qs[offset: offset + limit])
    nxt = encode_cursor([offset + limit]) if offset + limit < count else None
    return rows, count, next_url(request, nxt)


@router.get("/areas", response=AreaPage, tags=["areas"])
def list_areas(request, level: str | None = None, parent: str | None = None,
               limit: int = 100, cursor: str | None = None):
    qs = queries.areas(request.user)
    if level:
        qs = qs.filter(level=level)
    if parent:
        qs = qs.filter(parent=_visible(Area.objects, "parent", parent, request.user))
    rows, count, nxt = _offset_page(request, qs, limit, cursor)
    return AreaPage(count=count, items=[AreaOut.of(a) for a in rows], next=nxt)


@router.get("/areas.geojson", tags=["areas"],
            summary="Areas as a GeoJSON FeatureCollection (boundary, or centroid point)")
def areas_geojson(request, level: str | None = None,
                  as_of: Query[AwareDatetime | None] = None):
    qs = queries.areas(request.user)
    if level:
        qs = qs.filter(level=level)
    activity = queries.area_activity(request.user, as_of)
    return JsonResponse(queries.areas_feature_collection(qs, activity),
                        content_type="application/geo+json")


@router.get("/areas/{code}", response=AreaOut, tags=["areas"])
def get_area(request, code: str):
    area = queries.areas(request.user).filter(code=code).first()
    if area is None:
        raise Http404(f"no area {code!r}")
    return AreaOut.of(area)


@router.get("/places", response=PlacePage, tags=["places"])
def list_places(request, kind: str | None = None, area: str | None = None,
                limit: int = 100, cursor: str | None = None):
    qs = queries.places(request.user)
    if kind:
        qs = qs.filter(kind=kind)
    if area:
        qs = qs.filter(_visible(Area.objects, "area", area, request.user).subtree_q("area__"))
    rows, count, nxt = _offset_page(request, qs, limit, cursor)
    return PlacePage(count=count, items=[PlaceOut.of(p) for p in rows], next=nxt)


@router.get("/places.geojson", tags=["places"], summary="Places as GeoJSON points")
def places_geojson(request):
    return JsonResponse(queries.places_feature_collection(queries.places(request.user)),
                        content_type="application/geo+json")


@router.post("/places", response={201: PlaceOut, 200: PlaceOut}, tags=["places"],
             summary="Create or update a place by its code")
def save_place(request, body: PlaceIn):
    if body.area:
        _visible(Area.objects, "area", body.area, request.user)
    place, created = services.save_place(body.dict(), actor=actor_of(request),
                                         source=JournalSource.API)
    return Status(201 if created else 200, PlaceOut.of(place))


@router.get("/places/{code}", response=PlaceOut, tags=["places"])
def get_place(request, code: str):
    place = queries.places(request.user).filter(code=code).first()
    if place is None:
        raise Http404(f"no place {code!r}")
    return PlaceOut.of(place)


@router.get("/organizations", response=OrganizationPage, tags=["organizations"])
def list_organizations(request, kind: str | None = None, limit: int = 100,
                       cursor: str | None = None):
    qs = queries.organizations(request.user)
    if kind:
        qs = qs.filter(kind=kind)
    rows, count, nxt = _offset_page(request, qs, limit, cursor)
    return OrganizationPage(count=count, items=[OrganizationOut.of(o) for o in rows], next=nxt)
