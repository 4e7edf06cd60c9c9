"""`sitroom plan-withdrawal` says in the deployment's language (SITROOM_LANGUAGE) what the
web says in the reader's: a plan's handover gaps, and why a problem file cannot be read,
never the planner's English."""

import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta

import pytest
from django.utils import translation

from sitroom.forces.management.commands.plan_withdrawal import plan_text
from sitroom.forces.planner import solve
from sitroom.forces.planner.handover import check_handover
from sitroom.forces.planner.model import Plan, Problem

from .test_planner import small_problem

GAP_ENGLISH = ("handover gap", "relief begins", "guard ends", "min short", "no relief is "
               "planned", "left unguarded")
GAP_WORDS = {"ru": ("разрыв при передаче охраны: CHP-1: сменяющее подразделение заступает",
                    "до требуемого перекрытия в 60 мин не хватает",
                    "разрыв при передаче охраны: CHP-2"),
             "kk": ("күзетті тапсырудағы үзіліс: CHP-1: ауыстыратын бөлімше",
                    "талап етілетін 60 мин қабаттасуға", "күзетті тапсырудағы үзіліс: CHP-2")}


@pytest.fixture(scope="module")
def small_plan():
    problem = small_problem()
    return problem, solve(problem, time_limit_s=5, workers=1)


def _relief_changed(problem: Problem, plan: Plan) -> Problem:
    """The problem after planning: CHP-1's relief comes two hours after its planned guard
    end, and CHP-2 has no relief any more (the planner itself never plans a gap)."""
    ends = {h.site: h.guard_end for h in plan.handovers}
    sites = tuple(
        replace(s, relief_from=ends[s.id] + timedelta(hours=2)) if s.id == "S1"
        else replace(s, relief_from=None) if s.id == "S3" else s
        for s in problem.sites)
    return replace(problem, sites=sites)


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_the_commands_handover_gaps_are_in_the_deployments_language(small_plan, language):
    problem, plan = small_plan
    gaps = check_handover(_relief_changed(problem, plan), plan)
    assert {(g.kind, g.site_id) for g in gaps} == {("overlap", "S1"), ("unguarded", "S3")}
    with translation.override(language):
        text = plan_text(plan, gaps)
    lines = [line for line in text.splitlines() if "CHP-" in line]
    assert len(lines) == 2
    for words in GAP_WORDS[language]:
        assert words in text, words
    for words in GAP_ENGLISH:
        assert words not in text, words


def test_the_demo_plans_gaps_name_the_sites_and_units_as_the_database_does(director):
    """With the force in the database (`--demo`), a site and a unit are named as the web
    names them, in the reader's language, not by the problem's English names."""
    from sitroom.forces.models import WithdrawalPlan

    row = WithdrawalPlan.objects.get()
    problem, plan = Problem.from_json(row.problem), Plan.from_json(row.plan)
    site = next(s for s in problem.sites if s.guarded_by == "TJ-PK")
    later = replace(site, relief_from=max(h.guard_end for h in plan.handovers
                                          if h.site == site.id) + timedelta(hours=1))
    gaps = check_handover(replace(problem, sites=tuple(
        later if s.id == site.id else s for s in problem.sites)), plan)
    assert [g.site_id for g in gaps] == [site.id]
    with translation.override("ru"):
        text = plan_text(plan, gaps, look_up=True)
    gap = text.splitlines()[-1]
    assert gap.startswith("разрыв при передаче охраны: Алматинская ТЭЦ-1")
    assert "Таджикский миротворческий батальон" in gap
    assert "Tajik" not in gap and "CHP-1" not in gap


def _command(args, language):
    return subprocess.run(
        [sys.executable, "-m", "sitroom.cli", "plan-withdrawal", *args],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "SITROOM_LANGUAGE": language})


BAD_FILE = {"ru": ("problem.units[0].personnel: ожидалось целое число, получено 'many'",
                   "не JSON (строка 1, столбец 13)"),
            "kk": ("problem.units[0].personnel: бүтін сан күтілді, алынғаны: 'many'",
                   "JSON емес (1-жол, 13-баған)")}


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_a_problem_file_that_cannot_be_read_is_explained_in_the_deployments_language(
        tmp_path, language):
    data = json.loads(small_problem().dumps())
    data["units"][0]["personnel"] = "many"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text('{"start": 1,', encoding="utf-8")
    typed, garbled = _command(["--problem", str(bad)], language), \
        _command(["--problem", str(broken)], language)
    assert typed.returncode != 0 and garbled.returncode != 0
    assert BAD_FILE[language][0] in typed.stderr
    assert BAD_FILE[language][1] in garbled.stderr
    for english in ("expected an integer", "not JSON", "Expecting", "line 1"):
        assert english not in typed.stderr + garbled.stderr
