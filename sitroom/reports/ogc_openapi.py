"""The self-contained OpenAPI 3.0 definition of /ogc/ (no remote $ref)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from sitroom.incidents.choices import IncidentStatus

from .ogc_constants import (
    COLLECTION,
    CRS84,
    GEOJSON,
    GREGORIAN,
    ITEMS_PARAMETERS,
    JSON,
    LIMIT_DEFAULT,
    LIMIT_MAX,
    OPENAPI_JSON,
    PROBLEM_JSON,
)

# --- The API definition -----------------------------------------------------------------
# Written here from the OGC building blocks (OGC 17-069r4, core/openapi), inline, so that
# the document is self-contained: no remote $ref, valid offline. In English, like the
# REST API's definition: it is read by developers and tools.

def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _ok(description: str, schema: str, media_type: str = JSON) -> dict[str, Any]:
    return {"description": description,
            "content": {media_type: {"schema": _ref("schemas", schema)}}}


def _operation(operation_id: str, summary: str, ok: dict, *, public: bool = False,
               parameters: tuple[str, ...] = (), with_404: bool = False) -> dict[str, Any]:
    responses = {"200": ok, "400": _ref("responses", "InvalidParameter")}
    if not public:
        responses["401"] = _ref("responses", "Unauthorized")
    if with_404:
        responses["404"] = _ref("responses", "NotFound")
    op: dict[str, Any] = {
        "operationId": operation_id, "summary": summary, "tags": [COLLECTION],
        "parameters": [_ref("parameters", p) for p in ("f", *parameters)],
        "responses": responses}
    if public:
        op["security"] = []
    return {"get": op}


def _query(name: str, description: str, schema: dict, **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema, **extra}


def openapi_document(server_url: str) -> dict[str, Any]:
    """The OpenAPI 3.0 definition of /ogc/, with every schema inline."""
    string, integer, number = {"type": "string"}, {"type": "integer"}, {"type": "number"}
    date_time = {"type": "string", "format": "date-time"}
    links = {"type": "array", "items": _ref("schemas", "link")}
    schemas = {
        "link": {"type": "object", "required": ["href", "rel"], "properties": {
            "href": string, "rel": string, "type": string, "hreflang": string,
            "title": string, "length": integer}},
        "landingPage": {"type": "object", "required": ["links"], "properties": {
            "title": string, "description": string, "links": links}},
        "confClasses": {"type": "object", "required": ["conformsTo"], "properties": {
            "conformsTo": {"type": "array", "items": string}}},
        "extent": {"type": "object", "properties": {
            "spatial": {"type": "object", "properties": {
                "bbox": {"type": "array", "minItems": 1, "items": {
                    "type": "array", "minItems": 4, "maxItems": 6, "items": number}},
                "crs": {"type": "string", "enum": [CRS84], "default": CRS84}}},
            "temporal": {"type": "object", "properties": {
                "interval": {"type": "array", "minItems": 1, "items": {
                    "type": "array", "minItems": 2, "maxItems": 2,
                    "items": {"type": "string", "format": "date-time", "nullable": True}}},
                "trs": {"type": "string", "enum": [GREGORIAN], "default": GREGORIAN}}}}},
        "collection": {"type": "object", "required": ["id", "links"], "properties": {
            "id": string, "title": string, "description": string, "links": links,
            "extent": _ref("schemas", "extent"), "itemType": {"type": "string",
                                                             "default": "feature"},
            "crs": {"type": "array", "items": string}}},
        "collections": {"type": "object", "required": ["links", "collections"], "properties": {
            "links": links,
            "collections": {"type": "array", "items": _ref("schemas", "collection")}}},
        "pointGeoJSON": {"type": "object", "nullable": True,
                         "required": ["type", "coordinates"], "properties": {
            "type": {"type": "string", "enum": ["Point"]},
            "coordinates": {"type": "array", "minItems": 2, "items": number}}},
        "incidentProperties": {"type": "object", "properties": {
            "title": string,
            "type": {"type": "string", "description": "incident type code (ACLED)"},
            "subtype": {"type": "string", "nullable": True,
                        "description": "sub-type code"},
            "status": {"type": "string", "enum": list(IncidentStatus.values)},
            "severity": {"type": "integer", "minimum": 1, "maximum": 5},
            "occurred_at": {**date_time, "description": "when it happened"},
            "recorded_at": {**date_time, "description": "when the centre learned of it"},
            "area": {"type": "string", "description": "area code"},
            "fatalities": {"type": "integer", "minimum": 0, "nullable": True},
            "injured": {"type": "integer", "minimum": 0, "nullable": True},
            "tags": {"type": "array", "items": string},
            "estimate": {"type": "boolean",
                         "description": "the figures are estimates"}}},
        "featureGeoJSON": {"type": "object", "required": ["type", "geometry", "properties"],
                           "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "string", "format": "uuid"},
            "geometry": _ref("schemas", "pointGeoJSON"),  # null where the place is unknown
            "properties": _ref("schemas", "incidentProperties"),
            "links": links}},
        "featureCollectionGeoJSON": {"type": "object", "required": ["type", "features"],
                                     "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": _ref("schemas", "featureGeoJSON")},
            "links": links, "timeStamp": date_time,
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberReturned": {"type": "integer", "minimum": 0}}},
        "exception": {"type": "object", "required": ["code"], "properties": {
            "code": string, "description": string, "type": string, "title": string,
            "status": integer, "detail": string,
            "errors": {"type": "array", "items": {"type": "object", "properties": {
                "field": string, "message": string}}}}},
    }
    status_list = ", ".join(IncidentStatus.values)
    parameters = {
        "f": _query("f", "The format of the response; only json is served.",
                    {"type": "string", "enum": ["json"], "default": "json"}),
        "bbox": _query("bbox", (
            "Only incidents whose point lies in this box: min longitude, min latitude, max "
            "longitude, max latitude in CRS84 (WGS 84, longitude first); six numbers add "
            "heights, which are ignored. A box whose min longitude exceeds its max longitude "
            "crosses the antimeridian."),
            {"type": "array", "minItems": 4, "maxItems": 6, "items": number},
            style="form", explode=False),
        "datetime": _query("datetime", (
            "Only incidents that occurred at this RFC 3339 instant or in this interval "
            "(bounds included): 2022-01-05T10:00:00Z, 2022-01-05T00:00:00Z/"
            "2022-01-06T00:00:00Z, ../2022-01-06T00:00:00Z or 2022-01-05T00:00:00Z/..; a "
            "date alone stands for that whole day in UTC."), string, style="form",
            explode=False),
        "limit": _query("limit", (
            f"The number of incidents per page, at most {LIMIT_MAX} (a larger value is "
            f"served as {LIMIT_MAX})."),
            {"type": "integer", "minimum": 1, "maximum": LIMIT_MAX,
             "default": LIMIT_DEFAULT}, style="form", explode=False),
        "cursor": _query("cursor", "Where the page starts: take it from the 'next' link.",
                         string),
        "area": _query("area", "Only incidents in this area (area code) and below it.",
                       string),
        "type": _query("type", "Only incidents of this type or sub-type (code).", string),
        "status": _query("status", (
            f"Only incidents in these statuses, separated by commas: {status_list}. Without "
            "it, incidents merged into another are left out."),
            string),
        "documents": _query("documents", (
            "true: only incidents whose page lists a document (a photo, a scan: their own "
            "or a merged duplicate's, not withdrawn); false: only those that list none."),
            {"type": "boolean"}, style="form", explode=False),
        "featureId": {"name": "featureId", "in": "path", "required": True,
                      "description": "The incident's id",
                      "schema": {"type": "string", "format": "uuid"}},
    }
    problem = {PROBLEM_JSON: {"schema": _ref("schemas", "exception")}}
    responses = {
        "InvalidParameter": {"description": "A query parameter is unknown or malformed.",
                             "content": problem},
        "Unauthorized": {
            "description": "No valid API token or session.", "content": problem,
            "headers": {"WWW-Authenticate": {"schema": string}}},
        "NotFound": {"description": "No such resource, or not one you may see.",
                     "content": problem},
    }
    items = f"/collections/{COLLECTION}/items"
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Sitroom OGC API – Features", "version": "1.0.0",
            "description": ("OGC API – Features Part 1: Core for the incidents of the "
                             "operations centre."),
            "license": {"name": "AGPL-3.0-or-later",
                        "url": "https://www.gnu.org/licenses/agpl-3.0.html"}},
        "servers": [{"url": server_url}],
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        "tags": [{"name": COLLECTION, "description": "Incidents"}],
        "paths": {
            "/": _operation("getLandingPage", "Landing page",
                            _ok("Links to the API's resources.", "landingPage"),
                            public=True),
            "/conformance": _operation(
                "getConformanceDeclaration", "Conformance classes",
                _ok("The conformance classes this server implements.", "confClasses"),
                public=True),
            "/collections": _operation(
                "getCollections", "Feature collections",
                _ok("The collections you may read.", "collections")),
            f"/collections/{COLLECTION}": _operation(
                "describeIncidentsCollection", "The incidents collection",
                _ok("Metadata of the collection, with the extent of what you see.",
                    "collection")),
            items: _operation(
                "getIncidents", "Incidents, newest first",
                _ok("A page of incidents; follow the 'next' link for the next page.",
                    "featureCollectionGeoJSON", GEOJSON),
                parameters=ITEMS_PARAMETERS[1:],
                with_404=True),
            items + "/{featureId}": _operation(
                "getIncident", "One incident",
                _ok("The incident.", "featureGeoJSON", GEOJSON),
                parameters=("featureId",), with_404=True),
            "/openapi": {"get": {
                "operationId": "getApiDefinition", "summary": "This API definition",
                "tags": [COLLECTION], "security": [],
                "responses": {"200": {"description": "The OpenAPI 3.0 document.",
                                      "content": {OPENAPI_JSON: {"schema": {
                                          "type": "object"}}}}}}},
        },
        "components": {
            "schemas": schemas, "parameters": parameters, "responses": responses,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "An API token: sitroom token create"},
                "sessionCookie": {"type": "apiKey", "in": "cookie",
                                  "name": settings.SESSION_COOKIE_NAME}},
        },
    }


# --- Views ------------------------------------------------------------------------------
