"""The guarded sites page: per site, who guards it and which national unit relieves it,
as known at a moment; a liaison officer records a guard post, ends one and records a
relief on the web, through the services (journal, actor, scope), and a change that
leaves the site without its handover is shown as the gap it makes."""

import pytest

from sitroom.accounts.services import create_user
from sitroom.core.models import JournalEntry
from sitroom.forces import services
from sitroom.forces.models import GuardPost, Relief
from sitroom.testing.api import call, token
from sitroom.testing.world import PASSWORD, SYSTEM


@pytest.fixture
def liaison(force):
    """The force headquarters' liaison officer for Almaty."""
    return create_user("liaison", role="liaison", password=PASSWORD, areas=["KZ-ALA"],
                       actor=SYSTEM, source="cli")


@pytest.fixture
def far_liaison(force):
    """A liaison officer for Mangystau only: CHP-2 (Almaty) is out of scope."""
    return create_user("far-liaison", role="liaison", password=PASSWORD, areas=["KZ-MAN"],
                       actor=SYSTEM, source="cli")


def _row(body: str, code: str) -> str:
    start = body.index(f'id="site-{code}"')
    return body[start:body.index("</tr>", start)]


def test_the_page_lists_each_site_with_its_guard_and_relief(client, force):
    client.force_login(force.users["viewer"])
    body = client.get("/forces/sites/").content.decode()
    row = _row(body, "CHP2")
    assert "CHP-2" in row and "Kyrgyz unit" in row and "still guarding" in row
    assert "National Guard" in row and "from 14 Jan 2022 06:00" in row
    assert 'data-state="guarded"' in row
    assert "Add a guard post" not in body  # a viewer reads, does not record
    # linked from the force board and its menu
    board = client.get("/forces/").content.decode()
    assert 'href="/forces/sites/#site-CHP2"' in board and 'id="link-sites"' in board


def test_the_page_is_as_of_aware(client, force):
    """A site whose guard was known from 9 January and whose relief became known only on
    13 January: the page at 12 January shows the guard and no relief yet."""
    services.record_guard_post({"key": "G-AIR", "unit": "KG-1", "place": "ALA-AIRPORT",
                                "start": "2022-01-08T14:00:00+06:00",
                                "recorded_at": "2022-01-09T10:00:00+06:00"},
                               actor=SYSTEM, source="import")
    services.record_relief({"key": "R-AIR", "place": "ALA-AIRPORT",
                            "relieving_unit": "Airport police",
                            "start": "2022-01-14T08:00:00+06:00",
                            "recorded_at": "2022-01-13T10:00:00+06:00"},
                           actor=SYSTEM, source="import")
    client.force_login(force.users["viewer"])
    then = _row(client.get("/forces/sites/?as_of=2022-01-12T12:00").content.decode(),
                "ALA-AIRPORT")
    assert "Kyrgyz unit" in then and "none recorded" in then and "Airport police" not in then
    later = client.get("/forces/sites/?as_of=2022-01-13T12:00").content.decode()
    assert "Airport police" in _row(later, "ALA-AIRPORT")
    assert 'id="site-CHP2"' not in later  # recorded only now: not known then


def test_a_liaison_officer_adds_a_guard_post_ends_it_and_sees_the_gap(client, force,
                                                                      liaison):
    client.force_login(liaison)
    r = client.post("/forces/sites/guard-posts/new/", {
        "unit": "KG-1", "place": "ALA-AIRPORT", "start": "2022-01-09T08:00",
        "travel_min": "20"}, follow=True)
    body = r.content.decode()
    assert r.redirect_chain[-1][0] == "/forces/sites/#site-ALA-AIRPORT"
    assert "Kyrgyz unit guards Almaty International Airport from 9 Jan 08:00: recorded." \
        in body
    post = GuardPost.objects.get(place__code="ALA-AIRPORT", superseded_at=None)
    assert post.actor_label == JournalEntry.objects.get(seq=post.journal_seq).actor_label
    assert "liaison" in post.actor_label
    # the guard of CHP-2 ends 30 min after its relief begins: 30 min short of the 60-min
    # overlap. Recorded (it is what happened) and shown as the gap it makes.
    r = client.post("/forces/sites/guard-posts/G-CHP2/end/", {"end": "2022-01-14T06:30"},
                    follow=True)
    body = r.content.decode()
    assert "Kyrgyz unit guards CHP-2 until 14 Jan 06:30: recorded." in body
    assert ('class="msg warning">⚠ CHP-2: relief begins 14 Jan 06:00, Kyrgyz unit'
            "&#x27;s guard ends 14 Jan 06:30 — 30 min short") in body
    assert 'data-state="gap"' in _row(body, "CHP2")
    versions = GuardPost.objects.filter(uid="G-CHP2").order_by("recorded_at", "id")
    assert [v.end is not None for v in versions] == [False, True]


def test_a_relief_added_and_changed_on_the_web_goes_through_the_journal(client, force,
                                                                        liaison):
    client.force_login(liaison)
    r = client.post("/forces/sites/reliefs/new/", {
        "place": "ALA-AIRPORT", "relieving_unit": "Airport police",
        "relieving_unit_ru": "Полиция аэропорта", "start": "2022-01-14T09:00"}, follow=True)
    assert "Airport police takes over Almaty International Airport from 14 Jan 09:00" in \
        r.content.decode()
    relief = Relief.objects.get(place__code="ALA-AIRPORT", superseded_at=None)
    entry = JournalEntry.objects.get(seq=relief.journal_seq)
    assert "liaison" in entry.actor_label and entry.source == "web"
    r = client.post(f"/forces/sites/reliefs/{relief.uid}/", {
        "place": "ALA-AIRPORT", "relieving_unit": "Airport police",
        "relieving_unit_ru": "Полиция аэропорта", "start": "2022-01-14T10:00"}, follow=True)
    row = _row(r.content.decode(), "ALA-AIRPORT")
    assert "from 14 Jan 2022 10:00" in row and "09:00" not in row
    assert Relief.objects.filter(uid=relief.uid).count() == 2  # the old version is kept
    ru = client.get("/forces/sites/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Полиция аэропорта" in _row(ru, "ALA-AIRPORT")


def test_bad_input_names_the_field(client, force, liaison):
    client.force_login(liaison)
    r = client.post("/forces/sites/guard-posts/new/", {
        "unit": "KG-1", "place": "ALA-AIRPORT", "start": "2022-01-09T08:00",
        "end": "2022-01-09T07:00", "travel_min": "20"})
    body = r.content.decode()
    assert r.status_code == 200 and 'data-field="end"' in body and "is not after start" in body
    r = client.post("/forces/sites/reliefs/new/", {"place": "ALA-AIRPORT", "start": "soon"})
    body = r.content.decode()
    assert 'data-field="relieving_unit"' in body and 'data-field="start"' in body
    assert not GuardPost.objects.filter(place__code="ALA-AIRPORT").exists()
    assert not Relief.objects.filter(place__code="ALA-AIRPORT").exists()


def test_a_user_without_the_right_is_refused(client, force):
    client.force_login(force.users["viewer"])
    for url in ("/forces/sites/guard-posts/new/", "/forces/sites/guard-posts/G-CHP2/end/",
                "/forces/sites/reliefs/new/", "/forces/sites/reliefs/R-CHP2/"):
        assert client.get(url).status_code == 403
    assert client.post("/forces/sites/reliefs/new/", {
        "place": "CHP2", "relieving_unit": "Police", "start": "2022-01-13T09:00"}
    ).status_code == 403
    assert client.post("/forces/sites/guard-posts/G-CHP2/end/",
                       {"end": "2022-01-14T06:30"}).status_code == 403
    assert Relief.objects.filter(place__code="CHP2").count() == 1
    assert GuardPost.objects.get(uid="G-CHP2", superseded_at=None).end is None


def test_a_liaison_officer_out_of_scope_neither_sees_nor_records(client, force,
                                                                 far_liaison):
    client.force_login(far_liaison)
    body = client.get("/forces/sites/").content.decode()
    assert "CHP-2" not in body and "No guarded site you may see." in body
    assert client.get("/forces/sites/guard-posts/G-CHP2/end/").status_code == 404
    assert client.post("/forces/sites/guard-posts/G-CHP2/end/",
                       {"end": "2022-01-14T06:30"}).status_code == 404
    assert client.get("/forces/sites/reliefs/R-CHP2/").status_code == 404
    r = client.post("/forces/sites/reliefs/new/", {
        "place": "CHP2", "relieving_unit": "Police", "start": "2022-01-13T09:00"})
    assert r.status_code == 200 and 'data-field="place"' in r.content.decode()
    assert Relief.objects.filter(place__code="CHP2").count() == 1
    assert GuardPost.objects.get(uid="G-CHP2", superseded_at=None).end is None
    # nor through the API, which the same services serve
    r = call(token(far_liaison), "post", "/api/v1/forces/reliefs",
             {"place": "CHP2", "relieving_unit": "Police",
              "start": "2022-01-13T09:00:00+06:00"})
    assert r.status_code == 403
    assert Relief.objects.filter(place__code="CHP2").count() == 1
