"""The force's records: services and journal, history as of a moment, the handover rule
on what was recorded, and the API with the wrong users."""

from datetime import datetime

import pytest

from sitroom.core.errors import InvalidInput, NotAllowed
from sitroom.core.models import JournalEntry
from sitroom.forces import queries, services
from sitroom.forces.models import GuardPost
from sitroom.forces.planner.handover import boarding_gaps, site_gaps
from sitroom.testing.api import call
from sitroom.testing.world import SYSTEM

T = datetime.fromisoformat


def test_site_gap_names_site_unit_time_and_shortfall():
    [gap] = site_gaps("chp2", "CHP-2", "kg", T("2022-01-14T09:30+06:00"),
                      T("2022-01-14T10:00+06:00"), 60, unit_name="Kyrgyz unit")
    assert gap.kind == "overlap" and gap.shortfall_min == 90
    assert str(gap) == ("CHP-2: relief begins 10:00, Kyrgyz unit's guard ends 09:30 — 90 min "
                        "short of the required 60-min overlap")
    assert site_gaps("chp2", "CHP-2", "kg", T("2022-01-14T09:30+06:00"),
                     T("2022-01-14T08:30+06:00"), 60) == []
    [alone] = site_gaps("chp2", "CHP-2", "kg", T("2022-01-14T09:30+06:00"), None, 60)
    assert alone.kind == "unguarded"


def test_boarding_gap_counts_travel_time():
    [gap] = boarding_gaps("kg", T("2022-01-14T08:00+06:00"),
                          [("chp2", "CHP-2", T("2022-01-14T08:10+06:00"), 60)])
    assert gap.kind == "boarding" and gap.shortfall_min == 70
    assert "09:10" in str(gap)
    assert boarding_gaps("kg", T("2022-01-14T09:10+06:00"),
                         [("chp2", "CHP-2", T("2022-01-14T08:10+06:00"), 60)]) == []


def test_every_write_is_journaled_and_a_rerun_changes_nothing(force):
    kinds = JournalEntry.objects.filter(kind="force")
    before = kinds.count()
    assert before >= 7
    _row, changed = services.save_unit(
        {"code": "KG-1", "contingent": "KG", "name": "Kyrgyz unit", "personnel": 150,
         "arrived_at": "2022-01-08T14:00:00+06:00", "departure_airfield": "UAAA",
         "home_airfield": "UCFM", "road_allowed": True, "road_min": 300},
        actor=SYSTEM, source="cli")
    assert not changed and kinds.count() == before


def test_bad_input_names_the_field_and_writes_nothing(force):
    with pytest.raises(InvalidInput) as exc:
        services.record_movement({"kind": "flight", "origin": "UAAA",
                                  "actual_departure": "2022-01-14T09:00",
                                  "manifest": [{"unit": "KG-1", "personnel": 999}]},
                                 actor=SYSTEM, source="cli")
    assert {"aircraft_type", "actual_departure", "manifest[0].personnel"} <= set(
        exc.value.errors)
    assert not services.Movement.objects.exists()


def test_guard_history_is_kept_and_read_as_of(force, users):
    services.update_guard_post("G-CHP2", {"end": "2022-01-14T07:00:00+06:00"},
                               actor=users["duty"], source="web")
    versions = GuardPost.objects.filter(uid="G-CHP2").order_by("recorded_at")
    assert versions.count() == 2 and versions[0].end is None
    assert versions[0].superseded_at is not None
    # before the change was recorded, the guard had no end
    earlier = queries.guard_posts(users["director"], versions[1].recorded_at.replace(year=2021))
    assert not earlier.exists()
    now = queries.guard_posts(users["director"]).get()
    assert now.end == T("2022-01-14T07:00+06:00")


def test_recorded_gaps_name_the_site_and_time(recorded_gaps, users):
    # an overlap gap and a boarding gap at CHP-2 (conftest.recorded_gaps)
    gaps = services.check_force()
    assert {(g.kind, g.site_id, g.shortfall_min) for g in gaps} == {
        ("overlap", "CHP2", 30), ("boarding", "CHP2", 20)}
    # as known now; as known on 14 January the movement was not yet recorded here
    [row] = queries.board(users["director"])["contingents"]
    assert row["personnel"] == 0 and row["vehicles"] == 0
    assert {g["kind"] for g in row["gaps"]} == {"overlap", "boarding"}
    assert "CHP-2" in row["gaps"][0]["message"]
    [past] = queries.board(users["director"], T("2022-01-14T12:00+06:00"))["contingents"]
    assert past["personnel"] == 150 and past["gaps"] == []


def test_roles_and_scope_for_writes(force, users):
    data = {"key": "R2", "place": "CHP2", "relieving_unit": "Police",
            "start": "2022-01-14T05:00:00+06:00"}
    for name in ("viewer", "outsider", "reporter"):
        with pytest.raises(NotAllowed):
            services.record_relief(data, actor=users[name], source="web")
    with pytest.raises(NotAllowed):
        services.update_aircraft_type("IL76MD", {"airframes_available": 9},
                                      actor=users["duty"], source="web")
    services.update_aircraft_type("IL76MD", {"airframes_available": 9},
                                  actor=users["director"], source="web")


def test_api_reads_and_writes(force, token_for):
    duty = token_for("duty")
    r = call(duty, "get", "/api/v1/forces/units/KG-1")
    assert r.status_code == 200 and r.json()["vehicles"][0]["count"] == 8
    r = call(duty, "post", "/api/v1/forces/movements", {
        "key": "KG-ROAD", "kind": "road", "origin_place": "CHP2",
        "planned_departure": "2022-01-14T09:00:00+06:00",
        "manifest": [{"unit": "KG-1", "personnel": 150, "vehicles": {"KamAZ": 8}}]})
    assert r.status_code == 201, r.content
    r = call(duty, "patch", "/api/v1/forces/movements/KG-ROAD",
             {"actual_departure": "2022-01-14T09:20:00+06:00"})
    assert r.status_code == 200 and r.json()["actual_departure"].startswith("2022-01-14T03:20")
    r = call(duty, "get", "/api/v1/forces/board")
    assert r.json()["personnel"] == 0
    r = call(duty, "get", "/api/v1/forces/board", {"as_of": "2022-01-14T09:00:00+06:00"})
    assert r.json()["personnel"] == 150
    r = call(duty, "post", "/api/v1/forces/guard-posts",
             {"unit": "KG-1", "place": "CHP2", "start": "2022-01-10T10:00:00"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "start"


def test_api_wrong_users(force, token_for):
    outsider, viewer = token_for("outsider"), token_for("viewer")
    assert call(outsider, "get", "/api/v1/forces/units").json() == []
    assert call(outsider, "get", "/api/v1/forces/units/KG-1").status_code == 404
    assert call(outsider, "get", "/api/v1/forces/guard-posts").json() == []
    assert call(outsider, "get", "/api/v1/forces/board").json()["contingents"] == []
    relief = {"place": "CHP2", "relieving_unit": "Police",
              "start": "2022-01-14T05:00:00+06:00"}
    assert call(outsider, "post", "/api/v1/forces/reliefs", relief).status_code == 403
    assert call(viewer, "get", "/api/v1/forces/units/KG-1").status_code == 200
    assert call(viewer, "post", "/api/v1/forces/reliefs", relief).status_code == 403
    assert call(viewer, "patch", "/api/v1/forces/aircraft-types/IL76MD",
                {"airframes_available": 1}).status_code == 403


def test_load_aircraft_types_command(db, tmp_path):
    from django.core.management import CommandError, call_command

    call_command("load_aircraft_types")
    t = services.AircraftType.objects.get(code="AN124")
    assert t.acl_kg == 100000 and t.floor_width_m == 6.4 and t.sources
    assert services.AircraftType.objects.count() == 6
    bad = tmp_path / "bad.json"
    bad.write_text('{"aircraft_types": [{"code": "X1", "name": "X", "acl_kg": -1}]}')
    with pytest.raises(CommandError, match=r"aircraft_types\[0\]\.acl_kg"):
        call_command("load_aircraft_types", file=bad)
    assert not services.AircraftType.objects.filter(code="X1").exists()


def test_openapi_stays_self_contained(world, client):
    import json
    import re

    text = client.get("/api/v1/openapi.json").content.decode()
    assert all(ref.startswith("#/") for ref in re.findall(r'"\$ref":\s*"([^"]+)"', text))
    assert "/api/v1/forces/board" in json.loads(text)["paths"]


def test_contingent_unit_and_relief_names_in_three_languages(force, token_for):
    from sitroom.forces.models import Contingent, Relief, Unit

    director = token_for("director")
    r = call(director, "patch", "/api/v1/forces/contingents/KG",
             {"name_ru": "Кыргызский контингент", "name_kk": "Қырғызстан контингенті"})
    assert r.status_code == 200, r.content
    assert r.json()["name_ru"] == "Кыргызский контингент"
    # A later change of something else keeps the names.
    r = call(director, "patch", "/api/v1/forces/contingents/KG", {"commander": "Col. X"})
    assert r.json()["name_kk"] == "Қырғызстан контингенті" and r.json()["name"]
    r = call(director, "patch", "/api/v1/forces/units/KG-1", {"name_ru": "Батальон КР"})
    assert r.status_code == 200 and r.json()["name_ru"] == "Батальон КР"
    assert r.json()["name"] == Unit.objects.get(code="KG-1").name  # English kept
    relief = Relief.objects.filter(superseded_at__isnull=True).first()
    r = call(director, "patch", f"/api/v1/forces/reliefs/{relief.uid}",
             {"relieving_unit_ru": "Национальная гвардия"})
    assert r.status_code == 200, r.content
    assert r.json()["relieving_unit_ru"] == "Национальная гвардия"
    assert r.json()["relieving_unit"] == relief.relieving_unit
    # Shown in the reader's language, English where none is given.
    from django.utils import translation

    kg, unit = Contingent.objects.get(code="KG"), Unit.objects.get(code="KG-1")
    with translation.override("ru"):
        assert kg.label() == "Кыргызский контингент" and unit.label() == "Батальон КР"
    with translation.override("en"):
        assert kg.label() == kg.name
    # The English name stays required.
    r = call(director, "patch", "/api/v1/forces/contingents/KG", {"name": ""})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name"
