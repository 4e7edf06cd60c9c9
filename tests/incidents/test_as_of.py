"""Incidents as known at a moment: the list, its filters, paging, the map, the web list and
the exports show and filter each incident as it stood then, not as it is now."""

import csv
import io
from datetime import datetime, timedelta

import pytest

from sitroom.incidents import queries, services
from sitroom.incidents.models import Incident
from sitroom.testing.api import call

T = datetime.fromisoformat
LIST = "/api/v1/incidents"


@pytest.fixture
def duty(sec_world, token_for):
    return token_for("duty")


def _created(token, **body):
    body = {"type": "riots", "title": "QA asof original title", "area": "KZ751110",
            "occurred_at": "2022-01-05T10:00:00+06:00", "fatalities": 1, "severity": 2,
            "lat": 43.25, "lon": 76.91} | body
    r = call(token, "post", LIST, body)
    assert r.status_code == 201, r.content
    return r.json()


def _history(token, uid):
    return call(token, "get", f"{LIST}/{uid}/history").json()


def _items(token, **params):
    r = call(token, "get", LIST, params)
    assert r.status_code == 200, r.content
    return r.json()["items"]


def _edit(token, uid, **changes):
    r = call(token, "patch", f"{LIST}/{uid}", changes)
    assert r.status_code == 200, r.content
    return r.json()


def test_the_list_as_of_a_moment_shows_and_filters_the_facts_then(duty):
    uid = _created(duty)["id"]
    then = _history(duty, uid)[0]["recorded_at"]
    _edit(duty, uid, title="QA asof EDITED title", fatalities=10, severity=5, area="KZ-MAN",
          lat=43.65, lon=51.17)

    [item] = _items(duty, as_of=then, q="QA asof")
    assert (item["title"], item["fatalities"], item["severity"], item["area"],
            item["lat"], item["version"]) == ("QA asof original title", 1, 2, "KZ751110",
                                              43.25, 1)
    assert [i["id"] for i in _items(duty, as_of=then, area="KZ-ALA")] == [uid]
    assert _items(duty, as_of=then, area="KZ-MAN") == []
    assert _items(duty, as_of=then, q="EDITED") == []
    assert _items(duty, as_of=then, min_severity=5) == []
    assert _items(duty, as_of=then, bbox="51,43,52,44") == []
    assert [i["id"] for i in _items(duty, as_of=then, bbox="76,43,77,44")] == [uid]
    # Now: today's facts, today's area.
    [item] = _items(duty, q="QA asof")
    assert (item["title"], item["fatalities"], item["area"], item["version"]) == (
        "QA asof EDITED title", 10, "KZ-MAN", 2)
    assert _items(duty, area="KZ-ALA") == []


def test_the_export_as_of_a_moment_filters_by_the_area_then(duty):
    uid = _created(duty)["id"]
    then = _history(duty, uid)[0]["recorded_at"]
    _edit(duty, uid, title="QA asof EDITED title", area="KZ-MAN", lat=43.65, lon=51.17)
    r = call(duty, "get", "/api/v1/incidents/export.csv",
             {"as_of": then, "area": "KZ-ALA", "hxl": "false"})
    rows = list(csv.DictReader(io.StringIO(b"".join(r.streaming_content).decode())))
    assert [(row["id"], row["title"], row["area"]) for row in rows] == [
        (uid, "QA asof original title", "KZ751110")]
    r = call(duty, "get", "/api/v1/incidents/export.csv",
             {"as_of": then, "area": "KZ-MAN", "hxl": "false"})
    assert list(csv.DictReader(io.StringIO(b"".join(r.streaming_content).decode()))) == []


def test_an_incident_reported_after_the_moment_is_absent(duty):
    first = _created(duty)
    then = _history(duty, first["id"])[0]["recorded_at"]
    later = _created(duty, title="QA asof reported later")
    assert [i["id"] for i in _items(duty, as_of=then)] == [first["id"]]
    assert {i["id"] for i in _items(duty)} == {first["id"], later["id"]}


def test_as_of_the_very_time_the_api_gave_includes_that_revision(duty):
    created = _created(duty)
    uid = created["id"]
    recorded = created["recorded_at"]
    stored = Incident.objects.get(uid=uid).recorded_at
    assert T(recorded.replace("Z", "+00:00")) == stored  # to the microsecond
    assert [i["id"] for i in _items(duty, as_of=recorded)] == [uid]
    just_before = (stored - timedelta(microseconds=1)).isoformat()
    assert _items(duty, as_of=just_before) == []

    _edit(duty, uid, title="QA asof EDITED title")
    edited = _history(duty, uid)[1]
    assert edited["change"] == "edited"
    [item] = _items(duty, as_of=edited["recorded_at"])
    assert (item["title"], item["version"]) == ("QA asof EDITED title", 2)
    before_edit = T(edited["recorded_at"].replace("Z", "+00:00")) - timedelta(microseconds=1)
    [item] = _items(duty, as_of=before_edit.isoformat())
    assert (item["title"], item["version"]) == ("QA asof original title", 1)


def test_the_list_as_of_a_moment_shows_severity_sources_and_status_before_a_merge(duty):
    keep = _created(duty, sources=["https://a.example"])
    dup = _created(duty, title="QA asof duplicate", sources=["https://b.example"])
    then = _history(duty, dup["id"])[0]["recorded_at"]
    _edit(duty, keep["id"], severity=4)
    assert call(duty, "post", f"{LIST}/{keep['id']}/merge",
                {"duplicate": dup["id"]}).status_code == 200

    items = {i["id"]: i for i in _items(duty, as_of=then)}
    assert (items[keep["id"]]["severity"], items[keep["id"]]["sources"]) == (
        2, ["https://a.example"])
    assert (items[dup["id"]]["status"], items[dup["id"]]["merged_into"]) == ("reported", None)
    assert [i["id"] for i in _items(duty, as_of=then, status="merged")] == []
    now = {i["id"]: i for i in _items(duty)}
    assert list(now) == [keep["id"]]
    assert now[keep["id"]]["sources"] == ["https://a.example", "https://b.example"]


def test_paging_as_of_a_moment_follows_the_times_then(duty):
    a = _created(duty, title="QA a", occurred_at="2022-01-05T09:00:00+06:00")
    _created(duty, title="QA b", occurred_at="2022-01-05T11:00:00+06:00")
    c = _created(duty, title="QA c", occurred_at="2022-01-05T13:00:00+06:00")
    then = _history(duty, c["id"])[0]["recorded_at"]
    _edit(duty, a["id"], occurred_at="2022-01-05T14:00:00+06:00")  # now the newest
    _edit(duty, c["id"], occurred_at="2022-01-05T08:00:00+06:00")  # now the oldest

    seen, params = [], {"as_of": then, "limit": 1}
    while True:
        page = call(duty, "get", LIST, params).json()
        seen += [(i["title"], i["occurred_at"]) for i in page["items"]]
        if not page["next"]:
            break
        params["cursor"] = page["next"].split("cursor=")[1].split("&")[0]
    assert seen == [("QA c", "2022-01-05T07:00:00Z"), ("QA b", "2022-01-05T05:00:00Z"),
                    ("QA a", "2022-01-05T03:00:00Z")]
    assert [i["title"] for i in _items(duty)] == ["QA a", "QA b", "QA c"]  # the times now


def test_most_fatalities_first_as_of_a_moment_puts_unknown_figures_last(sec_world):
    def put(title, fatalities):
        return services.report_incident(
            actor=sec_world.users["duty"], source="web", type="riots", title=title,
            area="KZ751110", occurred_at=T("2022-01-05T10:00:00+06:00"),
            fatalities=fatalities)[0]

    unknown, _three, one = put("unknown then", None), put("three", 3), put("one", 1)
    never = put("never known", None)
    then = Incident.objects.get(pk=never.pk).recorded_at
    services.edit_incident(unknown, {"fatalities": 9}, actor=sec_world.users["duty"],
                           source="web")
    services.edit_incident(one, {"fatalities": 2}, actor=sec_world.users["duty"],
                           source="web")
    found = queries.incidents(sec_world.users["viewer"], queries.IncidentFilter(as_of=then),
                              order="-fatalities")
    assert [(i.title, i.fatalities) for i in found] == [
        ("three", 3), ("one", 1), ("never known", None), ("unknown then", None)]
    assert found.count() == 4 and [i.title for i in found[1:3]] == ["one", "never known"]


def test_the_map_as_of_a_moment_counts_each_incident_where_it_was(duty):
    _created(duty, title="QA stays", lat=43.26, lon=76.92)
    moves = _created(duty, title="QA moves")
    then = _history(duty, moves["id"])[0]["recorded_at"]
    _edit(duty, moves["id"], area="KZ-MAN", lat=43.65, lon=51.17, severity=5)

    def cells(**params):
        found = call(duty, "get", "/api/v1/incidents/map", {"cell": 1} | params).json()
        return sorted((c["count"], c["severity"], round(c["lat"], 3)) for c in found)

    assert cells(as_of=then) == [(2, 2, 43.255)]
    assert cells(as_of=then, area="KZ-MAN") == []
    assert cells(as_of=then, area="KZ-ALA", bbox="76,43,77,44") == [(2, 2, 43.255)]
    assert cells() == [(1, 2, 43.26), (1, 5, 43.65)]


def test_the_web_list_as_of_a_moment_shows_the_title_and_area_then(client, sec_world):
    services.report_incident(
        actor=sec_world.users["duty"], source="import", type="riots",
        title="QA asof original title", area="KZ751110",
        occurred_at=T("2022-01-05T10:00:00+06:00"),
        recorded_at=T("2022-01-05T11:00:00+06:00"))
    inc = Incident.objects.get()
    services.edit_incident(inc, {"title": "QA asof EDITED title", "area": "KZ-MAN"},
                           actor=sec_world.users["duty"], source="web")
    client.force_login(sec_world.users["viewer"])
    html = client.get("/incidents/", {"as_of": "2022-01-06T12:00", "area": "KZ-ALA"},
                      HTTP_HX_REQUEST="true").content.decode()
    assert "QA asof original title" in html and "EDITED" not in html and "Almaly" in html
    html = client.get("/incidents/", {"as_of": "2022-01-06T12:00", "area": "KZ-MAN"},
                      HTTP_HX_REQUEST="true").content.decode()
    assert "QA asof" not in html
    html = client.get("/incidents/", {"area": "KZ-MAN"}, HTTP_HX_REQUEST="true"
                      ).content.decode()
    assert "QA asof EDITED title" in html
