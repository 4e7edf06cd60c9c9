"""The API: tokens, filters, as-of, pagination, problem details, scope, OpenAPI."""

import json
import re

from django.test import Client

from sitroom.accounts.services import create_token, revoke_token
from sitroom.core.actors import Actor
from sitroom.core.services import record_entry
from sitroom.testing.api import call


def api(token, method="get", path="/api/v1/journal", data=None, **headers):
    return call(token, method, path, data, **headers)


def seed(world, summary, area="KZ-ALA", occurred_at=None, kind="event"):
    return record_entry(actor=Actor.system_actor("seed"), source="import", kind=kind,
                        summary=summary, area=world.areas[area], occurred_at=occurred_at,
                        recorded_at=occurred_at)


def test_post_then_list_entry(token_for):
    token = token_for("duty")
    r = api(token, "post", data={"kind": "note", "summary": "Airport retaken",
                                 "area": "KZ751910", "occurred_at": "2022-01-06T05:00:00+06:00"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["actor"] == "duty (token test)"
    assert body["occurred_at"].startswith("2022-01-05T23:00:00")
    listed = api(token, path="/api/v1/journal", data={"area": "KZ-ALA", "q": "retaken"}).json()
    assert [e["seq"] for e in listed["items"]] == [body["seq"]]


def test_idempotency_key_makes_retries_safe(token_for):
    token = token_for("reporter")
    data = {"kind": "note", "summary": "Shots heard", "area": "KZ751110"}
    first = api(token, "post", data=data, **{"Idempotency-Key": "tablet-3-0001"})
    retry = api(token, "post", data=data, **{"Idempotency-Key": "tablet-3-0001"})
    assert (first.status_code, retry.status_code) == (201, 200)
    assert first.json()["seq"] == retry.json()["seq"]


def test_errors_are_problem_details_naming_the_field(token_for):
    token = token_for("duty")
    r = api(token, "post", data={"kind": "note", "summary": "x", "area": "NOWHERE",
                                 "occurred_at": "2022-01-05T12:00:00"})
    assert r.status_code == 422
    assert r["Content-Type"] == "application/problem+json"
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"occurred_at"}  # the schema refuses a time without offset first
    r = api(token, "post", data={"kind": "rumour", "summary": "x", "area": "NOWHERE"})
    assert r.json()["errors"] == [{"field": "area", "message": "no area with code 'NOWHERE'"}]
    r = api(token, path="/api/v1/journal", data={"as_of": "yesterday"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "as_of"


def test_the_schemas_complaints_are_worded_and_translated_like_the_services(token_for):
    token = token_for("duty")
    bad = {"kind": "note", "summary": "", "area": "KZ-ALA",
           "occurred_at": "2022-01-05T12:00:00"}
    r = api(token, "post", data=bad)
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert errors["occurred_at"] == "needs a time-zone offset, e.g. 2022-01-05T12:00:00+06:00"
    assert r.json()["title"] == "Invalid input"
    r = api(token, "post", data=bad, Accept_Language="ru")
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert errors["occurred_at"].startswith("требуется указать смещение часового пояса")
    assert r.json()["title"] == "Неверные данные"
    r = api(token, "post", data={"kind": "note", "summary": "x", "area": "KZ-ALA",
                                 "occurred_at": "tomorrow"}, Accept_Language="kk")
    message = r.json()["errors"][0]["message"]
    assert "ISO 8601" in message and "Input should" not in message
    r = api(token_for("director"), "post", path="/api/v1/forces/plans",
            data={"start": "2022-01-13T05:00:00+06:00", "time_limit_s": 0})
    assert r.json()["errors"] == [{"field": "time_limit_s", "message": "must be more than 0"}]


def test_as_of_shows_only_what_was_known_then(world, token_for):
    from datetime import datetime

    early = datetime.fromisoformat("2022-01-04T19:00:00+06:00")
    late = datetime.fromisoformat("2022-01-06T09:00:00+06:00")
    seed(world, "Crowd on Republic Square", occurred_at=early)
    seed(world, "Order restored", occurred_at=late)
    items = api(token_for("viewer"), data={"as_of": "2022-01-05T12:00:00+06:00"}).json()["items"]
    assert [e["summary"] for e in items] == ["Crowd on Republic Square"]


def test_pagination_walks_every_entry_once(world, token_for):
    for i in range(7):
        seed(world, f"report {i}")
    token = token_for("viewer")
    seen, url = [], "/api/v1/journal?limit=3&kind=event"
    while url:
        page = api(token, path=url.replace("http://testserver", "")).json()
        seen += [e["summary"] for e in page["items"]]
        url = page["next"]
    assert sorted(seen) == sorted(f"report {i}" for i in range(7))


def test_outsider_sees_nothing_outside_its_scope(world, token_for):
    seed(world, "Almaty event")
    seed(world, "Zhanaozen event", area="KZ-MAN")
    token = token_for("outsider")
    events = api(token, data={"kind": "event"}).json()["items"]
    assert [e["summary"] for e in events] == ["Zhanaozen event"]
    assert all(e["area"] == "KZ-MAN" for e in api(token).json()["items"])
    codes = [a["code"] for a in api(token, path="/api/v1/areas").json()["items"]]
    assert codes == ["KZ-MAN"]
    assert api(token, path="/api/v1/places").json()["count"] == 0
    almaty_seq = api(token_for("viewer"), data={"q": "Almaty event"}).json()["items"][0]["seq"]
    assert api(token, path=f"/api/v1/journal/{almaty_seq}").status_code == 404
    r = api(token, data={"area": "KZ-ALA"})
    assert r.status_code == 422  # an area it cannot see is an unknown area


def test_viewer_cannot_write_and_reporter_only_in_scope(token_for):
    r = api(token_for("viewer"), "post", data={"kind": "note", "summary": "x", "area": "KZ-ALA"})
    assert r.status_code == 403
    r = api(token_for("reporter"), "post", data={"kind": "note", "summary": "x",
                                                  "area": "KZ-MAN"})
    assert r.status_code == 422  # Mangystau is invisible to an Almaty reporter
    r = api(token_for("outsider"), "post", data={"kind": "note", "summary": "x",
                                                  "area": "KZ-MAN"})
    assert r.status_code == 201


def test_revoked_or_missing_token_is_refused(world):
    user = world.users["duty"]
    token, secret = create_token(user, "tablet", actor=Actor(user=user), source="cli")
    assert api(secret).status_code == 200
    revoke_token(token, actor=Actor(user=user), source="cli")
    r = api(secret)
    assert r.status_code == 401 and r["Content-Type"] == "application/problem+json"
    assert api(None).status_code == 401
    assert api("srt_bogus_token").status_code == 401


def test_token_secret_is_shown_once_and_stored_hashed(world, client):
    client.force_login(world.users["reporter"])
    r = client.post("/api/v1/tokens", json.dumps({"name": "field tablet"}),
                    content_type="application/json")
    assert r.status_code == 201
    secret = r.json()["token"]
    from sitroom.accounts.models import ApiToken

    stored = ApiToken.objects.get(prefix=r.json()["prefix"])
    assert secret not in (stored.digest, stored.prefix)
    assert "token" not in client.get("/api/v1/tokens").json()[0]


def test_session_writes_need_csrf(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["duty"])
    r = client.post("/api/v1/journal", json.dumps({"kind": "note", "summary": "x",
                                                   "area": "KZ-ALA"}),
                    content_type="application/json")
    assert r.status_code in (401, 403)


def test_areas_geojson_has_boundaries_or_centroids(world, token_for):
    r = api(token_for("viewer"), path="/api/v1/areas.geojson")
    assert r["Content-Type"] == "application/geo+json"
    features = {f["id"]: f for f in r.json()["features"]}
    assert features["KZ-ALA"]["geometry"] == {"type": "Point", "coordinates": [76.9429, 43.2155]}
    assert features["KZ-ALA"]["properties"]["name_ru"] == "Алматы"


def test_place_created_through_api_is_journaled_and_finds_its_area(world, token_for):
    token = token_for("duty")
    r = api(token, "post", path="/api/v1/places",
            data={"code": "CHP-2", "kind": "power_plant", "name": "CHP-2", "lat": 43.3,
                  "lon": 76.8, "area": "KZ-ALA"})
    assert r.status_code == 201, r.content
    entries = api(token, data={"kind": "place"}).json()["items"]
    assert entries[0]["summary"] == "Place CHP-2 added"
    r = api(token_for("viewer"), "post", path="/api/v1/places",
            data={"code": "X", "kind": "other", "name": "X", "lat": 43.3, "lon": 76.8,
                  "area": "KZ-ALA"})
    assert r.status_code == 403


def test_openapi_is_self_contained_and_docs_are_local(world, client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    text = r.content.decode()
    refs = set(re.findall(r'"\$ref":\s*"([^"]+)"', text))
    assert refs and all(ref.startswith("#/") for ref in refs)
    spec = json.loads(text)
    assert "/api/v1/journal" in spec["paths"]
    client.force_login(world.users["viewer"])
    html = client.get("/api/v1/docs").content.decode()
    assert "swagger-ui-bundle.js" in html
    assert not re.search(r'(src|href)="https?://', html)


def test_no_two_api_schemas_share_a_name():
    """The OpenAPI document names each schema by its class name and keeps one per name:
    two classes of the same name would document one endpoint with the other's shape (the
    security board was documented as the lifelines board)."""
    from ninja import Schema

    from sitroom.api.api import api

    doc = api.get_openapi_schema()
    modules: dict[str, set[str]] = {}

    def walk(cls):
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("sitroom."):
                modules.setdefault(sub.__name__, set()).add(sub.__module__)
            walk(sub)

    walk(Schema)
    assert {name: found for name, found in modules.items() if len(found) > 1} == {}
    ref = doc["paths"]["/api/v1/board"]["get"]["responses"][200]["content"][
        "application/json"]["schema"]["$ref"]
    board = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert "moment" in board["properties"] and "fresh_hours" not in board["properties"]


def test_openapi_declares_the_problem_details_each_operation_can_answer(world, client,
                                                                        token_for):
    """A client generated from the document knows the error answers and their body; and
    the answers the API really gives are the ones the document describes."""
    from openapi_schema_validator import OAS31Validator, oas31_format_checker
    from openapi_spec_validator import validate as validate_openapi
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    doc = client.get("/api/v1/openapi.json").json()
    validate_openapi(doc)
    paths = doc["paths"]
    problem = "application/problem+json"

    def declared(path, method):
        return set(paths[path][method]["responses"])

    assert {"401", "403", "422"} <= declared("/api/v1/incidents", "post")
    assert {"401", "404", "422"} <= declared("/api/v1/incidents/{uid}", "get")
    assert {"401", "403", "404", "422"} <= declared("/api/v1/incidents/{uid}", "patch")
    assert "404" in declared("/api/v1/lifelines/board", "get")  # no area visible to you
    # reads are scoped, not refused; nothing to validate where nothing is taken; anyone
    # may manage their own tokens
    assert "403" not in declared("/api/v1/incidents/{uid}", "get")
    assert "422" not in declared("/api/v1/me", "get")
    assert "403" not in declared("/api/v1/tokens", "post")
    for path, ops in paths.items():
        for method, op in ops.items():
            assert "401" in op["responses"], (path, method)
    body = paths["/api/v1/incidents"]["post"]["responses"]["422"]["content"][problem]
    assert body["schema"] == {"$ref": "#/components/schemas/ProblemDetails"}
    details = doc["components"]["schemas"]["ProblemDetails"]
    assert set(details["required"]) == {"type", "title", "status"}

    registry = Registry().with_resource("urn:api", DRAFT202012.create_resource(doc))

    def answers_as_documented(r, path, method):
        status = str(r.status_code)
        assert r["Content-Type"] == problem
        assert status in declared(path, method), (path, method, status)
        pointer = "/".join(["paths", path.replace("/", "~1"), method, "responses", status,
                            "content", problem.replace("/", "~1"), "schema"])
        OAS31Validator({"$ref": f"urn:api#/{pointer}"}, registry=registry,
                       format_checker=oas31_format_checker).validate(r.json())
        return r.json()

    duty = token_for("duty")
    invalid = answers_as_documented(api(duty, "post", "/api/v1/incidents", {"title": ""}),
                                    "/api/v1/incidents", "post")
    assert invalid["status"] == 422 and {e["field"] for e in invalid["errors"]} >= {"type"}
    missing = answers_as_documented(
        api(duty, path="/api/v1/incidents/6f1c1b7e-0000-4000-8000-000000000000"),
        "/api/v1/incidents/{uid}", "get")
    assert missing["status"] == 404
    refused = answers_as_documented(
        api(token_for("viewer"), "post", "/api/v1/places",
            {"code": "X", "kind": "other", "name": "X", "lat": 43.3, "lon": 76.8,
             "area": "KZ-ALA"}),
        "/api/v1/places", "post")
    assert refused["status"] == 403
    unknown = answers_as_documented(api("srt_made-up", path="/api/v1/incidents/x"),
                                    "/api/v1/incidents/{uid}", "get")
    assert unknown["status"] == 401
