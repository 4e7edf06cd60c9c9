"""Why a problem cannot be planned, in the reader's language: the planner's core gives a
reason code and its parameters (it does not import Django); the plan page, the API and
`sitroom plan-withdrawal` say it in Russian and Kazakh, not in the planner's English."""

import os
import subprocess
import sys
from dataclasses import replace

import pytest

from sitroom.forces import services
from sitroom.forces.planner import solve
from sitroom.forces.planner.model import Fleet
from sitroom.testing.api import call
from sitroom.testing.world import SYSTEM

from .test_planner import small_problem

ENGLISH = ("fits no available", "floor width", "no national relief", "cannot be planned")
# the crane of RU-2 (3.6 m wide) on a fleet of Il-76s only (3.45 m floor)
WHY = {"ru": ("RU-2-V1", "не помещается ни в один тип", "ширина 3,6 м",
              "IL76MD", "3,45 м"),
       "kk": ("RU-2-V1", "ешбір", "ені 3,6 м", "IL76MD", "3,45 м")}


def crane_on_il76s():
    return replace(small_problem(), fleet=(Fleet("IL76MD", 3),))


def test_the_core_names_the_reason_by_code_and_parameters():
    plan = solve(crane_on_il76s(), time_limit_s=5)
    assert plan.status == "infeasible"
    assert plan.reason["code"] == "vehicle-fits-no-aircraft"
    params = plan.reason["params"]
    assert (params["vehicle"], params["unit"], params["kind"]) == ("RU-2-V1", "RU-2", "crane")
    assert params["misfits"] == [{"aircraft": "IL76MD", "dimension": "width", "value": 3.6,
                                  "limit": 3.45}]
    sites = (replace(small_problem().sites[0], relief_from=None), *small_problem().sites[1:])
    plan = solve(replace(small_problem(), sites=sites), time_limit_s=5)
    assert plan.reason["code"] == "site-without-relief"
    assert (plan.reason["params"]["site"], plan.reason["params"]["site_name"]) == (
        "S1", "CHP-1")


def test_the_planner_core_does_not_import_django():
    code = ("import sys; from sitroom.forces.planner import solve; "
            "from sitroom.forces.planner import common, model; "
            "print([m for m in sys.modules if m.split('.')[0] == 'django'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={k: v for k, v in os.environ.items()
                                          if k != "DJANGO_SETTINGS_MODULE"})
    assert out.stdout.strip() == "[]"


@pytest.fixture
def infeasible_plan(force):
    problem = crane_on_il76s()
    return services.save_plan(solve(problem, time_limit_s=5), SYSTEM, problem=problem)


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_the_plan_page_explains_in_the_readers_language(client, force, infeasible_plan,
                                                        language):
    client.force_login(force.users["director"])
    body = client.get(f"/forces/plan/?plan={infeasible_plan.pk}",
                      HTTP_ACCEPT_LANGUAGE=language).content.decode()
    start = body.index('id="plan-infeasible"')
    box = body[start:body.index("</div>", start)]
    for words in WHY[language]:
        assert words in box
    for words in ENGLISH:
        assert words not in box


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_the_api_explains_in_the_accept_language(force, infeasible_plan, token_for,
                                                 language):
    r = call(token_for("director"), "get", f"/api/v1/forces/plans/{infeasible_plan.pk}",
             accept_language=language)
    assert r.status_code == 200
    data = r.json()
    assert data["reason"]["code"] == "vehicle-fits-no-aircraft"
    assert data["reason"]["params"]["vehicle"] == "RU-2-V1"
    for words in WHY[language]:
        assert words in data["explanation"]
    assert not any(words in data["explanation"] for words in ENGLISH)
    listed = call(token_for("director"), "get", "/api/v1/forces/plans",
                  accept_language=language).json()
    assert [p["explanation"] for p in listed if p["id"] == infeasible_plan.pk] == [
        data["explanation"]]


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_the_command_explains_in_the_deployments_language(tmp_path, language):
    path = tmp_path / "problem.json"
    path.write_text(crane_on_il76s().dumps(), encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "sitroom.cli", "plan-withdrawal", "--problem", str(path),
         "--time-limit", "5", "--workers", "1"],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "SITROOM_LANGUAGE": language})
    assert out.returncode == 2
    last = out.stderr.strip().splitlines()[-1]
    for words in WHY[language]:
        assert words in last
    assert not any(words in last for words in ENGLISH)
