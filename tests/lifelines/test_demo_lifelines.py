"""The demo scenario's lifelines: Almaty's board before and after the worst days, the
press report of 12 January, the metro, idempotence, labelled estimates."""

from datetime import datetime

import pytest

from sitroom.accounts.services import create_user
from sitroom.core.actors import Actor
from sitroom.core.models import Area, JournalEntry
from sitroom.lifelines import queries
from sitroom.lifelines.models import StatusReport

T = datetime.fromisoformat
DEMO = "sitroom.lifelines.demo.load_demo"


@pytest.fixture
def director(db, settings):
    if not settings.BOUNDARIES_DIR.exists():
        pytest.skip(f"no boundary data at {settings.BOUNDARIES_DIR}")
    # Historical reports are days apart: keep them from being shown as stale.
    settings.LIFELINE_FRESH_HOURS = 24 * 30
    from sitroom.core.demo import load_demo

    load_demo()
    user = create_user("director", role="director", all_areas=True,
                       password="long-test-password-1", check_password=False,
                       actor=Actor.system_actor("tests"), source="cli")
    return user


def almaty(user, moment: str) -> dict:
    """Almaty's own row on its board at `moment`: component code -> cell, and summary."""
    board = queries.board(user, Area.objects.get(code="KZ-ALA"), T(moment))
    row = board["rows"][0]
    assert row["area"].code == "KZ-ALA"
    cells = {comp.code: cell for comp, cell in zip(board["components"], row["cells"],
                                                    strict=True)}
    return {"cells": cells, "summary": row["summary"]}


def statuses(row: dict, *codes: str) -> dict[str, str]:
    return {code: row["cells"][code].status for code in codes}


def test_almaty_on_6_january_and_on_12_january(director):
    before = almaty(director, "2022-01-06T12:00:00+06:00")
    after = almaty(director, "2022-01-12T18:00:00+06:00")
    assert statuses(before, "internet", "retail", "banks", "atm_payments", "airports",
                    "metro", "buses") == dict.fromkeys(
        ("internet", "retail", "banks", "atm_payments", "airports", "metro", "buses"), "red")
    assert after["cells"]["internet"].status != "red"
    assert after["cells"]["retail"].status == "yellow"
    assert after["cells"]["retail"].reported.trend == "improving"
    assert statuses(after, "electricity", "district_heating", "water_supply",
                    "gas_supply", "buses") == dict.fromkeys(
        ("electricity", "district_heating", "water_supply", "gas_supply", "buses"), "green")


def test_nothing_is_shown_for_the_crisis_that_no_source_gives(director):
    # The assumed baseline stops on the evening of 4 January: unsourced cells are unknown.
    before = almaty(director, "2022-01-03T12:00:00+06:00")
    assert set(statuses(before, *before["cells"]).values()) == {"green"}
    during = almaty(director, "2022-01-06T12:00:00+06:00")
    assert statuses(during, "electricity", "hospitals", "bakeries") == dict.fromkeys(
        ("electricity", "hospitals", "bakeries"), "grey")


def test_the_summary_of_12_january_reads_like_the_press_report(director):
    summary = almaty(director, "2022-01-12T18:00:00+06:00")["summary"]
    parts = {part.split(": ")[1].rstrip("."): part.split(": ")[0].lower()
             for part in summary.split("; ")}
    assert "district heating" in parts["operating normally"]
    assert "electricity" in parts["operating normally"]
    assert "retail" in parts["resuming"]
    assert "catering" in parts["resuming"]


def test_the_metro_runs_again_on_17_january(director):
    for moment in ("2022-01-05T18:00:00+06:00", "2022-01-12T18:00:00+06:00",
                   "2022-01-16T23:00:00+06:00"):
        assert almaty(director, moment)["cells"]["metro"].status != "green", moment
    cell = almaty(director, "2022-01-17T12:00:00+06:00")["cells"]["metro"]
    assert cell.status == "green"
    assert (cell.reported.count_operating, cell.reported.count_total) == (9, 9)


def test_the_nationwide_blackout_reaches_every_unit(director):
    board = queries.board(director, None, T("2022-01-06T12:00:00+06:00"))
    internet = [c.code for c in board["components"]].index("internet")
    rows = {row["area"].code: row["cells"][internet].status for row in board["rows"]}
    assert len(rows) == 18 and set(rows.values()) == {"red"}
    board = queries.board(director, None, T("2022-01-12T18:00:00+06:00"))
    rows = {row["area"].code: row["cells"][internet].status for row in board["rows"]}
    assert "red" not in rows.values()


def test_the_airport_reopens_on_13_january(director):
    # Reopened from 00:00 on 13 January, on shortened hours: not yet normal.
    assert almaty(director, "2022-01-12T18:00:00+06:00")["cells"]["airports"].status == "red"
    assert almaty(director, "2022-01-13T12:00:00+06:00")["cells"]["airports"].status == \
        "yellow"


def test_a_second_load_adds_nothing(director):
    from sitroom.core.demo import load_demo

    counts = (JournalEntry.objects.count(), StatusReport.objects.count())
    report = load_demo()
    assert report.domains[DEMO] == {"lifeline components": 0, "lifeline statuses": 0}
    assert counts == (JournalEntry.objects.count(), StatusReport.objects.count())
    assert counts[1] > 200
    # Each report has its own journal entry, dated as the report is.
    report = StatusReport.objects.get(external_id="kz2022-lifeline-KZ-ALA-metro-20220117-0700")
    entry = JournalEntry.objects.get(seq=report.journal_seq)
    assert entry.occurred_at == report.occurred_at and entry.source == "scenario"


def test_estimates_are_labelled(director):
    baseline = StatusReport.objects.filter(area__code="KZ-ALA",
                                           occurred_at=T("2022-01-01T00:00:00+06:00"))
    assert baseline.count() == 24
    assert all(r.estimate and "assumed" in r.note for r in baseline)
    # "~80 supermarkets" is an estimate; the press report's "functioning normally" is not.
    shops = StatusReport.objects.get(external_id="kz2022-lifeline-KZ-ALA-retail-20220110-1200")
    assert shops.estimate and shops.count_operating == 80
    power = StatusReport.objects.get(
        external_id="kz2022-lifeline-KZ-ALA-electricity-20220112-1200")
    assert not power.estimate and "tass.com" in power.source
    # Every report names its sources or says it is an estimate or unknown.
    assert not StatusReport.objects.filter(source="", estimate=False).exclude(
        status="grey").exists()
