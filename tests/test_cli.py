"""Commands: demo, import-areas, token, user; and production settings."""

import json
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from sitroom.core.models import Area, JournalEntry, Place


def test_demo_loads_the_scenario_and_a_second_run_adds_nothing(db, capsys, settings):
    if not settings.BOUNDARIES_DIR.exists():
        pytest.skip(f"no boundary data at {settings.BOUNDARIES_DIR}")
    call_command("demo")
    out = capsys.readouterr().out
    assert "Sign in as user 'demo' with password" in out
    assert Area.objects.filter(level="region").count() == 14
    assert Area.objects.filter(parent__code="KZ-ALA", level="district").count() == 8
    assert Area.objects.exclude(boundary=None).count() == 25
    assert Place.objects.filter(code__icontains="AIRPORT").exists()
    entries = JournalEntry.objects.count()
    scenario = JournalEntry.objects.filter(source="scenario", kind__in=["event", "decision"])
    first = scenario.order_by("occurred_at").first()
    assert first.occurred_at.year == 2022 and first.occurred_at.month == 1
    assert first.recorded_at == first.occurred_at
    assert all(entry.payload.get("sources") for entry in scenario)
    assert JournalEntry.objects.filter(source="scenario", estimate=True).exists()
    call_command("demo")
    assert JournalEntry.objects.count() == entries
    call_command("journal", "verify")


def test_import_areas_reports_matches_and_writes_all_or_nothing(world, tmp_path, capsys):
    square = [[[76.8, 43.2], [77.0, 43.2], [77.0, 43.4], [76.8, 43.4], [76.8, 43.2]]]
    good = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "KZ-ALA", "title": "Almaty"},
         "geometry": {"type": "Polygon", "coordinates": square}},
        {"type": "Feature", "properties": {"code": "XX", "title": "Atlantis"},
         "geometry": {"type": "Polygon", "coordinates": square}},
    ]}
    path = tmp_path / "b.geojson"
    path.write_text(json.dumps(good))
    call_command("import_areas", str(path), "--code-property", "code",
                 "--name-property", "title")
    out = capsys.readouterr().out
    assert "matched 1 feature(s)" in out and "Almaty -> KZ-ALA" in out
    assert "1 feature(s) matched no area: Atlantis" in out
    assert Area.objects.get(code="KZ-ALA").boundary["type"] == "Polygon"

    bad = json.loads(json.dumps(good))
    bad["features"][0]["properties"]["code"] = "KZ-MAN"
    bad["features"][1]["geometry"] = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}
    path.write_text(json.dumps(bad))
    with pytest.raises(CommandError, match=r"features\[1\]\.geometry"):
        call_command("import_areas", str(path), "--code-property", "code")
    assert Area.objects.get(code="KZ-MAN").boundary is None  # nothing written


def test_point_in_area_after_import(world, tmp_path):
    from sitroom.core.geo import area_at

    square = [[[76.8, 43.2], [77.0, 43.2], [77.0, 43.4], [76.8, 43.4], [76.8, 43.2]]]
    path = tmp_path / "b.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "KZ751110"},
         "geometry": {"type": "Polygon", "coordinates": square}}]}))
    call_command("import_areas", str(path), "--code-property", "code")
    assert area_at(43.3, 76.9).code == "KZ751110"
    assert area_at(10.0, 10.0) is None


def test_token_create_prints_a_working_token(world, capsys, client):
    call_command("token", "create", "--user", "duty", "--name", "ops")
    secret = capsys.readouterr().out.strip()
    r = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert r.json()["username"] == "duty"
    with pytest.raises(CommandError, match="--user: no user named 'ghost'"):
        call_command("token", "create", "--user", "ghost")


def test_user_create_refuses_unknown_area(world, monkeypatch):
    monkeypatch.setenv("SITROOM_NEW_PASSWORD", "another-long-passphrase-9")
    with pytest.raises(CommandError, match="areas: unknown area code"):
        call_command("user", "create", "newbie", "--role", "analyst", "--area", "NOPE")
    call_command("user", "create", "newbie", "--role", "analyst", "--area", "KZ-ALA")


def _sitroom(args, env_extra, home):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SITROOM_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update({"SITROOM_HOME": str(home), **env_extra})
    return subprocess.run([sys.executable, "-m", "sitroom.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_check_deploy_passes_with_production_settings(tmp_path):
    r = _sitroom(["check", "--deploy", "--fail-level", "WARNING"],
                 {"SITROOM_HTTPS": "true", "SITROOM_ALLOWED_HOSTS": "eoc.example.org",
                  "SITROOM_SECRET_KEY": "x" * 20 + "a-long-random-production-secret-" * 2},
                 tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_debug_is_off_by_default_and_secret_key_is_kept(tmp_path):
    code = "from django.conf import settings; print(settings.DEBUG, settings.SECRET_KEY)"
    first = _sitroom(["shell", "-v", "0", "-c", code], {}, tmp_path).stdout.split()
    second = _sitroom(["shell", "-v", "0", "-c", code], {}, tmp_path).stdout.split()
    assert first[0] == "False"
    assert first[1] == second[1] and len(first[1]) > 50


def test_bad_setting_is_named(tmp_path):
    r = _sitroom(["check"], {"SITROOM_DEBUG": "maybe"}, tmp_path)
    assert r.returncode != 0 and "SITROOM_DEBUG" in r.stderr
