"""Incidents: reporting, editing, status flow, bulk actions, merging, as-of, scope, API."""

import json
from datetime import datetime

import pytest

from sitroom.core.errors import InvalidInput, NotAllowed
from sitroom.core.models import JournalEntry
from sitroom.incidents import queries, services
from sitroom.incidents.models import Incident, IncidentRevision
from sitroom.testing.api import call

T = datetime.fromisoformat


def report(world, who="reporter", **kw):
    kw.setdefault("type", "riots")
    kw.setdefault("title", "Crowd storms the akimat")
    kw.setdefault("occurred_at", T("2022-01-05T10:00:00+06:00"))
    kw.setdefault("area", "KZ751110")
    return services.report_incident(actor=world.users[who], source="web", **kw)[0]


def test_report_keeps_facts_history_and_journal(sec_world):
    inc = report(sec_world, subtype="riots.violent_demonstration", fatalities=2, injured=10,
                 sources=["https://example.org/a"], tags=["akimat"])
    assert inc.status == "reported" and inc.area_path == "KZ/KZ-ALA/KZ751110/"
    rev = IncidentRevision.objects.get(incident=inc)
    assert rev.state["fatalities"] == 2 and rev.change == "reported"
    entry = JournalEntry.objects.get(seq=rev.journal_seq)
    assert entry.kind == "incident"
    assert entry.summary == "Incident reported: Crowd storms the akimat"


def test_bad_report_names_fields_and_writes_nothing(sec_world):
    before = Incident.objects.count()
    with pytest.raises(InvalidInput) as exc:
        report(sec_world, type="riots", subtype="protests.peaceful_protest", title=" ",
               lat=95.0, lon=76.9, fatalities=-1)
    assert set(exc.value.errors) >= {"subtype", "title", "lat", "fatalities"}
    assert Incident.objects.count() == before


def test_a_wrong_point_is_named_alone_a_missing_one_asks_for_the_area(sec_world):
    """A latitude out of range also got "give the area or a point on the map", though a
    point was given: the reporter was told to do what they had done."""
    with pytest.raises(InvalidInput) as exc:
        report(sec_world, area=None, lat=95.0, lon=76.9)
    assert exc.value.errors == {"lat": ["must be between -90 and 90"]}
    with pytest.raises(InvalidInput) as exc:
        report(sec_world, area=None, lat=43.2)
    assert exc.value.errors == {"lon": ["give both latitude and longitude"]}
    with pytest.raises(InvalidInput) as exc:
        report(sec_world, area=None)
    assert exc.value.errors == {"area": ["give the area or a point on the map"]}


def test_area_is_found_from_the_point(sec_world, tmp_path):
    from django.core.management import call_command

    square = [[[76.8, 43.2], [77.0, 43.2], [77.0, 43.4], [76.8, 43.4], [76.8, 43.2]]]
    path = tmp_path / "b.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "KZ751110"},
         "geometry": {"type": "Polygon", "coordinates": square}}]}))
    call_command("import_areas", str(path), "--code-property", "code")
    inc = report(sec_world, area=None, lat=43.25, lon=76.9)
    assert inc.area.code == "KZ751110"
    with pytest.raises(InvalidInput) as exc:
        report(sec_world, area=None, lat=10.0, lon=10.0)
    assert "area" in exc.value.errors


def test_reporter_scope_and_viewer(sec_world):
    with pytest.raises(NotAllowed):
        report(sec_world, area="KZ-MAN")
    with pytest.raises(NotAllowed):
        report(sec_world, who="viewer")


def test_status_flow_and_bulk_actions_are_all_or_nothing(sec_world):
    a, b = report(sec_world), report(sec_world, title="Second")
    services.set_status([a, b], "verified", actor=sec_world.users["duty"], source="web")
    services.set_status([a], "closed", actor=sec_world.users["duty"], source="web")
    with pytest.raises(InvalidInput):  # a closed incident cannot be discarded in one go
        services.set_status([a, b], "discarded", actor=sec_world.users["duty"], source="web")
    b.refresh_from_db()
    assert b.status == "verified"
    with pytest.raises(NotAllowed):  # a field reporter may not verify
        services.set_status([b], "closed", actor=sec_world.users["reporter"], source="web")


def test_concurrent_edit_is_refused_not_overwritten(sec_world):
    inc = report(sec_world)
    services.edit_incident(inc, {"injured": 12}, actor=sec_world.users["duty"], source="web",
                           expected_version=1)
    with pytest.raises(InvalidInput) as exc:
        services.edit_incident(inc, {"injured": 3}, actor=sec_world.users["reporter"],
                               source="web", expected_version=1)
    assert "version" in exc.value.errors
    inc.refresh_from_db()
    assert inc.injured == 12 and inc.version == 2


def test_an_edit_is_journaled_with_the_fields_named_in_the_readers_language(sec_world):
    """The journal's line named the changed fields by their codes ("occurred_at") on
    Russian and Kazakh pages too."""
    from django.utils import translation

    from sitroom.core.i18n import render

    inc = report(sec_world)
    services.edit_incident(inc, {"injured": 12, "occurred_at": T("2022-01-05T11:00:00+06:00")},
                           actor=sec_world.users["duty"], source="web")
    entry = JournalEntry.objects.filter(kind="incident").latest("seq")
    assert entry.summary == "Incident edited: Crowd storms the akimat (occurred at, injured)"
    with translation.override("ru"):
        assert render(entry.summary, entry.payload) == (
            "Инцидент изменён: Crowd storms the akimat (время события, пострадавшие)")


def test_merge_keeps_both_histories_and_deletes_nothing(sec_world):
    keep = report(sec_world, sources=["https://a.example"])
    dup = report(sec_world, title="Akimat on fire", sources=["https://b.example"], injured=4)
    services.merge(keep, dup, actor=sec_world.users["duty"], source="web")
    keep.refresh_from_db()
    dup.refresh_from_db()
    assert dup.status == "merged" and dup.merged_into == keep
    assert keep.sources == ["https://a.example", "https://b.example"] and keep.injured == 4
    changes = [(r.incident_id, r.change) for r in queries.history(keep)]
    assert (dup.pk, "reported") in changes and (dup.pk, "merged") in changes
    assert (keep.pk, "absorbed") in changes
    assert Incident.objects.count() == 2
    listed = queries.incidents(sec_world.users["viewer"])
    assert [i.pk for i in listed] == [keep.pk]


def test_as_of_shows_status_then(sec_world):
    inc = report(sec_world)
    before = services.report_incident  # keep a moment between the two changes
    assert before
    from django.utils import timezone

    moment = timezone.now()
    services.set_status([inc], "verified", actor=sec_world.users["duty"], source="web")
    then = queries.incidents(sec_world.users["viewer"], queries.IncidentFilter(as_of=moment))
    assert [i.status_then for i in then] == ["reported"]
    now = queries.incidents(sec_world.users["viewer"], queries.IncidentFilter())
    assert [i.status_then for i in now] == ["verified"]


# --- API -----------------------------------------------------------------------------

@pytest.fixture
def token(sec_world, token_for):
    return token_for


def test_api_idempotency_key_never_duplicates(token):
    t = token("reporter")
    body = {"type": "protests", "subtype": "protests.peaceful_protest", "title": "Rally",
            "area": "KZ751110", "occurred_at": "2022-01-04T19:00:00+06:00"}
    first = call(t, "post", "/api/v1/incidents", body, **{"Idempotency-Key": "dev-9-001"})
    again = call(t, "post", "/api/v1/incidents", body, **{"Idempotency-Key": "dev-9-001"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Incident.objects.count() == 1


def test_api_filters_bulk_merge_and_history(token, sec_world):
    a = report(sec_world, title="Looting on Zhibek Zholy", type="strategic_developments",
               subtype="strategic_developments.looting")
    b = report(sec_world, title="Looting on Zhibek Zholy street")
    t = token("duty")
    r = call(t, "get", "/api/v1/incidents", {"type": "strategic_developments"})
    assert [i["id"] for i in r.json()["items"]] == [str(a.uid)]
    r = call(t, "post", "/api/v1/incidents/bulk", {"ids": [str(a.uid), str(b.uid)],
                                                     "action": "verify"})
    assert {i["status"] for i in r.json()} == {"verified"}
    r = call(t, "post", f"/api/v1/incidents/{a.uid}/merge", {"duplicate": str(b.uid)})
    assert r.status_code == 200
    hist = call(t, "get", f"/api/v1/incidents/{a.uid}/history").json()
    assert {h["incident"] for h in hist} == {str(a.uid), str(b.uid)}
    r = call(t, "get", "/api/v1/incidents", {"status": "bogus"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "status"


def test_api_scope_and_wrong_users(token, sec_world):
    inc = report(sec_world)
    assert call(token("outsider"), "get", f"/api/v1/incidents/{inc.uid}").status_code == 404
    assert call(token("outsider"), "get", "/api/v1/incidents").json()["items"] == []
    r = call(token("viewer"), "post", "/api/v1/incidents",
             {"type": "riots", "title": "x", "area": "KZ-ALA"})
    assert r.status_code == 403
    r = call(token("reporter"), "post", "/api/v1/incidents/bulk",
             {"ids": [str(inc.uid)], "action": "verify"})
    assert r.status_code == 403


def test_api_map_cells(token, sec_world):
    for i in range(3):
        report(sec_world, lat=43.25 + i * 0.001, lon=76.9)
    report(sec_world, area="KZ-MAN", who="outsider", lat=43.6, lon=51.2)
    cells = call(token("viewer"), "get", "/api/v1/incidents/map", {"cell": 1}).json()
    assert sorted(c["count"] for c in cells) == [1, 3]
    from sitroom.incidents.schemas import CellOut  # written without ninja's validation

    assert [CellOut.model_validate(c).model_dump() for c in cells] == cells
    cells = call(token("outsider"), "get", "/api/v1/incidents/map", {"cell": 1}).json()
    assert [c["count"] for c in cells] == [1]


def test_map_counts_stay_in_step_with_every_change(token, sec_world):
    """The kept per-cell counts answer exactly what grouping the incidents would."""
    from sitroom.incidents import cells
    from sitroom.incidents.models import IncidentCell

    a = report(sec_world, lat=43.25, lon=76.91)
    b = report(sec_world, lat=43.26, lon=76.92, title="Second", severity=5)
    c = report(sec_world, area="KZ-MAN", who="outsider", lat=43.6, lon=51.2)
    duty = sec_world.users["duty"]
    services.set_status([a], "verified", actor=duty, source="web")
    services.edit_incident(b, {"lat": 44.9, "lon": 78.1, "area": "KZ-ALA"}, actor=duty,
                           source="web")
    services.merge(a, c, actor=duty, source="web")

    def both(params):
        kept = call(token("viewer"), "get", "/api/v1/incidents/map", params).json()
        raw = queries.map_cells(sec_world.users["viewer"],
                                queries.IncidentFilter(statuses=params.get("status", "").split(
                                    ",") if params.get("status") else []), 0.0999)
        return sorted((round(x["lat"], 4), x["count"]) for x in kept), sorted(
            (round(x["lat"], 4), x["count"]) for x in raw)

    kept, raw = both({"cell": 1})
    assert kept == raw and sum(n for _lat, n in kept) == 2  # the merged one is gone
    kept, _raw = both({"cell": 1, "status": "verified"})
    assert [n for _lat, n in kept] == [1]
    before = sorted(IncidentCell.objects.filter(n__gt=0).values_list(
        "size", "cx", "cy", "type_id", "status", "n"))
    cells.rebuild()
    after = sorted(IncidentCell.objects.filter(n__gt=0).values_list(
        "size", "cx", "cy", "type_id", "status", "n"))
    assert before == after


def test_a_map_group_shows_its_highest_severity_zoomed_out_and_in(token, sec_world):
    """Zoomed out, a group of incidents was coloured by their average severity (three
    minor and one critical made a moderate circle), zoomed in by the highest: a duty
    officer looking at the country missed the critical one. Both now give the highest,
    and keep giving it as the incidents change."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sitroom.incidents import cells
    from sitroom.incidents.models import IncidentCell

    for i in range(3):
        report(sec_world, lat=43.25 + i * 0.001, lon=76.9, severity=1, title=f"Minor {i}")
    critical = report(sec_world, lat=43.253, lon=76.9, severity=5, title="Akimat stormed")
    duty = sec_world.users["duty"]

    def severities(who="viewer"):
        """The Almaty group's severity, zoomed out (kept counts) and zoomed in (the
        incidents grouped), through the API."""
        got = []
        for cell in (1, 0.01):
            rows = call(token(who), "get", "/api/v1/incidents/map",
                        {"cell": cell, "bbox": "76,43,77,44"}).json()
            got.append([(c["count"], c["severity"]) for c in rows])
        return got

    assert severities() == [[(4, 5)], [(4, 5)]]
    # The kept counts answer zoomed out with one GROUP BY over them, not over incidents.
    with CaptureQueriesContext(connection) as ctx:
        call(token("viewer"), "get", "/api/v1/incidents/map", {"cell": 1})
    sql = [q["sql"] for q in ctx.captured_queries]
    kept = [q for q in sql if "incidents_incidentcell" in q]
    assert len(kept) == 1 and "GROUP BY" in kept[0]
    assert not any('"incidents_incident"' in q for q in sql)

    services.edit_incident(critical, {"severity": 3}, actor=duty, source="web")
    assert severities() == [[(4, 3)], [(4, 3)]]
    critical.refresh_from_db()
    services.edit_incident(critical, {"lat": 44.9, "lon": 78.1, "area": "KZ-ALA"}, actor=duty,
                           source="web")
    assert severities() == [[(3, 1)], [(3, 1)]]
    # The wrong user: an officer scoped to Mangystau sees no Almaty group at all.
    assert severities("outsider") == [[], []]

    def kept_counts():
        return sorted(IncidentCell.objects.filter(n__gt=0).values_list(
            "size", "cx", "cy", "type_id", "status", "n", "n_minor", "n_moderate",
            "n_serious", "n_severe", "n_critical"))

    before = kept_counts()
    assert cells.rebuild() == 4
    assert kept_counts() == before


def test_a_large_import_is_one_journal_entry_with_a_revision_per_incident(sec_world):
    from sitroom.incidents.services import IMPORT_SUMMARY_OVER, IncidentDraft, report_incidents

    n = IMPORT_SUMMARY_OVER + 5
    drafts = [IncidentDraft(type="riots", title=f"row {i}", area="KZ751110" if i % 2 else
                            "KZ751910", occurred_at=T("2022-01-05T10:00:00+06:00"))
              for i in range(n)]
    before = JournalEntry.objects.count()
    results = report_incidents(drafts, actor=sec_world.users["duty"], source="import")
    assert JournalEntry.objects.count() == before + 1
    entry = JournalEntry.objects.latest("seq")
    assert entry.summary == f"Incidents imported: {n}"
    assert entry.area.code == "KZ-ALA"  # the area holding both districts
    revisions = IncidentRevision.objects.filter(incident__in=[i for i, _c in results])
    assert revisions.count() == n and {r.journal_seq for r in revisions} == {entry.seq}


def test_board_counts_of_the_last_24_hours_agree_with_counting_at_every_moment(sec_world):
    """The kept hourly counts plus the partial hours give exactly what counting the
    incidents gives, at any moment, including incidents learned late, discarded,
    merged and moved in time, and only for the areas the user sees."""
    from datetime import timedelta

    from django.db.models import Count

    def put(occurred, recorded, area="KZ751110"):
        return services.report_incident(
            actor=sec_world.users["duty"], source="import", type="riots", title="x",
            area=area, occurred_at=T(occurred), recorded_at=T(recorded))[0]

    put("2022-01-05T10:00:00+06:00", "2022-01-05T10:05:00+06:00")
    put("2022-01-05T10:59:59+06:00", "2022-01-05T11:00:00+06:00")
    late = put("2022-01-06T02:30:00+06:00", "2022-01-06T12:45:00+06:00")  # learned 10 h later
    gone = put("2022-01-05T13:00:00+06:00", "2022-01-05T13:00:00+06:00")
    dup = put("2022-01-05T14:10:00+06:00", "2022-01-05T15:20:00+06:00")
    keep = put("2022-01-05T14:00:00+06:00", "2022-01-05T14:30:00+06:00")
    moved = put("2022-01-05T16:00:00+06:00", "2022-01-05T16:00:00+06:00")
    put("2022-01-05T18:00:00+06:00", "2022-01-05T18:01:00+06:00", area="KZ-MAN")
    duty = sec_world.users["duty"]
    services.set_status([gone], "discarded", actor=duty, source="web")
    services.merge(keep, dup, actor=duty, source="web")
    moved.refresh_from_db()
    services.edit_incident(moved, {"occurred_at": T("2022-01-04T09:00:00+06:00")},
                           actor=duty, source="web")

    for who in ("viewer", "reporter"):  # the reporter sees Almaty only
        user = sec_world.users[who]
        moment = T("2022-01-04T08:00:00+06:00")
        while moment < T("2022-01-07T12:00:00+06:00"):
            want = dict(Incident.objects.visible_to(user).filter(
                occurred_at__gt=moment - timedelta(hours=24), occurred_at__lte=moment,
                recorded_at__lte=moment).exclude(status__in=["discarded", "merged"])
                .values_list("area_id").annotate(n=Count("id")).values_list("area_id", "n")
                .order_by())
            assert queries.recent_counts(user, moment) == want, moment
            moment += timedelta(minutes=17)
    everyone = queries.recent_counts(sec_world.users["viewer"], T("2022-01-06T13:00:00+06:00"))
    assert sum(everyone.values()) == 3  # the kept one of the merged pair, the late one, Mangystau
    # learned late: counted from the moment it was known, not before
    viewer = sec_world.users["viewer"]
    before = queries.recent_counts(viewer, late.recorded_at - timedelta(seconds=1))
    assert queries.recent_counts(viewer, late.recorded_at)[late.area_id] == \
        before[late.area_id] + 1
