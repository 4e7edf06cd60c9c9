"""OGC API – Features Part 1: Core for incidents, under /ogc/.

Plain Django views: landing page, conformance, collections, the `incidents` collection,
its items (GeoJSON, keyset-paged with an opaque cursor) and single items, and a
self-contained OpenAPI 3.0 document (no remote `$ref`, so it validates offline).

Access is the same as everywhere: a Bearer API token or the browser session; every item
read goes through `sitroom.incidents.queries.incidents(user, flt)`, so scope applies.
The landing page, conformance, the OpenAPI document and its HTML rendering carry no data
and are public.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from functools import wraps
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from sitroom.accounts.services import bearer_token
from sitroom.api.pagination import decode_cursor, encode_cursor
from sitroom.core.errors import InvalidInput
from sitroom.core.models import Area
from sitroom.incidents.choices import IncidentStatus
from sitroom.incidents.documents import attached
from sitroom.incidents.models import IncidentType
from sitroom.incidents.queries import IncidentFilter, incidents
from sitroom.incidents.queries import extent as incident_extent

from .ogc_constants import (
    COLLECTION,
    CONFORMANCE,
    CRS84,
    GEOJSON,
    GREGORIAN,
    ITEMS_PARAMETERS,
    JSON,
    LIMIT_DEFAULT,
    LIMIT_MAX,
    OPENAPI_JSON,
    PROBLEM_JSON,
    PROBLEM_TYPE,
)
from .ogc_openapi import openapi_document

# --- Errors ---------------------------------------------------------------------------

class OgcError(Exception):
    """An error answered as JSON: RFC 9457 problem details plus the OGC exception fields
    (`code`, `description`)."""

    def __init__(self, status: int, code: str, description: str, *, field: str | None = None,
                 message: str = "", headers: dict[str, str] | None = None):
        super().__init__(description)
        self.status, self.code, self.description = status, code, description
        self.field, self.message, self.headers = field, message, headers or {}

    def response(self) -> JsonResponse:
        titles = {400: _("Invalid parameter"), 401: _("Unauthorized"), 404: _("Not found"),
                  405: _("Method not allowed")}
        kinds = {400: "invalid-parameter", 401: "unauthorized", 404: "not-found",
                 405: "method-not-allowed"}
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE + kinds.get(self.status, str(self.status)),
            "title": titles.get(self.status, str(self.status)), "status": self.status,
            "detail": self.description, "code": self.code, "description": self.description}
        if self.field:
            body["errors"] = [{"field": self.field, "message": self.message}]
        response = JsonResponse(body, status=self.status, content_type=PROBLEM_JSON,
                                json_dumps_params={"ensure_ascii": False})
        for name, value in self.headers.items():
            response[name] = value
        return response


def invalid(field: str, message: str) -> OgcError:
    return OgcError(400, "InvalidParameterValue", f"{field}: {message}", field=field,
                    message=message)


def not_found(message: str) -> OgcError:
    return OgcError(404, "NotFound", message)


# --- Access and parameters ------------------------------------------------------------

def authenticated_user(request: HttpRequest):
    """The user of a Bearer API token, or of the browser session; 401 otherwise."""
    sent, token = bearer_token(request)
    if sent:
        if token is None:
            raise OgcError(401, "Unauthorized",
                           _("The API token is unknown, revoked or of an inactive user."),
                           headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return token.user
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_active:
        return user
    raise OgcError(401, "Unauthorized",
                   _("Send a valid API token as 'Authorization: Bearer …' or sign in."),
                   headers={"WWW-Authenticate": "Bearer"})


def check_parameters(request: HttpRequest, allowed: tuple[str, ...]) -> None:
    """Unknown or repeated query parameters, and any format but JSON, are errors."""
    for name in request.GET:
        if name not in allowed:
            raise invalid(name, _("unknown query parameter; this resource accepts: "
                                  "%(names)s") % {"names": ", ".join(allowed)})
        if len(request.GET.getlist(name)) > 1:
            raise invalid(name, _("is given more than once"))
    if request.GET.get("f", "json") != "json":
        raise invalid("f", _("only f=json is served here"))


def ogc_view(*, public: bool = False, parameters: tuple[str, ...] = ("f",)) -> Callable:
    """GET/HEAD only; checks the query parameters and (unless public) authenticates the
    caller, passing the user on as `request.ogc_user`; answers errors as JSON."""
    def decorate(view: Callable) -> Callable:
        @csrf_exempt  # read-only: so that other methods get a JSON 405, not a CSRF page
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                if request.method not in ("GET", "HEAD"):
                    raise OgcError(405, "MethodNotAllowed",
                                   _("Only GET and HEAD are supported here."),
                                   headers={"Allow": "GET, HEAD"})
                if not public:
                    request.ogc_user = authenticated_user(request)
                check_parameters(request, parameters)
                response = view(request, *args, **kwargs)
            except OgcError as error:
                response = error.response()
            if not public:
                patch_vary_headers(response, ["Authorization", "Cookie"])
                patch_cache_control(response, private=True)
            return response
        return wrapper
    return decorate


def parse_limit(text: str | None) -> int:
    """1 to LIMIT_MAX; a larger value is served as LIMIT_MAX, as the standard asks."""
    if text is None:
        return LIMIT_DEFAULT
    if not re.fullmatch(r"\s*\d+\s*", text) or int(text) < 1:
        raise invalid("limit", _("must be a whole number from 1 to %(max)d")
                      % {"max": LIMIT_MAX})
    return min(int(text), LIMIT_MAX)


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """min lon, min lat, max lon, max lat in CRS84 (6 numbers: the heights are ignored).
    The minimum longitude may exceed the maximum: the box crosses the antimeridian."""
    parts = text.split(",")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        numbers = []
    if len(parts) not in (4, 6) or len(numbers) != len(parts) or not all(
            math.isfinite(n) for n in numbers):
        raise invalid("bbox", _("give 4 numbers separated by commas (min longitude, min "
                                "latitude, max longitude, max latitude), or 6 with the "
                                "minimum and maximum heights third and sixth"))
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    min_lon, min_lat, max_lon, max_lat = numbers
    if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180
            and -90 <= min_lat <= 90 and -90 <= max_lat <= 90):
        raise invalid("bbox", _("longitudes must lie between -180 and 180 and latitudes "
                                "between -90 and 90 (CRS84: longitude first)"))
    if min_lat > max_lat:
        raise invalid("bbox", _("the minimum latitude is greater than the maximum latitude"))
    return min_lon, min_lat, max_lon, max_lat


_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _moment(text: str, *, end: bool) -> datetime:
    """An RFC 3339 date-time; a full date alone stands for that whole day in UTC."""
    try:
        if _DATE.fullmatch(text):
            start = datetime.combine(datetime.fromisoformat(text).date(), time.min, UTC)
            return start + timedelta(days=1, microseconds=-1) if end else start
        if _DATE_TIME.fullmatch(text):
            return datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        pass
    message = _("%(value)r is not an RFC 3339 date-time with an offset, e.g. "
                "2022-01-05T10:00:00Z") % {"value": text}
    if " " in text:
        message += " " + _("(send a '+' in an offset as %(code)s)") % {"code": "%2B"}
    raise invalid("datetime", message)


def parse_datetime(text: str) -> tuple[datetime | None, datetime | None]:
    """An instant, a closed interval `start/end`, or an open one `../end`, `start/..`
    (an empty end is open too). Bounds are inclusive."""
    if "/" not in text:
        return _moment(text, end=False), _moment(text, end=True)
    start_text, _sep, end_text = text.partition("/")
    if "/" in end_text:
        raise invalid("datetime", _("an interval has one '/' between its start and end"))
    start = None if start_text in ("", "..") else _moment(start_text, end=False)
    end = None if end_text in ("", "..") else _moment(end_text, end=True)
    if start is not None and end is not None and start > end:
        raise invalid("datetime", _("the interval ends before it starts"))
    return start, end


def parse_cursor(text: str) -> tuple[datetime, int]:
    try:
        value = decode_cursor(text)
        if (len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], int)
                and not isinstance(value[1], bool)):
            moment = datetime.fromisoformat(value[0])
            if moment.tzinfo is not None:
                return moment, value[1]
    except (InvalidInput, ValueError):
        pass
    raise invalid("cursor", _("is not a cursor this server issued; follow the 'next' link"))


def incident_filter(request: HttpRequest, user) -> tuple[IncidentFilter, tuple | None]:
    """The filter from the query; and the box when it crosses the antimeridian (which
    IncidentFilter's box cannot express)."""
    flt, wrapped = IncidentFilter(), None
    params = request.GET
    if "bbox" in params:
        box = parse_bbox(params["bbox"])
        if box[0] <= box[2]:
            flt.bbox = box
        else:
            wrapped = box
    if "datetime" in params:
        flt.since, flt.until = parse_datetime(params["datetime"])
    if params.get("area"):
        flt.area = Area.objects.visible_to(user).filter(code=params["area"]).first()
        if flt.area is None:
            raise invalid("area", _("no area with code %(code)r") % {"code": params["area"]})
    if params.get("type"):
        code = params["type"]
        itype = IncidentType.objects.filter(code=code).first()
        if itype is None:
            raise invalid("type", _("unknown incident type %(code)r") % {"code": code})
        if itype.parent_id is None:
            flt.type = code
        else:
            flt.subtype = code
    if params.get("status"):
        flt.statuses = [s.strip() for s in params["status"].split(",") if s.strip()]
        unknown = [s for s in flt.statuses if s not in IncidentStatus.values]
        if unknown:
            raise invalid("status", _("unknown status %(value)r; give one or more of "
                                      "%(choices)s, separated by commas")
                          % {"value": unknown[0], "choices": ", ".join(IncidentStatus.values)})
    if "documents" in params:
        value = params["documents"].strip().lower()
        if value not in ("true", "false"):
            raise invalid("documents", _("give true (incidents whose page lists a document) "
                                         "or false (those that list none)"))
        flt.documents = value == "true"
    return flt, wrapped


# --- Documents --------------------------------------------------------------------------

def url(request: HttpRequest, name: str, *args: Any, query: dict | None = None) -> str:
    path = reverse(f"reports:{name}", args=args)
    if query:
        path += "?" + urlencode(query)
    return request.build_absolute_uri(path)


def link(href: str, rel: str, media_type: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": media_type, "title": title}


def rfc3339(moment: datetime | None) -> str | None:
    """In the deployment's time zone, with its offset."""
    return timezone.localtime(moment).isoformat() if moment is not None else None


def feature(incident, request: HttpRequest | None = None, *, own_links: bool = True,
            documents: list | None = None) -> dict[str, Any]:
    """The incident as a GeoJSON feature; with `request`, its self and collection links
    (unless not `own_links`: a page's features) and its documents (photos, scans, from
    `documents.attached`) as `enclosure` links to their files on the API, which the same
    credentials open."""
    has_point = incident.lat is not None and incident.lon is not None
    doc: dict[str, Any] = {
        "type": "Feature",
        "id": str(incident.uid),
        "geometry": ({"type": "Point", "coordinates": [incident.lon, incident.lat]}
                     if has_point else None),
        "properties": {
            "title": incident.title,
            "type": incident.type.code,
            "subtype": incident.subtype.code if incident.subtype_id else None,
            "status": getattr(incident, "status_then", None) or incident.status,
            "severity": incident.severity,
            "occurred_at": rfc3339(incident.occurred_at),
            "recorded_at": rfc3339(incident.recorded_at),
            "area": incident.area.code,
            "fatalities": incident.fatalities,
            "injured": incident.injured,
            "tags": incident.tags,
            "estimate": incident.estimate,
        },
    }
    links = []
    if request is not None and own_links:
        links = [
            link(url(request, "ogc-item", COLLECTION, str(incident.uid)), "self", GEOJSON,
                 _("This incident")),
            link(url(request, "ogc-collection", COLLECTION), "collection", JSON,
                 _("Incidents")),
        ]
    for d in documents if request is not None and documents else ():
        links.append(link(request.build_absolute_uri(d.api_path(incident)), "enclosure",
                          d.content_type.split(";")[0], d.name) | {"length": d.size})
    if links:
        doc["links"] = links
    return doc


def collection_document(request: HttpRequest, user) -> dict[str, Any]:
    """The collection's metadata; the extent is that of the incidents the user sees."""
    extent = incident_extent(user)
    if extent["min_lon"] is None:
        bbox = [-180.0, -90.0, 180.0, 90.0]
    else:
        bbox = [extent["min_lon"], extent["min_lat"], extent["max_lon"], extent["max_lat"]]
    return {
        "id": COLLECTION,
        "title": _("Incidents"),
        "description": _("Security incidents reported to the operations centre: one point "
                         "per incident where its place is known, with its type, status, "
                         "severity, time and casualty figures."),
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {
            "spatial": {"bbox": [bbox], "crs": CRS84},
            "temporal": {"interval": [[rfc3339(extent["first"]), rfc3339(extent["last"])]],
                         "trs": GREGORIAN},
        },
        "links": [
            link(url(request, "ogc-collection", COLLECTION), "self", JSON,
                 _("This collection")),
            link(url(request, "ogc-items", COLLECTION), "items", GEOJSON, _("The incidents")),
        ],
    }


def _collection(collection_id: str) -> None:
    if collection_id != COLLECTION:
        raise not_found(_("There is no collection %(id)r; the only one is %(only)r.")
                        % {"id": collection_id, "only": COLLECTION})


def _json(body: dict, media_type: str = JSON) -> JsonResponse:
    return JsonResponse(body, content_type=media_type, json_dumps_params={"ensure_ascii": False})


@ogc_view(public=True)
def landing(request: HttpRequest) -> JsonResponse:
    return _json({
        "title": _("Sitroom OGC API – Features"),
        "description": _("Incidents of the operations centre as GeoJSON features, for GIS "
                         "clients. Authenticate with 'Authorization: Bearer <API token>' or "
                         "a browser session; you see the incidents of your scope."),
        "links": [
            link(url(request, "ogc-landing"), "self", JSON, _("This document")),
            link(url(request, "ogc-openapi"), "service-desc", OPENAPI_JSON,
                 _("The API definition (OpenAPI 3.0)")),
            link(url(request, "ogc-docs"), "service-doc", "text/html",
                 _("The API documentation")),
            link(url(request, "ogc-conformance"), "conformance", JSON,
                 _("Conformance classes implemented by this server")),
            link(url(request, "ogc-collections"), "data", JSON, _("The collections")),
        ],
    })


@ogc_view(public=True)
def conformance(request: HttpRequest) -> JsonResponse:
    return _json({"conformsTo": CONFORMANCE})


@ogc_view()
def collections(request: HttpRequest) -> JsonResponse:
    return _json({
        "links": [link(url(request, "ogc-collections"), "self", JSON, _("The collections"))],
        "collections": [collection_document(request, request.ogc_user)],
    })


@ogc_view()
def collection(request: HttpRequest, collection_id: str) -> JsonResponse:
    _collection(collection_id)
    return _json(collection_document(request, request.ogc_user))


@ogc_view(parameters=ITEMS_PARAMETERS)
def items(request: HttpRequest, collection_id: str) -> JsonResponse:
    """Newest first (occurred_at, then id); keyset-paged: `next` carries a cursor, so a
    page deep in millions of rows costs the same as the first."""
    _collection(collection_id)
    user = request.ogc_user
    limit = parse_limit(request.GET.get("limit"))
    flt, wrapped = incident_filter(request, user)
    cursor = parse_cursor(request.GET["cursor"]) if "cursor" in request.GET else None
    qs = incidents(user, flt, order="-occurred_at")
    if wrapped is not None:  # a box across the antimeridian
        min_lon, min_lat, max_lon, max_lat = wrapped
        qs = qs.filter(Q(lon__gte=min_lon) | Q(lon__lte=max_lon),
                       lat__gte=min_lat, lat__lte=max_lat)
    matched = qs.count()
    if cursor is not None:
        moment, pk = cursor
        qs = qs.filter(Q(occurred_at__lt=moment) | Q(occurred_at=moment, id__lt=pk))
    rows = list(qs[: limit + 1])
    page, more = rows[:limit], len(rows) > limit
    found = attached(page)
    links = [link(request.build_absolute_uri(), "self", GEOJSON, _("This page")),
             link(url(request, "ogc-collection", COLLECTION), "collection", JSON,
                  _("Incidents"))]
    if more:
        last = page[-1]
        query = request.GET.copy()
        query["cursor"] = encode_cursor([last.occurred_at.astimezone(UTC).isoformat(),
                                         last.pk])
        links.append(link(url(request, "ogc-items", COLLECTION) + "?" + query.urlencode(),
                          "next", GEOJSON, _("The next page")))
    return _json({
        "type": "FeatureCollection",
        "features": [feature(i, request, own_links=False, documents=found[i.pk])
                     for i in page],
        "links": links,
        "timeStamp": timezone.now().astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "numberMatched": matched,
        "numberReturned": len(page),
    }, GEOJSON)


@ogc_view()
def item(request: HttpRequest, collection_id: str, feature_id: str) -> JsonResponse:
    _collection(collection_id)
    try:
        uid = UUID(feature_id)
    except ValueError:
        uid = None
    found = (incidents(request.ogc_user, IncidentFilter(include_merged=True))
             .filter(uid=uid).first() if uid is not None else None)
    if found is None:
        raise not_found(_("There is no incident %(id)r that you may see.")
                        % {"id": feature_id})
    return _json(feature(found, request, documents=attached([found])[found.pk]), GEOJSON)


@ogc_view(public=True)
def openapi(request: HttpRequest) -> JsonResponse:
    base = request.build_absolute_uri(reverse("reports:ogc-landing")).rstrip("/")
    return _json(openapi_document(base), OPENAPI_JSON)


@ogc_view(public=True)
def docs(request: HttpRequest) -> HttpResponse:
    """The OpenAPI document in Swagger UI (django-ninja's bundled, local assets)."""
    swagger = {"url": reverse("reports:ogc-openapi"), "layout": "BaseLayout",
               "deepLinking": True}
    return render(request, "ninja/swagger.html", {
        "swagger_settings": json.dumps(swagger),
        "api": SimpleNamespace(title=_("Sitroom OGC API – Features")),
        "add_csrf": False})

