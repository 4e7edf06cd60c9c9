"""The live stream, against a real server process: cross-process delivery, resume, scope."""

import json
import threading
import time

import httpx
import pytest

from sitroom.accounts.services import find_token, revoke_token
from sitroom.core.actors import Actor
from sitroom.core.journal import chain_head
from sitroom.core.services import record_entry
from sitroom.testing.api import token
from sitroom.testing.server import session_cookie

WAIT = 15  # seconds before a test gives up waiting (not a performance limit)


class Stream:
    """Reads an SSE stream in a thread and collects its entry events."""

    def __init__(self, url, cookies=None, last_event_id=None, params=None, token=None):
        self.events, self.connected = [], threading.Event()
        headers = {"Last-Event-ID": str(last_event_id)} if last_event_id else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        params = dict(params or {})
        if not last_event_id:  # as a page does: resume after what it was rendered with
            params.setdefault("after", chain_head()[0])
        self._client = httpx.Client(base_url=url, cookies=cookies, timeout=None)
        self._params, self._headers = params, headers
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert self.connected.wait(WAIT), "stream did not connect"

    def _run(self):
        try:
            with self._client.stream("GET", "/live/journal", params=self._params,
                                     headers=self._headers) as r:
                self.status = r.status_code
                self.connected.set()
                data = None
                for line in r.iter_lines():
                    if line.startswith("data: "):
                        data = json.loads(line[6:])
                    elif line == "" and data is not None:
                        self.events.append(data)
                        data = None
        except (httpx.HTTPError, RuntimeError):
            self.connected.set()

    def wait_for(self, predicate):
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            for event in self.events:
                if predicate(event):
                    return event
            time.sleep(0.05)
        return None

    def close(self):
        self._client.close()


def write(world, summary, area="KZ-ALA"):
    return record_entry(actor=Actor.system_actor("other-process"), source="cli", kind="note",
                        summary=summary, area=world.areas[area])


def test_entry_written_by_another_process_reaches_the_stream(server, live_world):
    stream = Stream(server, session_cookie(live_world.users["viewer"]))
    try:
        assert stream.status == 200
        entry = write(live_world, "Power restored in Almaly")
        event = stream.wait_for(lambda e: e["seq"] == entry.seq)
        assert event is not None, "entry never arrived"
        assert event["summary"] == "Power restored in Almaly"
        assert "Power restored in Almaly" in event["html"]
    finally:
        stream.close()


def test_reconnect_with_last_event_id_misses_nothing(server, live_world):
    first = write(live_world, "before the drop")
    missed = [write(live_world, f"while disconnected {i}") for i in range(3)]
    stream = Stream(server, session_cookie(live_world.users["viewer"]),
                    last_event_id=first.seq)
    try:
        assert stream.wait_for(lambda e: e["seq"] == missed[-1].seq)
        seqs = [e["seq"] for e in stream.events]
        assert seqs[:3] == [m.seq for m in missed]
        assert first.seq not in seqs
    finally:
        stream.close()


def test_stream_carries_only_what_the_user_may_see(server, live_world):
    stream = Stream(server, session_cookie(live_world.users["outsider"]))
    try:
        hidden = write(live_world, "Almaty only")
        shown = write(live_world, "Mangystau news", area="KZ-MAN")
        assert stream.wait_for(lambda e: e["seq"] == shown.seq)
        assert all(e["seq"] != hidden.seq for e in stream.events)
    finally:
        stream.close()


def test_stream_applies_the_page_filters(server, live_world):
    stream = Stream(server, session_cookie(live_world.users["viewer"]),
                    params={"area": "KZ-MAN"})
    try:
        write(live_world, "Almaty")
        shown = write(live_world, "Aktau", area="KZ-MAN")
        assert stream.wait_for(lambda e: e["seq"] == shown.seq)
        assert [e["summary"] for e in stream.events] == ["Aktau"]
    finally:
        stream.close()


def test_stream_refuses_anonymous(server, live_world):
    assert httpx.get(server + "/live/journal").status_code == 401


def test_a_field_system_follows_the_stream_with_its_api_token(server, live_world):
    """A token of the analyst scoped to Mangystau: Mangystau's entries, not Almaty's."""
    stream = Stream(server, token=token(live_world.users["outsider"], "field-tablet"))
    try:
        assert stream.status == 200
        hidden = write(live_world, "Almaty only")
        shown = write(live_world, "Aktau port reopened", area="KZ-MAN")
        event = stream.wait_for(lambda e: e["seq"] == shown.seq)
        assert event is not None, "the token's user never got an entry in their scope"
        assert event["summary"] == "Aktau port reopened"
        assert all(e["seq"] != hidden.seq for e in stream.events)
    finally:
        stream.close()


def test_a_token_user_resuming_gets_only_the_missed_entries_in_scope(server, live_world):
    first = write(live_world, "before the drop", area="KZ-MAN")
    write(live_world, "Almaty while disconnected")
    missed = write(live_world, "Mangystau while disconnected", area="KZ-MAN")
    stream = Stream(server, token=token(live_world.users["outsider"]),
                    last_event_id=first.seq)
    try:
        assert stream.wait_for(lambda e: e["seq"] == missed.seq)
        assert [e["summary"] for e in stream.events] == ["Mangystau while disconnected"]
    finally:
        stream.close()


@pytest.mark.parametrize("header", ["Bearer srt_not-a-real-token", "Bearer garbage", "Bearer"])
def test_stream_refuses_a_bad_token(server, live_world, header):
    r = httpx.get(server + "/live/journal", headers={"Authorization": header})
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert "token" in r.text


def test_a_bad_token_is_refused_even_beside_a_valid_session(server, live_world):
    with httpx.stream("GET", server + "/live/journal",
                      cookies=session_cookie(live_world.users["viewer"]),
                      headers={"Authorization": "Bearer srt_revoked-or-made-up"}) as r:
        assert r.status_code == 401


def test_a_revoked_token_no_longer_follows_the_stream(server, live_world):
    user = live_world.users["outsider"]
    secret = token(user, "lost-tablet")
    revoke_token(find_token(secret), actor=Actor(user=user), source="cli")
    r = httpx.get(server + "/live/journal", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 401


@pytest.mark.parametrize("lang,word", [("ru", "Заметка"), ("kk", "Ескертпе")])
def test_stream_renders_in_the_users_language(server, live_world, lang, word):
    cookies = session_cookie(live_world.users["viewer"]) | {"django_language": lang}
    stream = Stream(server, cookies)
    try:
        entry = write(live_world, "translated")
        event = stream.wait_for(lambda e: e["seq"] == entry.seq)
        assert word in event["html"]
    finally:
        stream.close()


def test_stream_applies_the_pages_period(server, live_world):
    """A timeline showing From/To gets, live, only entries that happened in that period."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    almaty = ZoneInfo("Asia/Almaty")
    stream = Stream(server, session_cookie(live_world.users["viewer"]),
                    params={"since": "2022-01-05T00:00", "until": "2022-01-06T00:00"})
    try:
        write(live_world, "Happening now, after the period")
        shown = record_entry(actor=Actor.system_actor("other-process"), source="cli",
                             kind="note", summary="Reported late, happened on 5 January",
                             area=live_world.areas["KZ-ALA"],
                             occurred_at=datetime(2022, 1, 5, 18, 0, tzinfo=almaty))
        assert stream.wait_for(lambda e: e["seq"] == shown.seq)
        assert [e["summary"] for e in stream.events] == ["Reported late, happened on 5 January"]
    finally:
        stream.close()


def test_a_district_user_gets_the_measures_declared_over_their_district(server, live_world):
    """A district officer's board shows the city's curfew in force over the district, but
    the curfew's entry is filed under the city: their board did not change when it was
    declared. Measures declared above their areas now reach them (and their journal);
    nothing else of the city or the other districts does."""
    from django.utils import timezone

    from sitroom.accounts.services import create_user
    from sitroom.core.models import JournalEntry
    from sitroom.incidents.services import change_posture
    from sitroom.testing.world import PASSWORD, SYSTEM

    almaly = create_user("almaly", role="analyst", password=PASSWORD, areas=["KZ751110"],
                         actor=SYSTEM, source="cli")
    duty = live_world.users["duty"]

    def measure(area, kind, state):
        change_posture(area=area, kind=kind, state=state, effective_at=timezone.now(),
                       actor=duty, source="web")
        return JournalEntry.objects.filter(kind="posture").latest("seq").seq

    stream = Stream(server, session_cookie(almaly))
    try:
        note = write(live_world, "City hall meeting").seq  # the city's, not a measure
        other = measure("KZ751910", "law_and_order", "disorder")  # another district's
        curfew = measure("KZ-ALA", "curfew", "in_force")
        own = measure("KZ751110", "cto_regime", "in_force")
        assert stream.wait_for(lambda e: e["seq"] == own)
        seqs = [e["seq"] for e in stream.events]
        assert seqs == [curfew, own]
        assert note not in seqs and other not in seqs
    finally:
        stream.close()
    visible = set(JournalEntry.objects.visible_to(almaly).values_list("seq", flat=True))
    assert {curfew, own} <= visible and not {note, other} & visible
    # one of another region is given nothing more (Almaty is not above Mangystau)
    outsider = set(JournalEntry.objects.visible_to(live_world.users["outsider"])
                   .values_list("seq", flat=True))
    assert not {curfew, own, note, other} & outsider
