"""OGC API – Features under /ogc/, driven with OWSLib against the real server process."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlsplit

import httpx
import owslib.ogcapi
import pytest
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from openapi_spec_validator import validate as validate_openapi
from owslib.ogcapi.features import Features
from referencing import Registry
from referencing.jsonschema import DRAFT4

from sitroom.accounts.services import create_token
from sitroom.core.actors import Actor
from sitroom.incidents.services import (
    edit_incident,
    load_incident_types,
    merge,
    report_incident,
    set_status,
)
from sitroom.reports.ogc import parse_bbox, parse_datetime, parse_limit
from sitroom.testing.files import png
from sitroom.testing.server import session_cookie

SYSTEM = Actor.system_actor("tests")
CONFORMANCE = {"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/" + c
               for c in ("core", "geojson", "oas30")}
OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"

# key: title, occurred_at (UTC), lat, lon, area
INCIDENTS = {
    "A": ("Crowd at Republic Square", "2022-01-05T10:00:00", 43.2380, 76.9452, "KZ751110"),
    "B": ("Akimat building stormed", "2022-01-05T14:30:00", 43.2389, 76.9455, "KZ751110"),
    "C": ("Airport seized", "2022-01-05T18:00:00", 43.3553, 77.0447, "KZ751910"),
    "D": ("Shots near the TV tower", "2022-01-06T02:00:00", 43.2300, 76.9700, "KZ-ALA"),
    "E": ("Gas price protest in Zhanaozen", "2022-01-02T06:00:00", 43.3412, 52.8619, "KZ-MAN"),
    "F": ("Rally on the square in Aktau", "2022-01-04T09:00:00", 43.6481, 51.1722, "KZ-MAN"),
    "G": ("Looting reported, place unknown", "2022-01-06T08:00:00", None, None, "KZ-ALA"),
}
ALMATY, MANGYSTAU = {"A", "B", "C", "D", "G"}, {"E", "F"}

# OWSLib 0.35 keeps one module-level header dict and updates it with each client's headers,
# so a token given to one client would ride along with every later one: give each its own.
BASE_HEADERS = {k: v for k, v in owslib.ogcapi.REQUEST_HEADERS.items() if k != "Authorization"}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def data(live_world, server, monkeypatch):
    load_incident_types(actor=SYSTEM, source="cli")
    made = {}
    for key, (title, when, lat, lon, area) in INCIDENTS.items():
        made[key], _ = report_incident(actor=SYSTEM, source="cli", type="riots", title=title,
                                       occurred_at=utc(when), lat=lat, lon=lon, area=area)

    def token(name: str) -> str:
        user = live_world.users[name]
        return create_token(user, "gis", actor=Actor(user=user), source="cli")[1]

    def client(user: str | None = "director", headers: dict | None = None) -> Features:
        monkeypatch.setattr(owslib.ogcapi, "REQUEST_HEADERS", dict(BASE_HEADERS))
        if user is not None:
            headers = {"Authorization": f"Bearer {token(user)}", **(headers or {})}
        return Features(server + "/ogc/", headers=headers)

    keys = {str(inc.uid): key for key, inc in made.items()}
    return SimpleNamespace(world=live_world, incidents=made, token=token, client=client,
                           keys=keys, url=server + "/ogc")


def found(data, response: dict) -> set[str]:
    return {data.keys[f["id"]] for f in response["features"]}


def get(url: str, token: str | None = None, **params) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(url, params=params, headers=headers, timeout=30)


# --- Landing page, conformance, the API definition --------------------------------------

def test_landing_page_and_conformance_are_public(data):
    ogc = data.client(user=None)
    rels = {link["rel"]: link for link in ogc.links}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"]["type"] == OPENAPI_JSON
    assert rels["service-desc"]["href"] == data.url + "/openapi"
    assert rels["data"]["href"] == data.url + "/collections"
    assert ogc.response["title"] and ogc.response["description"]
    assert set(ogc.conformance()["conformsTo"]) >= CONFORMANCE
    docs = httpx.get(rels["service-doc"]["href"], timeout=30)
    assert docs.status_code == 200 and docs.headers["content-type"].startswith("text/html")
    assert '"url": "/ogc/openapi"' in docs.text
    script = re.search(r'src="([^"]+swagger-ui-bundle[^"]*)"', docs.text).group(1)
    assert httpx.get(data.url.removesuffix("/ogc") + script, timeout=30).status_code == 200


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_openapi_document_is_valid_and_self_contained(data):
    response = httpx.get(data.url + "/openapi", timeout=30)
    assert response.headers["content-type"] == OPENAPI_JSON
    doc = data.client(user=None).api()  # OWSLib follows the service-desc link
    assert doc == response.json()
    validate_openapi(doc)  # offline: nothing to fetch
    refs = list(_refs(doc))
    assert refs and all(ref.startswith("#/") for ref in refs), "remote $ref"
    limit = doc["components"]["parameters"]["limit"]["schema"]
    assert (limit["default"], limit["maximum"], limit["minimum"]) == (100, 10_000, 1)
    items = doc["paths"]["/collections/incidents/items"]["get"]
    names = {doc["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]["name"]
             for p in items["parameters"]}
    assert names == {"f", "bbox", "datetime", "limit", "cursor", "area", "type", "status",
                     "documents"}
    assert {"/", "/conformance", "/collections", "/collections/incidents",
            "/collections/incidents/items/{featureId}"} <= set(doc["paths"])
    assert doc["servers"] == [{"url": data.url}]


def test_responses_match_the_openapi_schemas(data):
    doc = httpx.get(data.url + "/openapi", timeout=30).json()
    registry = Registry().with_resource("urn:sitroom-ogc", DRAFT4.create_resource(doc))

    def check(instance, schema: str):
        OAS30Validator({"$ref": f"urn:sitroom-ogc#/components/schemas/{schema}"},
                       registry=registry, format_checker=oas30_format_checker
                       ).validate(instance)

    ogc = data.client()
    check(ogc.response, "landingPage")
    check(ogc.conformance(), "confClasses")
    check(ogc.collections(), "collections")
    check(ogc.collection("incidents"), "collection")
    page = ogc.collection_items("incidents", limit=3)
    check(page, "featureCollectionGeoJSON")
    check(ogc.collection_items("incidents", limit=100), "featureCollectionGeoJSON")  # null geometry
    check(ogc.collection_item("incidents", page["features"][0]["id"]), "featureGeoJSON")
    check(get(data.url + "/collections/incidents/items", data.token("viewer"), bbox="x").json(),
          "exception")


# --- Access -------------------------------------------------------------------------------

def test_no_token_gets_401_with_a_bearer_challenge(data):
    for path in ("/collections", "/collections/incidents", "/collections/incidents/items",
                 f"/collections/incidents/items/{data.incidents['A'].uid}"):
        response = get(data.url + path)
        assert response.status_code == 401, path
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.json()["code"] == "Unauthorized"
    with pytest.raises(RuntimeError, match="Bearer"):
        data.client(user=None).collections()
    posted = httpx.post(data.url + "/collections/incidents/items", timeout=30,
                        headers={"Authorization": f"Bearer {data.token('director')}"})
    assert posted.status_code == 405 and posted.headers["Allow"] == "GET, HEAD"
    bad = get(data.url + "/collections", "sr_00000000_not-a-token")
    assert bad.status_code == 401
    assert 'error="invalid_token"' in bad.headers["WWW-Authenticate"]


def test_browser_session_is_accepted(data):
    cookies = session_cookie(data.world.users["viewer"])
    response = httpx.get(data.url + "/collections/incidents/items", cookies=cookies, timeout=30)
    assert response.status_code == 200
    assert response.json()["numberMatched"] == len(INCIDENTS)


def test_an_outsider_sees_only_its_scope(data):
    ogc = data.client("outsider")
    page = ogc.collection_items("incidents")
    assert found(data, page) == MANGYSTAU
    assert page["numberMatched"] == page["numberReturned"] == 2
    extent = ogc.collection("incidents")["extent"]
    assert extent["spatial"]["bbox"] == [[51.1722, 43.3412, 52.8619, 43.6481]]
    first, last = extent["temporal"]["interval"][0]
    assert (datetime.fromisoformat(first), datetime.fromisoformat(last)) == (
        utc(INCIDENTS["E"][1]), utc(INCIDENTS["F"][1]))
    hidden = data.incidents["A"].uid
    with pytest.raises(RuntimeError, match="NotFound"):
        ogc.collection_item("incidents", str(hidden))
    with pytest.raises(RuntimeError, match="no area with code"):
        ogc.collection_items("incidents", area="KZ-ALA")
    assert found(data, data.client("reporter").collection_items("incidents")) == ALMATY


# --- Collections ----------------------------------------------------------------------------

def test_collections_list_the_incidents_with_their_extent(data):
    ogc = data.client()
    assert ogc.feature_collections() == ["incidents"]
    collections = ogc.collections()
    assert [link["rel"] for link in collections["links"]] == ["self"]
    meta = ogc.collection("incidents")
    assert meta == collections["collections"][0]
    assert meta["itemType"] == "feature"
    assert meta["extent"]["spatial"]["crs"].endswith("/CRS84")
    assert meta["extent"]["spatial"]["bbox"] == [[51.1722, 43.23, 77.0447, 43.6481]]
    interval = meta["extent"]["temporal"]["interval"][0]
    assert [datetime.fromisoformat(t) for t in interval] == [utc(INCIDENTS["E"][1]),
                                                           utc(INCIDENTS["G"][1])]
    items = [link for link in meta["links"] if link["rel"] == "items"]
    assert items[0]["href"] == data.url + "/collections/incidents/items"
    assert items[0]["type"] == "application/geo+json"
    with pytest.raises(RuntimeError, match="NotFound"):
        ogc.collection("lifelines")
    assert get(data.url + "/collections/lifelines/items", data.token("director")
               ).status_code == 404


def test_the_extent_follows_every_change(data):
    """The box is read from the kept grid counts and the indexes, not from every
    incident: it must still follow a merge, a move and a new report."""
    def box() -> list[float]:
        return data.client().collection("incidents")["extent"]["spatial"]["bbox"][0]

    west, east = data.incidents["F"], data.incidents["C"]
    # The westmost report merged into another: its point no longer counts.
    merge(data.incidents["E"], west, actor=SYSTEM, source="cli")
    assert box() == [52.8619, 43.23, 77.0447, 43.3553]
    # A report further east, then moved back west of Almaty's airport.
    far = report_incident(actor=SYSTEM, source="cli", type="riots", title="Khorgos crossing",
                          occurred_at=utc("2022-01-05T12:00:00"), lat=44.2, lon=80.4,
                          area="KZ-ALA")[0]
    assert box() == [52.8619, 43.23, 80.4, 44.2]
    edit_incident(far, {"lat": 43.3, "lon": 77.0, "area": "KZ751910"}, actor=SYSTEM,
                  source="cli")
    assert box() == [52.8619, 43.23, east.lon, 43.3553]


# --- Items: filters --------------------------------------------------------------------------

def test_items_are_geojson_with_the_counts(data):
    ogc = data.client()
    page = ogc.collection_items("incidents")
    assert ogc.response_headers["Content-Type"] == "application/geo+json"
    assert page["type"] == "FeatureCollection"
    assert found(data, page) == set(INCIDENTS)
    assert page["numberMatched"] == page["numberReturned"] == len(INCIDENTS)
    stamp = datetime.fromisoformat(page["timeStamp"])
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 60
    assert [link["rel"] for link in page["links"]] == ["self", "collection"]
    times = [datetime.fromisoformat(f["properties"]["occurred_at"]) for f in page["features"]]
    assert times == sorted(times, reverse=True)
    unplaced = next(f for f in page["features"] if data.keys[f["id"]] == "G")
    assert unplaced["geometry"] is None


@pytest.mark.parametrize(("bbox", "expected"), [
    ([76.8, 43.1, 77.1, 43.4], {"A", "B", "C", "D"}),
    ([76.94, 43.235, 76.95, 43.24], {"A", "B"}),
    ([76.8, 43.1, -100, 77.1, 43.4, 5000], {"A", "B", "C", "D"}),  # heights ignored
    ([50, 42, 54, 45], {"E", "F"}),
    ([0, 0, 1, 1], set()),
    ([76.9, 43, 52, 44], {"A", "B", "C", "D", "F"}),  # across the antimeridian
])
def test_bbox_filter(data, bbox, expected):
    page = data.client().collection_items("incidents", bbox=bbox)
    assert found(data, page) == expected
    assert page["numberMatched"] == len(expected)


@pytest.mark.parametrize("bbox", ["1,2,3", "1,2,3,4,5", "a,b,c,d", "0,91,1,92", "181,0,182,1",
                                  "0,10,1,5", "nan,1,2,3", ""])
def test_malformed_bbox_is_400(data, bbox):
    response = get(data.url + "/collections/incidents/items", data.token("director"),
                   bbox=bbox)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "InvalidParameterValue"
    assert body["errors"][0]["field"] == "bbox"


@pytest.mark.parametrize(("value", "expected"), [
    ("2022-01-05T14:30:00Z", {"B"}),                                  # instant
    ("2022-01-05T20:30:00+06:00", {"B"}),                             # same, with an offset
    ("2022-01-05T14:30:00.000001Z", set()),
    ("2022-01-05T00:00:00Z/2022-01-05T23:59:59Z", {"A", "B", "C"}),   # closed
    ("2022-01-05T10:00:00Z/2022-01-05T18:00:00Z", {"A", "B", "C"}),   # bounds included
    ("../2022-01-04T09:00:00Z", {"E", "F"}),                          # open start
    ("/2022-01-04T09:00:00Z", {"E", "F"}),
    ("2022-01-06T00:00:00Z/..", {"D", "G"}),                          # open end
    ("2022-01-06T00:00:00Z/", {"D", "G"}),
    ("2022-01-05", {"A", "B", "C"}),                                  # a whole day (UTC)
    ("../..", set(INCIDENTS)),
])
def test_datetime_filter(data, value, expected):
    page = data.client().collection_items("incidents", datetime_=value)
    assert found(data, page) == expected
    assert page["numberMatched"] == len(expected)


@pytest.mark.parametrize("value", [
    "yesterday", "2022-01-05T10:00:00", "2022-01-05 10:00:00Z", "2022-13-05T10:00:00Z",
    "2022-01-06T00:00:00Z/2022-01-05T00:00:00Z", "2022-01-05T00:00:00Z/x",
    "2022-01-05T00:00:00Z/2022-01-06T00:00:00Z/2022-01-07T00:00:00Z", "20220105T100000Z",
])
def test_malformed_datetime_is_400(data, value):
    response = get(data.url + "/collections/incidents/items", data.token("director"),
                   datetime=value)
    assert response.status_code == 400, value
    assert response.json()["errors"][0]["field"] == "datetime"


def test_an_unencoded_plus_gets_a_hint(data):
    response = httpx.get(data.url + "/collections/incidents/items?datetime=2022-01-05T20:30:00"
                         "+06:00", headers={"Authorization": f"Bearer {data.token('duty')}"},
                         timeout=30)
    assert response.status_code == 400
    assert "%2B" in response.json()["detail"]


def test_our_own_filters_area_type_status(data):
    ogc = data.client()
    assert found(data, ogc.collection_items("incidents", area="KZ751110")) == {"A", "B"}
    assert found(data, ogc.collection_items("incidents", area="KZ-ALA")) == ALMATY
    assert found(data, ogc.collection_items("incidents", type="riots")) == set(INCIDENTS)
    assert found(data, ogc.collection_items("incidents", type="protests")) == set()
    assert found(data, ogc.collection_items("incidents", type="riots.mob_violence")) == set()
    set_status([data.incidents["A"], data.incidents["E"]], "verified", actor=SYSTEM,
               source="cli")
    assert found(data, ogc.collection_items("incidents", status="verified")) == {"A", "E"}
    assert found(data, ogc.collection_items(
        "incidents", status="verified,reported", bbox=[50, 42, 54, 45])) == {"E", "F"}
    token = data.token("director")
    for name, value in (("area", "XX"), ("type", "picnic"), ("status", "verified,lost")):
        response = get(data.url + "/collections/incidents/items", token, **{name: value})
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == name


def test_unknown_parameter_and_format_are_400(data):
    ogc = data.client()
    with pytest.raises(RuntimeError, match="sortby"):
        ogc.collection_items("incidents", sortby=("title", "asc"))
    token = data.token("director")
    items = data.url + "/collections/incidents/items"
    response = get(items, token, offset="10")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "offset"
    assert "unknown query parameter" in response.json()["detail"]
    assert get(items, token, f="html").status_code == 400
    assert get(items, token, f="json").status_code == 200
    assert get(data.url + "/collections", token, foo="1").status_code == 400
    assert httpx.get(items + "?limit=1&limit=2", headers={"Authorization": f"Bearer {token}"},
                     timeout=30).status_code == 400
    assert get(data.url + "/", f="json").status_code == 200
    assert get(data.url + "/conformance", f="xml").status_code == 400


# --- Items: paging --------------------------------------------------------------------------

def walk(ogc: Features, **params) -> tuple[list[str], list[dict]]:
    """Every page, following `next` links (their query goes back through OWSLib)."""
    ids, pages = [], []
    page = ogc.collection_items("incidents", **params)
    while True:
        pages.append(page)
        assert page["numberReturned"] == len(page["features"])
        ids += [f["id"] for f in page["features"]]
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        if not nxt:
            return ids, pages
        parts = urlsplit(nxt[0])
        assert parts.path == "/ogc/collections/incidents/items"
        query = dict(parse_qsl(parts.query))
        if "bbox" in query:  # OWSLib wants a list (it joins a string's characters)
            query["bbox"] = query["bbox"].split(",")
        page = ogc.collection_items("incidents", **query)


def test_limit_and_next_paging_walks_every_item_exactly_once(data):
    # Five more at one and the same moment: the cursor must break the tie.
    for i in range(5):
        inc, _ = report_incident(actor=SYSTEM, source="cli", type="riots", title=f"Tie {i}",
                                 occurred_at=utc("2022-01-05T14:30:00"), lat=43.25,
                                 lon=76.95, area="KZ751110")
        data.keys[str(inc.uid)] = f"T{i}"
    ogc = data.client()
    total = len(INCIDENTS) + 5
    for limit in (1, 2, 5, 11, 12, 100):
        ids, pages = walk(ogc, limit=limit)
        assert len(ids) == len(set(ids)) == total, limit
        assert all(p["numberMatched"] == total for p in pages)
        assert [p["numberReturned"] for p in pages[:-1]] == [limit] * (len(pages) - 1)
        assert len(pages) == -(-total // limit)
    ids, pages = walk(ogc, limit=3, bbox=[76.8, 43.1, 77.1, 43.4],
                      datetime="2022-01-05T00:00:00Z/..")
    assert {data.keys[i] for i in ids} == {"A", "B", "C", "D", "T0", "T1", "T2", "T3", "T4"}
    assert len(ids) == 9 and pages[0]["numberMatched"] == 9


def test_limit_bounds(data):
    ogc = data.client()
    assert ogc.collection_items("incidents", limit=20_000)["numberReturned"] == len(INCIDENTS)
    token = data.token("director")
    items = data.url + "/collections/incidents/items"
    for bad in ("0", "-1", "abc", "1.5", ""):
        response = get(items, token, limit=bad)
        assert response.status_code == 400, bad
        assert response.json()["errors"][0]["field"] == "limit"
    response = get(items, token, cursor="not-ours")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cursor"


# --- A single item --------------------------------------------------------------------------

def test_single_item(data):
    ogc = data.client("viewer")
    incident = data.incidents["B"]
    item = ogc.collection_item("incidents", str(incident.uid))
    assert ogc.response_headers["Content-Type"] == "application/geo+json"
    assert item["type"] == "Feature" and item["id"] == str(incident.uid)
    assert item["geometry"] == {"type": "Point", "coordinates": [76.9455, 43.2389]}
    props = item["properties"]
    assert {k: props[k] for k in ("title", "type", "subtype", "status", "severity", "area",
                                  "fatalities", "injured", "tags", "estimate")} == {
        "title": "Akimat building stormed", "type": "riots", "subtype": None,
        "status": "reported", "severity": 2, "area": "KZ751110", "fatalities": None,
        "injured": None, "tags": [], "estimate": False}
    occurred = datetime.fromisoformat(props["occurred_at"])
    assert occurred == utc(INCIDENTS["B"][1])
    assert props["occurred_at"].endswith("+06:00")  # the deployment's zone, with its offset
    assert datetime.fromisoformat(props["recorded_at"]).utcoffset() is not None
    rels = {link["rel"]: link["href"] for link in item["links"]}
    assert rels["self"] == f"{data.url}/collections/incidents/items/{incident.uid}"
    assert rels["collection"] == data.url + "/collections/incidents"
    token = data.token("viewer")
    for missing in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        response = get(f"{data.url}/collections/incidents/items/{missing}", token)
        assert response.status_code == 404
        assert response.json()["code"] == "NotFound"


def test_an_incidents_photos_are_enclosures_that_open_with_the_same_token(data):
    incident = data.incidents["B"]
    api = data.url.removesuffix("/ogc") + f"/api/v1/incidents/{incident.uid}/documents"
    duty = {"Authorization": f"Bearer {data.token('duty')}"}
    photo, wrong = png(31), png(32)
    for name, content in (("akimat-east.png", photo), ("wrong.png", wrong)):
        assert httpx.post(api, files={"file": (name, content)}, headers=duty,
                          timeout=30).status_code == 201
    withdrawn = httpx.get(api, headers=duty, timeout=30).json()[1]
    assert httpx.post(f"{api}/{withdrawn['uid']}/withdraw", json={"reason": "wrong place"},
                      headers=duty, timeout=30).status_code == 200

    ogc = data.client("viewer")
    item = ogc.collection_item("incidents", str(incident.uid))
    enclosures = [link for link in item["links"] if link["rel"] == "enclosure"]
    assert [(e["title"], e["type"], e["length"]) for e in enclosures] == [
        ("akimat-east.png", "image/png", len(photo))]  # not the withdrawn one
    page = ogc.collection_items("incidents", limit=100)
    listed = {f["id"]: [link["href"] for link in f.get("links", [])] for f in page["features"]}
    assert listed[str(incident.uid)] == [enclosures[0]["href"]]
    assert all(not links for uid, links in listed.items() if uid != str(incident.uid))
    got = get(enclosures[0]["href"], data.token("viewer"))
    assert got.status_code == 200 and got.content == photo
    # The items filter by it, as the list and the exports do.
    assert found(data, ogc.collection_items("incidents", documents="true")) == {"B"}
    assert found(data, ogc.collection_items("incidents", documents="false")) == (
        set(INCIDENTS) - {"B"})  # the viewer sees the whole country
    response = get(data.url + "/collections/incidents/items", data.token("viewer"),
                   documents="yes")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "documents"
    # An analyst for Mangystau neither sees the incident nor opens its photo.
    assert get(enclosures[0]["href"], data.token("outsider")).status_code == 404


# --- The parsers, on their own ------------------------------------------------------------------

def test_parsers():
    assert parse_limit(None) == 100 and parse_limit("10000") == 10_000
    assert parse_limit("10001") == 10_000
    assert parse_bbox("170,-10,-170,10") == (170, -10, -170, 10)
    assert parse_bbox("1,2,0,3,4,9") == (1, 2, 3, 4)
    since, until = parse_datetime("2022-01-05")
    assert since == utc("2022-01-05T00:00:00")
    assert until == utc("2022-01-05T23:59:59.999999")
    assert parse_datetime("2022-01-05t10:00:00z") == (utc("2022-01-05T10:00:00"),) * 2
    assert parse_datetime("../..") == (None, None)
