"""The forces API says what it answers: every answer is a typed schema in the OpenAPI
document, the answers on the demo force (and on a force with handover gaps) validate against
that schema, and they are the same JSON the `*_out` dicts always gave."""

from __future__ import annotations

import json
from datetime import datetime

from django.test import RequestFactory
from ninja.responses import NinjaJSONEncoder
from openapi_schema_validator import OAS31Validator, oas31_format_checker
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from sitroom.forces import api as forces_api
from sitroom.forces.models import WithdrawalPlan
from sitroom.testing.api import call, token

F = "/api/v1/forces"
T = datetime.fromisoformat
JSON = "application/json"
BOARD_12 = "2022-01-12T12:00:00+06:00"



def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


class Documented:
    """Calls the API and checks each answer against the schema the OpenAPI document gives
    for that path, method and status."""

    def __init__(self, client, secret: str):
        self.doc = client.get("/api/v1/openapi.json").json()
        self.registry = Registry().with_resource("urn:sitroom-api",
                                                 DRAFT202012.create_resource(self.doc))
        self.secret = secret

    def check(self, template: str, method: str, status: int, instance) -> None:
        ref = "urn:sitroom-api#/" + _pointer("paths", template, method, "responses",
                                             str(status), "content", JSON, "schema")
        OAS31Validator({"$ref": ref}, registry=self.registry,
                       format_checker=oas31_format_checker).validate(instance)

    def __call__(self, method: str, template: str, data=None, *, status: int = 200,
                 **path):
        r = call(self.secret, method, F + template.format(**path), data)
        assert r.status_code == status, (template, r.content)
        self.check(F + template, method, status, r.json())
        return r.json()


def _json(value) -> str:
    """JSON text that tells 5 from 5.0 and true from 1, keys sorted."""
    return json.dumps(json.loads(json.dumps(value, cls=NinjaJSONEncoder)), sort_keys=True)


def _same_as_the_plain_dict(user, answer, view, /, **kwargs) -> None:
    """The typed answer is exactly the dict the view builds, as JSON."""
    request = RequestFactory().get("/")
    request.user = user
    assert _json(answer) == _json(view(request, **kwargs)), view.__name__


def _schema(doc, schema):
    """The component a response schema names (the items' for a list)."""
    schema = schema.get("items", schema)
    return doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]


def test_openapi_documents_every_forces_answer(world, client):
    doc = client.get("/api/v1/openapi.json").json()
    validate_openapi(doc)
    forces = {path: ops for path, ops in doc["paths"].items() if path.startswith(F)}
    assert len(forces) >= 20
    for path, ops in forces.items():
        for method, op in ops.items():
            for status, response in op["responses"].items():
                if status not in ("200", "201"):
                    continue
                schema = _schema(doc, response["content"][JSON]["schema"])
                assert schema.get("properties"), (path, method, status)

    def answer(path, method="get", status="200"):
        schema = doc["paths"][F + path][method]["responses"][status]["content"][JSON]["schema"]
        return _schema(doc, schema)

    units = answer("/units")
    vehicle = _schema(doc, units["properties"]["vehicles"])
    assert "(kg)" in vehicle["properties"]["weight_kg"]["description"]
    assert vehicle["properties"]["length_m"]["type"] == "number"
    assert answer("/units", "post", "200") == answer("/units", "post", "201") == units
    board = answer("/board")
    assert {"as_of", "personnel", "vehicles", "gaps", "plan", "deviations",
            "contingents"} <= set(board["required"])
    row = _schema(doc, board["properties"]["contingents"])
    assert {"contingent", "units", "sites_guarded", "handovers_done", "gaps"} <= set(
        row["properties"])
    deviation = _schema(doc, board["properties"]["deviations"])
    assert "detail" in deviation["properties"] and "detail" not in deviation["required"]
    for plan in (answer("/plans/{plan_id}"), answer("/plans", "post", "201")):
        props = plan["properties"]
        assert "lower bound on closure" in props["ratio"]["description"]
        assert "lower bound on sorties" in props["sortie_ratio"]["description"]
        assert props["plan"]["type"] == "object" and props["plan"]["description"]
        assert _schema(doc, props["gaps"])["title"] == "GapOut"
    assert "plan" not in answer("/plans")["properties"]  # the list leaves the plan out
    gap = answer("/gaps")
    assert set(gap["required"]) == {
        "kind", "site_id", "site", "unit_id", "unit", "at", "shortfall_min", "guard_end",
        "relief_start", "overlap_min", "boards_at", "released_at", "travel_min", "message"}
    movement = answer("/movements/{key}")["properties"]
    assert movement["manifest"]["type"] == "array"
    assert movement["planned_departure"]["anyOf"] == [{"type": "string"}, {"type": "null"}]


def test_demo_force_answers_match_the_documented_schemas(director, client):
    api = Documented(client, token(director))
    contingents = api("get", "/contingents")
    assert len(contingents) == 5
    _same_as_the_plain_dict(director, contingents, forces_api.list_contingents)
    code = contingents[0]["code"]
    api("get", "/contingents/{code}", code=code)
    units = api("get", "/units")
    _same_as_the_plain_dict(director, units, forces_api.list_units)
    assert any(unit["vehicles"] for unit in units)
    unit = api("get", "/units/{code}", code=units[0]["code"])
    assert unit == units[0]
    for listed, one in (("/airfields", "/airfields/{code}"),
                        ("/aircraft-types", "/aircraft-types/{code}"),
                        ("/guard-posts", "/guard-posts/{key}"),
                        ("/reliefs", "/reliefs/{key}"),
                        ("/movements", "/movements/{key}")):
        rows = api("get", listed)
        assert rows, listed
        name = one.rsplit("{", 1)[1].rstrip("}")
        assert api("get", one, **{name: rows[-1][name]}) == rows[-1]
    _same_as_the_plain_dict(director, api("get", "/movements"), forces_api.list_movements,
                            as_of=None)
    _same_as_the_plain_dict(director, api("get", "/guard-posts"),
                            forces_api.list_guard_posts, as_of=None)
    board = api("get", "/board", {"as_of": BOARD_12})
    assert (board["personnel"], board["vehicles"]) == (2030, 250)
    assert sum(len(row["sites_guarded"]) for row in board["contingents"]) == 10
    _same_as_the_plain_dict(director, board, forces_api.board, as_of=T(BOARD_12))
    assert api("get", "/gaps") == []
    [plan] = api("get", "/plans")
    assert "plan" not in plan
    _same_as_the_plain_dict(director, [plan], forces_api.list_plans)
    full = api("get", "/plans/{plan_id}", plan_id=plan["id"])
    assert full["plan"]["sorties"] and full["gaps"] == []
    _same_as_the_plain_dict(director, full, forces_api.get_plan, plan_id=plan["id"])

    # writes: the same data again is 200, a change 200, something new 201
    vehicle = units[0]["vehicles"][0] if units[0]["vehicles"] else next(
        u["vehicles"][0] for u in units if u["vehicles"])
    assert api("put", "/vehicles", vehicle) == vehicle
    assert api("post", "/contingents", contingents[0]) == contingents[0]
    changed = api("patch", "/units/{code}", {"note": "checked"}, code=units[0]["code"])
    assert changed == units[0] | {"note": "checked"}
    approved = api("post", "/plans/{plan_id}/approve", plan_id=plan["id"])
    assert approved["status"] == "approved" and "gaps" not in approved
    sortie = full["plan"]["sorties"][0]
    load = sortie["units"][0]
    # the demo's real flights already carried every unit out, so a sortie flown on top of
    # them can carry nobody more
    flown = api("post", "/movements", {
        "key": "DEMO-SORTIE-1", "kind": "flight", "plan": plan["id"], "sortie": sortie["id"],
        "aircraft_type": sortie["aircraft_type"], "origin": sortie["origin"],
        "destination": sortie["destination"], "actual_departure": sortie["depart"],
        "manifest": [{"unit": load["unit"], "personnel": 0}]},
        status=201)
    assert flown["manifest"][0]["unit"] == load["unit"] and flown["plan"] == plan["id"]
    # the board now shows how what flew differs from the approved plan
    board = api("get", "/board")
    assert board["plan"] == plan["id"]
    kinds = {d["kind"] for d in board["deviations"]}
    assert {"manifest", "missing"} <= kinds
    for deviation in board["deviations"]:
        assert ("detail" in deviation) == (deviation["kind"] == "manifest"), deviation
    [manifest] = [d for d in board["deviations"] if d["kind"] == "manifest"]
    assert manifest["sortie"] == sortie["id"] and manifest["movement"] == "DEMO-SORTIE-1"
    assert manifest["detail"]["actual"] == {load["unit"]: [0, 0]}
    request = RequestFactory().get("/")
    request.user = director
    plain = forces_api.board(request, as_of=None)
    assert _json(board | {"as_of": None}) == _json(plain | {"as_of": None})

    made = api("post", "/plans", {"start": "2022-01-13T06:00:00+06:00", "time_limit_s": 2},
               status=201)
    assert made["status"] == "draft" and isinstance(made["gaps"], list)
    assert WithdrawalPlan.objects.filter(pk=made["id"]).exists()


def test_gaps_match_the_documented_schemas(recorded_gaps, client, token_for):
    force = recorded_gaps  # an overlap gap and a boarding gap at CHP-2
    director = force.users["director"]
    api = Documented(client, token_for("director"))
    gaps = api("get", "/gaps")
    assert {(g["kind"], g["site_id"], g["shortfall_min"]) for g in gaps} == {
        ("overlap", "CHP2", 30), ("boarding", "CHP2", 20)}
    overlap = next(g for g in gaps if g["kind"] == "overlap")
    boarding = next(g for g in gaps if g["kind"] == "boarding")
    assert T(overlap["relief_start"]) == T("2022-01-14T06:00:00+06:00")
    assert T(boarding["released_at"]) == T("2022-01-14T07:00:00+06:00")
    assert "CHP-2" in overlap["message"]
    _same_as_the_plain_dict(director, gaps, forces_api.gaps, as_of=None)
    # the board now: the guard ended (a handover done), the gaps under the contingent
    board = api("get", "/board")
    [row] = board["contingents"]
    assert {g["kind"] for g in row["gaps"]} == {"overlap", "boarding"}
    [done] = row["handovers_done"]
    assert (done["place"], done["relieved_by"]) == ("CHP2", "National Guard")
    assert row["sites_guarded"] == [] and board["deviations"] == []
    request = RequestFactory().get("/")
    request.user = director
    plain = forces_api.board(request, as_of=None)
    assert _json(board | {"as_of": None}) == _json(plain | {"as_of": None})
