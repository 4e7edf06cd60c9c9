"""The demo scenario's security situation: posture by unit, figures by body, idempotence."""

import re
from datetime import datetime

import pytest

from sitroom.accounts.services import create_user
from sitroom.core.actors import Actor
from sitroom.core.models import Area, JournalEntry
from sitroom.incidents import queries
from sitroom.incidents.models import CasualtyReport, Incident, PostureChange

T = datetime.fromisoformat
UNITS = {"KZ-AKM", "KZ-AKT", "KZ-ALM", "KZ-ATY", "KZ-ZAP", "KZ-ZHA", "KZ-KAR", "KZ-KUS",
         "KZ-KZY", "KZ-MAN", "KZ-PAV", "KZ-SEV", "KZ-YUZ", "KZ-VOS", "KZ-AST", "KZ-ALA",
         "KZ-SHY"}


@pytest.fixture
def director(db, settings):
    if not settings.BOUNDARIES_DIR.exists():
        pytest.skip(f"no boundary data at {settings.BOUNDARIES_DIR}")
    from sitroom.core.demo import load_demo

    load_demo()
    user = create_user("director", role="director", all_areas=True,
                       actor=Actor.system_actor("tests"), source="cli",
                       password="correct-horse-battery-7")
    return user


def board(user, moment: str) -> dict[str, dict]:
    """Unit code -> its posture cells on the country board at `moment`."""
    rows = queries.country_board(user, T(moment))["rows"]
    return {row["area"].code: row["cells"] for row in rows}


def test_every_unit_is_under_emergency_and_curfew_on_6_january(director):
    cells = board(director, "2022-01-06T12:00:00+06:00")
    assert set(cells) == UNITS
    for code, unit in cells.items():
        assert unit["state_of_emergency"]["state"] == "in_force", code
        assert unit["curfew"]["state"] == "in_force", code
        assert unit["curfew"]["hours"] == "23:00-07:00", code
        assert not unit["state_of_emergency"]["inherited"], code
    # Almaty city and Mangystau came first, on the night of 4 to 5 January.
    assert cells["KZ-ALA"]["state_of_emergency"]["since"] < cells["KZ-ALM"][
        "state_of_emergency"]["since"] < cells["KZ-KAR"]["state_of_emergency"]["since"]


def test_emergency_is_lifted_region_by_region(director):
    before = board(director, "2022-01-05T06:00:00+06:00")
    assert {c for c, u in before.items() if u["state_of_emergency"]["state"] == "in_force"} \
        == {"KZ-ALA", "KZ-MAN"}
    # West Kazakhstan, North Kazakhstan and Pavlodar: lifted from 07:00 on 13 January.
    cells = board(director, "2022-01-14T12:00:00+06:00")
    lifted = {code for code, unit in cells.items()
              if unit["state_of_emergency"]["state"] == "off"}
    assert lifted == {"KZ-ZAP", "KZ-SEV", "KZ-PAV"}
    assert {code for code, unit in cells.items() if unit["curfew"]["state"] == "off"} == lifted
    # From 07:00 on 15 January the emergency remained in 8 of the 17 units.
    cells = board(director, "2022-01-15T12:00:00+06:00")
    assert sum(u["state_of_emergency"]["state"] == "in_force" for u in cells.values()) == 8
    cells = board(director, "2022-01-19T06:00:00+06:00")
    assert all(u["state_of_emergency"]["state"] == "off" for u in cells.values())


def test_order_is_restored_everywhere_on_8_january(director):
    during = board(director, "2022-01-05T18:00:00+06:00")
    assert during["KZ-ALA"]["law_and_order"]["state"] == "disorder"
    assert during["KZ-ALM"]["law_and_order"]["state"] == "disorder"
    cells = board(director, "2022-01-08T12:00:00+06:00")
    assert {code: unit["law_and_order"]["state"] for code, unit in cells.items()} == {
        code: "restored" for code in UNITS}
    # The threat level stayed red in Almaty city and Almaty and Jambyl regions after 13 Jan.
    cells = board(director, "2022-01-20T12:00:00+06:00")
    assert {c for c, u in cells.items() if u["threat_level"]["state"] == "red"} == {
        "KZ-ALA", "KZ-ALM", "KZ-ZHA"}
    assert cells["KZ-ALA"]["cto_regime"]["state"] == "in_force"
    assert cells["KZ-KAR"]["cto_regime"]["state"] == "off"


def test_each_bodys_detainee_count_for_9_january_is_kept(director):
    country = Area.objects.get(code="KZ")
    rows = queries.latest_figures(director, area=country, as_of=T("2022-01-09T23:00:00+06:00"))
    detained = next(r for r in rows if r["area"] == country and r["category"] == "detained"
                    and r["group"] == "all")
    latest = {b["body"].code: b["latest"] for b in detained["bodies"]}
    assert latest["KZ-MVD"].count == 5969 and latest["KZ-PRESIDENT"].count == 5800
    assert latest["KZ-MVD"].estimate and latest["KZ-PRESIDENT"].estimate
    mvd = next(b for b in detained["bodies"] if b["body"].code == "KZ-MVD")
    assert [r.count for r in mvd["history"]] == [3811, 4404, 5135, 5969]
    # A later figure does not show before it was published.
    killed = next(r for r in rows if r["area"] == country and r["category"] == "killed"
                  and r["group"] == "all")
    assert {b["body"].code: b["latest"].count for b in killed["bodies"]} == {"KZ-MOH": 164}


def test_a_second_load_adds_nothing(director):
    from sitroom.core.demo import load_demo

    counts = (JournalEntry.objects.count(), Incident.objects.count(),
              PostureChange.objects.count(), CasualtyReport.objects.count())
    report = load_demo()
    assert report.domains["sitroom.incidents.demo.load_demo"] == {
        "incident types": 0, "incidents": 0, "posture changes": 0, "casualty figures": 0}
    assert counts == (JournalEntry.objects.count(), Incident.objects.count(),
                      PostureChange.objects.count(), CasualtyReport.objects.count())
    assert counts[1] > 30 and counts[2] > 100 and counts[3] > 30


def test_uncertain_facts_are_labelled_as_estimates(director):
    # Aktobe's lift date is missing from the research file: the date used is an estimate.
    cells = board(director, "2022-01-17T12:00:00+06:00")
    assert cells["KZ-AKT"]["state_of_emergency"]["state"] == "off"
    assert cells["KZ-AKT"]["state_of_emergency"]["estimate"]
    assert not cells["KZ-ZAP"]["state_of_emergency"]["estimate"]
    # Figures given as "~", ">" or from disagreeing releases.
    assert CasualtyReport.objects.get(external_id="kz2022-cas-0111-mvd-detained").estimate
    assert not CasualtyReport.objects.get(external_id="kz2022-cas-0109-moh-killed").estimate
    # Incidents: estimated times and places are tagged, uncertain dates flagged.
    airport = Incident.objects.get(external_id="kz2022-inc-0105-almaty-airport-stormed")
    assert "time-estimated" in airport.tags and "location-approximate" not in airport.tags
    akimat = Incident.objects.get(external_id="kz2022-inc-0105-almaty-akimat-burned")
    assert "location-approximate" in akimat.tags and akimat.status == "verified"
    police = Incident.objects.get(external_id="kz2022-inc-0106-almaty-city-police-hq")
    assert police.estimate and police.status == "reported"


def test_late_reports_are_known_only_from_when_they_came_in(director):
    masimov = Incident.objects.get(external_id="kz2022-inc-0106-masimov-detained")
    assert masimov.occurred_at < masimov.recorded_at == T("2022-01-08T12:00:00+06:00")
    seen = queries.incidents(director, queries.IncidentFilter(
        as_of=T("2022-01-07T12:00:00+06:00")))
    assert masimov not in seen
    assert masimov in queries.incidents(director, queries.IncidentFilter(
        as_of=T("2022-01-08T12:00:00+06:00")))


def test_the_figures_page_labels_every_estimate_including_the_earlier_ones(director, client):
    client.force_login(director)
    html = client.get("/security/figures").content.decode()
    # Each earlier figure: "count (date)" and its own estimate label when it is one.
    earlier = {}
    for piece in html.split('<span class="earlier">')[1:]:
        figure = re.match(r"([\d,]+) \((\S+)\)", piece)
        earlier[figure.groups()] = 'class="badge estimate"' in piece.split("</span>, ")[0]
    # The interior ministry's detainee counts before its latest of 11 January.
    assert earlier[("3,811", "2022-01-07")] is True
    assert earlier[("5,135", "2022-01-09")] is True
    assert earlier[("4,404", "2022-01-08")] is False
    # The list of earlier figures ends without a dangling separator.
    assert not re.search(r",\s*</td>", html)
    # What a figure counts is said beside it, firm or not: the prosecutors' 672 are
    # suspects in custody, not the interior ministry's detainees.
    row = html[html.index("<strong>672</strong>"):].split("</td>")[0]
    assert "Suspects held in custody" in row and "https://" in row


def test_an_incidents_page_says_which_of_its_facts_are_estimates(director, client):
    client.force_login(director)
    airport = Incident.objects.get(external_id="kz2022-inc-0105-almaty-airport-stormed")
    page = client.get(f"/incidents/{airport.uid}/").content.decode()
    assert 'id="time-estimated"' in page and 'id="location-approximate"' not in page
    assert 'id="incident-where"' in page  # and a map of where it happened
    akimat = Incident.objects.get(external_id="kz2022-inc-0105-almaty-akimat-burned")
    page = client.get(f"/incidents/{akimat.uid}/").content.decode()
    assert 'id="location-approximate"' in page
