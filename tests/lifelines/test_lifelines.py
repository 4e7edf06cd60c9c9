"""Lifelines: reports kept, batches all-or-nothing or partial, idempotent keys, board
as of a moment with roll-up, staleness and summary, scope, API."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from sitroom.core.errors import InvalidInput, NotAllowed
from sitroom.core.models import Area, JournalEntry
from sitroom.lifelines import queries
from sitroom.lifelines.models import StatusReport
from sitroom.lifelines.services import StatusDraft, keeps_periods, report_statuses
from sitroom.testing.api import call as api

# The known periods are kept (and read) on PostgreSQL only (services.keeps_periods).
periods_kept = pytest.mark.skipif(not keeps_periods(), reason="SQLite keeps no known periods")

T = datetime.fromisoformat


def put(world, who, *items, **kw):
    drafts = [StatusDraft(**item) for item in items]
    return report_statuses(drafts, actor=world.users[who], source=kw.pop("source", "web"),
                           **kw)


def item(area="KZ751110", component="electricity", status="green", **kw):
    return {"area": area, "component": component, "status": status, **kw}


def test_every_report_is_kept_and_journaled(ll_world):
    put(ll_world, "duty", item(status="red"))
    put(ll_world, "duty", item(status="green"))
    assert list(StatusReport.objects.order_by("id").values_list("status", flat=True)) == [
        "red", "green"]
    entry = JournalEntry.objects.filter(kind="lifeline").latest("seq")
    assert entry.summary == "Almaly: Electricity — Operating normally"


def test_batch_with_one_bad_item_stores_nothing_and_names_it(ll_world):
    with pytest.raises(InvalidInput) as exc:
        put(ll_world, "duty", item(), item(component="teleport"), item(percent_operating=140))
    assert set(exc.value.errors) == {"items[1].component", "items[2].percent_operating"}
    assert not StatusReport.objects.exists()


def test_partial_batch_stores_the_good_items(ll_world):
    result = put(ll_world, "duty", item(), item(status="purple"), partial=True)
    assert len(result.stored) == 1 and list(result.errors) == [1]


def test_keys_make_retries_harmless(ll_world):
    first = put(ll_world, "duty", item(key="u-1"), item(component="metro", key="u-2"))
    again = put(ll_world, "duty", item(key="u-1"), item(component="metro", key="u-2"))
    assert len(first.stored) == 2 and not again.stored and len(again.replayed) == 2
    assert StatusReport.objects.count() == 2


def test_scope_and_roles(ll_world):
    with pytest.raises(InvalidInput) as exc:  # Mangystau is outside the reporter's scope
        put(ll_world, "reporter", item(area="KZ-MAN"))
    assert "items[0].area" in exc.value.errors or "area" in str(exc.value.errors)
    with pytest.raises(NotAllowed):
        put(ll_world, "viewer", item())


def test_board_as_of_rolls_up_and_marks_stale(ll_world, settings):
    settings.LIFELINE_FRESH_HOURS = 24
    put(ll_world, "duty", item(status="red", occurred_at=T("2022-01-06T10:00:00+06:00"),
                               recorded_at=T("2022-01-06T10:00:00+06:00")),
        item(area="KZ751910", status="green", occurred_at=T("2022-01-06T10:00:00+06:00"),
             recorded_at=T("2022-01-06T10:00:00+06:00")),
        item(status="green", occurred_at=T("2022-01-12T10:00:00+06:00"),
             recorded_at=T("2022-01-12T10:00:00+06:00")), source="scenario")
    almaty = Area.objects.get(code="KZ-ALA")
    user = ll_world.users["viewer"]

    def cell(moment, area_code="KZ-ALA"):
        data = queries.board(user, almaty, T(moment))
        comps = [c.code for c in data["components"]]
        row = next(r for r in data["rows"] if r["area"].code == area_code)
        return row["cells"][comps.index("electricity")], row["summary"]

    city, _summary = cell("2022-01-06T12:00:00+06:00")
    assert city.status == "red" and city.rolled_up and city.counts == {"red": 1, "green": 1}
    city, _summary = cell("2022-01-12T12:00:00+06:00")
    # Turksib's report of the 6th is stale by now: the city is not shown as all green.
    assert city.status == "grey"
    turksib, _s = cell("2022-01-12T12:00:00+06:00", "KZ751910")
    assert turksib.stale and turksib.status == "grey"
    almaly, summary = cell("2022-01-12T12:00:00+06:00", "KZ751110")
    assert almaly.status == "green" and "Electricity: operating normally" in summary
    city, _s = cell("2022-01-05T12:00:00+06:00")
    assert city.status == "grey" and not city.rolled_up


def test_summary_in_russian(ll_world):
    from django.utils import translation

    put(ll_world, "duty", item(area="KZ-ALA", component="retail", status="yellow",
                               trend="improving"))
    with translation.override("ru"):
        data = queries.board(ll_world.users["viewer"], Area.objects.get(code="KZ-ALA"))
        assert "возобновляют работу" in data["rows"][0]["summary"] or \
            "Супермаркеты и торговля" in data["rows"][0]["summary"]


# --- API -------------------------------------------------------------------------------

@pytest.fixture
def token(ll_world, token_for):
    return token_for


def test_api_batch_all_or_nothing_names_the_item(token):
    r = api(token("duty"), "post", "/api/v1/lifelines/status/batch",
            {"items": [item(), item(status="blue")]})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "items[1].status"
    assert not StatusReport.objects.exists()
    r = api(token("duty"), "post", "/api/v1/lifelines/status/batch",
            {"items": [item(), item(status="blue")], "partial": True})
    assert r.status_code == 201 and r.json()["stored"] == 1
    assert r.json()["errors"][0]["index"] == 1


def test_api_batch_of_ten_thousand_is_accepted_and_journaled_once(token):
    areas = ["KZ751110", "KZ751910", "KZ-ALA"]
    now = timezone.now()
    items = [item(area=areas[i % 3], component="internet", status="yellow",
                  occurred_at=(now - timedelta(seconds=i)).isoformat(), key=f"k{i}")
             for i in range(10_000)]
    secret = token("duty")
    before = JournalEntry.objects.count()
    r = api(secret, "post", "/api/v1/lifelines/status/batch", {"items": items})
    assert r.status_code == 201 and r.json()["stored"] == 10_000
    assert JournalEntry.objects.count() == before + 1
    r = api(secret, "post", "/api/v1/lifelines/status/batch", {"items": items + [item()]})
    assert r.status_code == 422  # 10,001 items


def test_api_board_and_history(token, ll_world):
    api(token("duty"), "post", "/api/v1/lifelines/status",
        item(area="KZ-ALA", component="metro", status="red"))
    api(token("duty"), "post", "/api/v1/lifelines/status",
        item(area="KZ-ALA", component="metro", status="green"))
    board = api(token("viewer"), "get", "/api/v1/lifelines/board", {"area": "KZ-ALA"}).json()
    metro = next(c for c in board["rows"][0]["cells"] if c["component"] == "metro")
    assert metro["status"] == "green" and board["rule"] == "worst"
    # written without ninja's validation: it must still be what the OpenAPI document says
    from sitroom.lifelines.schemas import LifelineBoardOut

    assert LifelineBoardOut.model_validate(board).model_dump(mode="json") == board
    hist = api(token("viewer"), "get", "/api/v1/lifelines/history",
               {"area": "KZ-ALA", "component": "metro"}).json()
    assert [h["status"] for h in hist] == ["red", "green"]
    r = api(token("viewer"), "get", "/api/v1/lifelines/board", {"as_of": "2022-01-12"})
    assert r.status_code == 422  # an as_of without time and offset is refused
    assert api(token("outsider"), "get", "/api/v1/lifelines/board",
               {"area": "KZ-ALA"}).status_code == 422


def test_board_page_states_the_rule_and_shows_symbols(client, ll_world):
    put(ll_world, "duty", item(area="KZ-ALA", status="red"))
    client.force_login(ll_world.users["viewer"])
    html = client.get("/lifelines/", {"area": "KZ-ALA"}).content.decode()
    assert "the worst status of the areas inside it" in html
    assert "✖" in html and "Not operating" in html


def test_a_rolled_up_cell_says_in_words_how_many_areas_inside_are_in_each_status(client,
                                                                                 ll_world):
    """The cell's title counted the areas inside by the status's code ("1×grey"), in
    English on a Russian page."""
    from django.utils import translation

    put(ll_world, "duty", item(area="KZ751910", status="red"),
        item(area="KZ751110", status="green"))
    client.force_login(ll_world.users["viewer"])
    with translation.override("ru"):
        html = client.get("/lifelines/", {"area": "KZ-ALA"},
                          HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Σ 1 × Не работает, 1 × Работает штатно" in html
    assert "×red" not in html and "×green" not in html and "×grey" not in html


@pytest.mark.parametrize("read", ["probes", pytest.param("periods", marks=periods_kept)])
def test_board_roll_up_equals_a_count_by_hand_over_random_reports(ll_world, settings, read):
    """Random reports (some learned late, loaded in batches out of order) over every area
    of the small world: at many moments, each board cell (country and city boards) equals
    what a reading of every report by hand gives: the newest report known then, stale
    ones counted as grey, each row rolling up the areas strictly inside it, the worst
    status winning. Both ways of reading the past: a probe per cell, the known periods."""
    import random
    from collections import Counter

    from sitroom.lifelines.choices import SEVERITY
    from sitroom.lifelines.models import Component

    settings.LIFELINE_FRESH_HOURS = 48
    settings.LIFELINE_AS_OF_READ = read
    rng = random.Random(7)
    start = T("2022-01-04T00:00:00+06:00")
    codes = ["electricity", "water_supply", "metro"]
    items = []
    for _ in range(80):
        occurred = start + timedelta(minutes=rng.randrange(12 * 24 * 60))
        late = timedelta(hours=rng.choice([0, 0, 0, 1, 30, 72]))
        items.append(item(area=rng.choice(list(ll_world.areas)), component=rng.choice(codes),
                          status=rng.choice(["green", "yellow", "red", "grey"]),
                          occurred_at=occurred, recorded_at=occurred + late))
    for i in range(0, len(items), 20):
        put(ll_world, "duty", *items[i:i + 20], source="scenario")
    user = ll_world.users["viewer"]
    fresh = timedelta(hours=48)
    reports = list(StatusReport.objects.all())
    comps = {c.pk: c.code for c in Component.objects.filter(code__in=codes)}

    def by_hand(board_area, moment):
        newest = {}
        for r in reports:
            key = (r.area_id, r.component_id)
            if r.occurred_at <= moment and r.recorded_at <= moment and (
                    key not in newest or (r.occurred_at, r.pk) > (newest[key].occurred_at,
                                                                  newest[key].pk)):
                newest[key] = r
        inside_board = [a for a in Area.objects.all() if a.path.startswith(board_area.path)]
        rows = [board_area, *sorted((a for a in inside_board if a.parent_id == board_area.pk),
                                    key=lambda a: a.name)]
        out = {}
        for row in rows:
            for comp_id, code in comps.items():
                def counted(r):
                    return "grey" if r.occurred_at < moment - fresh else r.status
                inside = Counter(counted(newest[(a.pk, comp_id)]) for a in inside_board
                                 if a.pk != row.pk and a.path.startswith(row.path)
                                 and (a.pk, comp_id) in newest)
                own = newest.get((row.pk, comp_id))
                every = inside + (Counter({counted(own): 1}) if own else Counter())
                out[(row.code, code)] = (
                    max(every, key=SEVERITY.get) if every else "grey", dict(inside),
                    bool(own and own.occurred_at < moment - fresh), bool(inside),
                    own.pk if own else None)
        return out

    checked = 0
    for _ in range(15):
        moment = start + timedelta(minutes=rng.randrange(14 * 24 * 60))
        for code in ("KZ", "KZ-ALA"):
            board_area = Area.objects.get(code=code)
            data = queries.board(user, board_area, moment)
            names = [c.code for c in data["components"]]
            got = {(row["area"].code, name): (
                       cell.status, cell.counts, cell.stale, cell.rolled_up,
                       cell.reported.pk if cell.reported else None)
                   for row in data["rows"] for name, cell in zip(names, row["cells"],
                                                                 strict=True)
                   if name in codes}
            assert got == by_hand(board_area, moment), (code, moment)
            checked += len(got)
    assert checked > 200


def _periods_and_pointers():
    from sitroom.lifelines.models import CurrentStatus, KnownPeriod

    return (set(KnownPeriod.objects.values_list(
                "report_id", "area_id", "component_id", "status", "occurred_at",
                "known_from", "known_until")),
            set(CurrentStatus.objects.values_list(
                "area_id", "component_id", "report_id", "known_from")))


@periods_kept
def test_migrate_computes_the_periods_of_reports_stored_before_they_were_kept(ll_world):
    """A database whose reports predate the known periods (no periods, pointers without
    their known time, as migration 0003 leaves it) gets them at the end of `migrate`,
    equal to those the services keep; a second `migrate` finds nothing to do."""
    from django.core.management import call_command

    from sitroom.lifelines.models import CurrentStatus, KnownPeriod

    now = timezone.now().replace(microsecond=0)
    for minutes in (600, 90, 30, 0):
        put(ll_world, "duty", item(area="KZ-ALA", component="electricity",
                                   status="red" if minutes else "green",
                                   occurred_at=now - timedelta(minutes=minutes)))
    kept = _periods_and_pointers()
    assert len(kept[0]) == 3
    KnownPeriod.objects.all().delete()
    CurrentStatus.objects.update(known_from=None)
    call_command("migrate", verbosity=0)
    assert _periods_and_pointers() == kept
    assert not CurrentStatus.objects.filter(known_from=None).exists()


@periods_kept
def test_known_periods_kept_with_each_batch_equal_those_computed_from_the_reports(ll_world):
    """The periods the services keep batch by batch (reports of now, late and backdated
    ones, several for one cell in a batch, ties of time) are exactly those computed from
    all the reports, and each says which report was the cell's state as known then."""
    import random

    from sitroom.lifelines.services import rebuild_periods

    rng = random.Random(11)
    now = timezone.now().replace(microsecond=0)
    areas = ["KZ751110", "KZ751910", "KZ-ALA"]
    codes = ["electricity", "metro"]
    for batch in range(12):
        items, source = [], "scenario" if batch % 3 else "web"
        for _ in range(rng.randrange(1, 6)):
            occurred = now - timedelta(minutes=rng.choice([0, 1, 1, 30, 90, 600, 2000]))
            extra = {"occurred_at": occurred}
            if source == "scenario":
                extra["recorded_at"] = min(now, occurred + timedelta(
                    minutes=rng.choice([0, 0, 5, 45, 700])))
            items.append(item(area=rng.choice(areas), component=rng.choice(codes),
                              status=rng.choice(["green", "yellow", "red"]), **extra))
        put(ll_world, "duty", *items, source=source)
        kept = _periods_and_pointers()
        rebuild_periods()
        assert _periods_and_pointers() == kept, f"batch {batch}"
    periods, pointers = kept
    assert len(periods) > 5
    reports = list(StatusReport.objects.all())
    for moment in sorted({r.occurred_at for r in reports} | {r.recorded_at for r in reports}):
        answer = {}
        for r in reports:
            key = (r.area_id, r.component_id)
            if max(r.occurred_at, r.recorded_at) <= moment and (
                    key not in answer or (r.occurred_at, r.pk) > answer[key]):
                answer[key] = (r.occurred_at, r.pk)
        held = [((a, c), rid) for rid, a, c, _s, _o, start, end in periods
                if start <= moment < end]
        held += [((a, c), rid) for a, c, rid, start in pointers if start <= moment]
        assert len(held) == len(dict(held)), f"two reports of one cell hold {moment}"
        assert dict(held) == {key: pk for key, (_o, pk) in answer.items()}, moment


def test_bulk_reads_select_and_return_what_the_orm_does(ll_world):
    """`bulk.any_of` (one parameter for many values, in both of its forms) selects the
    rows the ORM selects, and `bulk.fetch_rows` returns their times as the ORM does:
    aware, in UTC, to the microsecond."""
    from sitroom.core import bulk

    base = timezone.now().replace(microsecond=123456) - timedelta(hours=5)
    put(ll_world, "duty", *[item(status="red", occurred_at=base + timedelta(minutes=i),
                                 key=f"k{i}") for i in range(9)])
    reports = StatusReport.objects.order_by("id")
    ids = list(reports.values_list("id", flat=True))[::2]
    want = sorted(reports.filter(id__in=ids).values_list("id", "occurred_at", "recorded_at"))
    assert len(want) == 5
    table = StatusReport._meta.db_table
    for column, values, indexed in (("id", ids, False), ("id", ids, True),
                                    ("external_id", [f"k{i}" for i in range(0, 9, 2)], True)):
        where, params = bulk.any_of(column, values, indexed=indexed)
        got = sorted(bulk.fetch_rows(f"SELECT id, occurred_at, recorded_at FROM {table} "
                                     f"WHERE {where}", params, times=(1, 2)))
        assert got == want, (column, indexed)
        assert all(t.utcoffset() == timedelta(0) for row in got for t in row[1:])
    assert want[0][1].microsecond == 123456
