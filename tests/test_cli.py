"""Commands: demo, import-areas, token, user; and production settings."""

import getpass
import json
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from sitroom.core.models import Area, JournalEntry, Place
from sitroom.testing.api import call


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
    assert "matched 1 feature to an area" in out and "Almaty -> KZ-ALA" in out
    assert "1 feature matched no area: Atlantis" in out
    assert Area.objects.get(code="KZ-ALA").boundary["type"] == "Polygon"

    bad = json.loads(json.dumps(good))
    bad["features"][0]["properties"]["code"] = "KZ-MAN"
    bad["features"][1]["geometry"] = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}
    path.write_text(json.dumps(bad))
    with pytest.raises(CommandError, match=r"features\[1\]\.geometry"):
        call_command("import_areas", str(path), "--code-property", "code")
    with translation.override("ru"), pytest.raises(CommandError) as refused:
        call_command("import_areas", str(path), "--code-property", "code")
    assert "ничего не импортировано" in str(refused.value)
    assert "не является допустимой геометрией GeoJSON" in str(refused.value)
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



def _access(name):
    from django.contrib.auth import get_user_model

    from sitroom.accounts.services import access_of

    return access_of(get_user_model().objects.get(username=name))


def _can_sign_in(client, name, password):
    ok = client.login(username=name, password=password)
    client.logout()
    return ok


def test_user_create_refuses_an_existing_name_and_changes_nothing(world, monkeypatch, client,
                                                                 token_for):
    from sitroom.testing.world import PASSWORD

    secret = token_for("reporter")
    entries = JournalEntry.objects.count()
    monkeypatch.setenv("SITROOM_NEW_PASSWORD", "Другой-Pass-999")
    with pytest.raises(CommandError, match=r"user viewer already exists; nothing was changed"
                                           r".*sitroom user update viewer"):
        call_command("user", "create", "viewer", "--role", "director", "--all-areas")
    with pytest.raises(CommandError, match="user reporter already exists"):
        call_command("user", "create", "reporter", "--role", "viewer", "--all-areas")
    assert _can_sign_in(client, "viewer", PASSWORD)
    assert not _can_sign_in(client, "viewer", "Другой-Pass-999")
    assert _access("viewer") == {"role": "viewer", "all_areas": True, "areas": [],
                                 "organizations": []}
    assert _access("reporter") == {"role": "field_reporter", "all_areas": False,
                                   "areas": ["KZ-ALA"], "organizations": []}
    assert _works(secret)
    assert JournalEntry.objects.count() == entries


def test_create_user_service_refuses_a_taken_name_for_every_caller(world):
    from sitroom.accounts.services import create_user
    from sitroom.core.actors import Actor
    from sitroom.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="username: a user named viewer already exists"):
        create_user("viewer", role="director", all_areas=True, password="Другой-Pass-999",
                    actor=Actor(user=world.users["director"]), source="web")
    assert _access("viewer")["role"] == "viewer"


def test_user_create_says_what_it_made(world, monkeypatch, capsys, client):
    monkeypatch.setenv("SITROOM_NEW_PASSWORD", "another-long-passphrase-9")
    call_command("user", "create", "newbie", "--role", "analyst", "--area", "KZ-ALA")
    assert capsys.readouterr().out.strip() == "Created user newbie: Analyst, areas KZ-ALA."
    assert _can_sign_in(client, "newbie", "another-long-passphrase-9")
    entry = JournalEntry.objects.order_by("seq").last()
    assert entry.summary == "User newbie created as Analyst"
    # the role as the reader's language names it (it was the role's code: "director")
    from sitroom.core.i18n import render

    with translation.override("ru"):
        assert render(entry.summary, entry.payload) == (
            "Пользователь newbie создан с ролью Аналитик")
    assert entry.actor_label == f"system:cli:{getpass.getuser()}"  # who ran it


def test_user_update_changes_an_existing_user_and_says_what_changed(world, capsys, client,
                                                                     token_for):
    from sitroom.testing.world import PASSWORD

    secret = token_for("reporter")
    call_command("user", "update", "reporter", "--role", "viewer", "--all-areas")
    assert capsys.readouterr().out.strip() == (
        "Updated user reporter: role Field reporter → Viewer; "
        "scope areas KZ-ALA → all areas; password unchanged.")
    assert _access("reporter") == {"role": "viewer", "all_areas": True, "areas": [],
                                   "organizations": []}
    assert _can_sign_in(client, "reporter", PASSWORD)
    assert _works(secret)
    entry = JournalEntry.objects.order_by("seq").last()
    assert entry.summary == "User reporter updated: Viewer"
    assert entry.actor_label == f"system:cli:{getpass.getuser()}"  # who ran it
    assert entry.payload["was"] == {"role": "field_reporter", "all_areas": False,
                                    "areas": ["KZ-ALA"]}

    entries = JournalEntry.objects.count()
    call_command("user", "update", "reporter", "--role", "viewer", "--all-areas")
    assert "already has role Viewer and scope all areas; nothing was changed" in (
        capsys.readouterr().out)
    assert JournalEntry.objects.count() == entries


def test_user_update_refuses_an_unknown_user(world):
    from django.contrib.auth import get_user_model

    with pytest.raises(CommandError, match=r"no user named ghost; nothing was changed"
                                           r".*sitroom user create ghost"):
        call_command("user", "update", "ghost", "--role", "viewer", "--all-areas")
    assert not get_user_model().objects.filter(username="ghost").exists()


def test_user_create_refusal_is_in_the_readers_language(world, monkeypatch):
    monkeypatch.setenv("SITROOM_NEW_PASSWORD", "Другой-Pass-999")
    with translation.override("ru"), pytest.raises(
            CommandError, match="пользователь viewer уже существует"):
        call_command("user", "create", "viewer", "--role", "director", "--all-areas")
    with translation.override("kk"), pytest.raises(
            CommandError, match="viewer пайдаланушысы бұрыннан бар"):
        call_command("user", "create", "viewer", "--role", "director", "--all-areas")


def _works(secret):
    return call(secret, "get", "/api/v1/me").status_code == 200


def _token(world, name="ops", user="duty"):
    from sitroom.accounts.services import create_token
    from sitroom.core.actors import Actor

    return create_token(world.users[user], name, actor=Actor.system_actor("tests"),
                        source="cli")


@pytest.mark.parametrize("given", ["srt_{prefix}", "{prefix}", "{secret}", "srt_{start}",
                                   "{start}"])
def test_token_revoke_takes_the_start_of_the_token_or_the_whole_token(world, capsys, given):

    token, secret = _token(world)
    reference = given.format(prefix=token.prefix, secret=secret, start=token.prefix[:5])
    call_command("token", "revoke", reference)
    assert capsys.readouterr().out.strip() == (
        f"Revoked API token ops of duty ({token.prefix}).")
    assert not _works(secret)
    call_command("token", "revoke", reference)
    assert "was already revoked on" in capsys.readouterr().out


def test_token_revoke_refuses_an_ambiguous_unknown_or_wrong_reference(world):
    from sitroom.accounts.models import ApiToken

    first, first_secret = _token(world, "tablet")
    second, second_secret = _token(world, "laptop", user="reporter")
    ApiToken.objects.filter(pk=first.pk).update(prefix="abcd1111")
    ApiToken.objects.filter(pk=second.pk).update(prefix="abcd2222")
    with pytest.raises(CommandError, match=r"'srt_abcd' fits more than one token: "
                                           r"abcd1111 \(duty/tablet\), "
                                           r"abcd2222 \(reporter/laptop\)"):
        call_command("token", "revoke", "srt_abcd")
    with pytest.raises(CommandError, match="prefix: no token 'srt_ffff0000'"):
        call_command("token", "revoke", "srt_ffff0000")
    with pytest.raises(CommandError, match="give at least 4 characters"):
        call_command("token", "revoke", "srt_a")
    with pytest.raises(CommandError, match="token: no token has this secret"):
        call_command("token", "revoke", first_secret[:-3] + "xyz")
    assert _works(first_secret)
    assert _works(second_secret)

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


def test_account_commands_act_as_the_named_user_within_their_rights(world, monkeypatch):
    """`user` and `token` take `--as`: a user who may not manage accounts is refused,
    one who may is named in the journal; without it, the operating-system login is."""
    from sitroom.accounts.models import ApiToken

    monkeypatch.setenv("SITROOM_NEW_PASSWORD", "another-long-passphrase-9")
    with pytest.raises(CommandError, match="duty may not"):
        call_command("user", "create", "newbie", "--role", "viewer", "--all-areas",
                     "--as", "duty")
    with pytest.raises(CommandError, match="--as: no user named 'ghost'"):
        call_command("user", "create", "newbie", "--role", "viewer", "--as", "ghost")
    assert not _exists("newbie")
    call_command("user", "create", "newbie", "--role", "viewer", "--all-areas",
                 "--as", "director")
    made = JournalEntry.objects.filter(kind="access").latest("seq")
    assert "newbie" in made.summary and made.actor_label == "director"

    with pytest.raises(CommandError, match="duty may not"):
        call_command("token", "create", "--user", "newbie", "--as", "duty")
    assert not ApiToken.objects.filter(user__username="newbie").exists()
    call_command("token", "create", "--user", "duty", "--as", "duty")  # one's own token
    assert JournalEntry.objects.filter(kind="access").latest("seq").actor_label == "duty"
    call_command("token", "create", "--user", "newbie")
    assert JournalEntry.objects.filter(kind="access").latest("seq").actor_label == (
        f"system:cli:{getpass.getuser()}")


def _exists(name):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(username=name).exists()


# Prints, for every Sitroom command, its description and its own options' help as the
# command line shows them in the deployment's language (SITROOM_LANGUAGE).
_HELP_SCRIPT = """
import json, django
django.setup()
from django.core.management import get_commands, load_command_class
DJANGO = {"help", "version", "verbosity", "settings", "pythonpath", "traceback", "no_color",
          "force_color", "skip_checks"}
out = {}
for name, app in sorted(get_commands().items()):
    if not app.startswith("sitroom"):
        continue
    parser = load_command_class(app, name).create_parser("sitroom", name)
    texts = [parser.description or ""]
    for action in parser._actions:
        choices = getattr(action, "choices", None)
        if isinstance(choices, dict):  # sub-commands
            for sub in choices.values():
                texts += [a.help for a in sub._actions if a.help and a.dest not in DJANGO]
        elif action.help and action.dest not in DJANGO:
            texts.append(action.help)
    out[name] = texts
print(json.dumps(out))
"""


def _command_help(language):
    r = subprocess.run([sys.executable, "-c", _HELP_SCRIPT], capture_output=True, text=True,
                       timeout=120, check=True,
                       env={**os.environ, "DJANGO_SETTINGS_MODULE": "sitroom.settings",
                            "SITROOM_LANGUAGE": language})
    return json.loads(r.stdout)


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_every_commands_help_is_in_the_deployments_language(language):
    """`sitroom import-incidents --help` and the others were English on a Russian or
    Kazakh deployment (only plan-withdrawal's description was translated)."""
    english, translated = _command_help("en"), _command_help(language)
    assert {"import_incidents", "export_incidents", "plan_withdrawal", "demo"} <= set(english)
    untranslated = [(name, text) for name, texts in english.items()
                    for text, there in zip(texts, translated[name], strict=True)
                    if text and there == text]
    assert untranslated == []
    assert all(any("а" <= c.lower() <= "я" or c in "әғқңөұүһі" for c in text)
               for texts in translated.values() for text in texts if text)


def test_plan_withdrawal_demo_on_a_database_without_the_demo_says_to_load_it(db):
    """`plan-withdrawal --demo` on a migrated database without the demo's areas: a
    sentence naming what is missing and the command to run, not a traceback, and nothing
    of the force half-written."""
    from sitroom.forces.models import Contingent, Unit

    with pytest.raises(CommandError, match=r"run `sitroom demo` first") as refused:
        call_command("plan_withdrawal", "--demo")
    assert "no area with code 'KZ-ALA'" in str(refused.value)
    assert not Unit.objects.exists() and not Contingent.objects.exists()
