"""Names and media types shared by the OGC API views and their OpenAPI definition."""

COLLECTION = "incidents"
LIMIT_DEFAULT = 100
LIMIT_MAX = 10_000
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"
PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE = "https://sitroom.invalid/problems/"

ITEMS_PARAMETERS = ("f", "limit", "cursor", "bbox", "datetime", "area", "type", "status",
                    "documents")
