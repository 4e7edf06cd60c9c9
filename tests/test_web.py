"""The operating picture page: sign-in, timeline filters, as-of, posting, language, scope."""

from datetime import datetime

import pytest

from sitroom.core.actors import Actor
from sitroom.core.models import JournalEntry
from sitroom.core.services import record_entry
from sitroom.testing.world import PASSWORD


def seed(world, summary, area="KZ-ALA", when="2022-01-05T09:00:00+06:00"):
    at = datetime.fromisoformat(when)
    return record_entry(actor=Actor.system_actor("seed"), source="import", kind="event",
                        summary=summary, area=world.areas[area], occurred_at=at,
                        recorded_at=at)


def test_anonymous_is_sent_to_sign_in(client, world):
    r = client.get("/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")
    assert client.get("/live/journal").status_code == 401


def test_sign_in_with_wrong_password_says_so(client, world):
    r = client.post("/login/", {"username": "duty", "password": "nope"})
    assert "The user name or password is not right." in r.content.decode()
    r = client.post("/login/", {"username": "duty", "password": PASSWORD})
    assert r.status_code == 302


def test_timeline_filters_by_area_and_text(client, world):
    seed(world, "Akimat building on fire")
    seed(world, "Road blocked near Zhetibay", area="KZ-MAN")
    client.force_login(world.users["viewer"])
    page = client.get("/", {"area": "KZ-MAN"}).content.decode()
    assert "Road blocked" in page and "Akimat building" not in page
    partial = client.get("/", {"q": "akimat"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Akimat building" in partial and "Road blocked" not in partial
    assert "<html" not in partial  # htmx gets the partial only


def test_the_live_count_is_the_count_alone_for_the_filters_and_the_readers_areas(client,
                                                                                  world):
    """The operating picture refreshes its count on live entries: it gets the count for
    its filters, in what its reader may see, without a page of entries drawn for it."""
    seed(world, "Akimat building on fire")
    seed(world, "Road blocked near Zhetibay", area="KZ-MAN")

    def number(text):
        return int(text.split('id="timeline-count">')[1].split()[0])

    def count(user, **filters):
        client.force_login(world.users[user])
        part = client.get("/", {**filters, "part": "count"}, HTTP_HX_REQUEST="true")
        text = part.content.decode()
        assert part.status_code == 200 and "<li" not in text  # the count, no entries
        # the same number as the timeline the reader has on the page
        assert number(text) == number(
            client.get("/", filters, HTTP_HX_REQUEST="true").content.decode())
        return number(text)

    assert count("viewer", area="KZ-MAN") < count("viewer")
    assert count("viewer", q="akimat") == 1
    assert count("viewer", q="zhetibay") == 1
    assert count("outsider", q="akimat") == 0  # Mangystau only: Almaty's are not counted
    assert count("outsider") < count("viewer")


def test_as_of_hides_what_was_recorded_later(client, world):
    seed(world, "Morning report", when="2022-01-05T09:00:00+06:00")
    seed(world, "Evening report", when="2022-01-05T19:00:00+06:00")
    client.force_login(world.users["viewer"])
    page = client.get("/", {"as_of": "2022-01-05T12:00"}).content.decode()
    assert "Morning report" in page and "Evening report" not in page
    assert "Live updates are paused" in page


def test_times_are_shown_in_the_deployment_zone_with_the_zone_named(client, world):
    seed(world, "Curfew announced", when="2022-01-05T23:00:00+06:00")
    client.force_login(world.users["viewer"])
    page = client.get("/").content.decode()
    assert "2022-01-05 23:00" in page
    assert "Asia/Almaty" in page


def test_the_zone_offset_named_is_the_one_of_the_moment_shown(client, world):
    """Almaty kept UTC+06:00 until March 2024 and keeps UTC+05:00 since: a page as of
    January 2022 names the offset its times are in, not today's."""
    import zoneinfo

    from django.utils import timezone

    client.force_login(world.users["viewer"])
    then = client.get("/", {"as_of": "2022-01-05T12:00"}).content.decode()
    assert "(UTC+06:00)" in then
    today = timezone.now().astimezone(zoneinfo.ZoneInfo("Asia/Almaty")).strftime("%z")
    now = client.get("/").content.decode()
    assert f"(UTC{today[:3]}:{today[3:]})" in now


def test_posting_an_entry_from_the_page(client, world):
    client.force_login(world.users["reporter"])
    r = client.post("/journal/new", {"entry-kind": "note",
                                     "entry-summary": "Checkpoint on Al-Farabi",
                                     "entry-area": "KZ751110"})
    assert r.status_code == 302
    entry = JournalEntry.objects.get(summary="Checkpoint on Al-Farabi")
    assert entry.source == "web" and entry.actor_label == "reporter"


def test_bad_form_input_is_named_and_nothing_is_written(client, world):
    client.force_login(world.users["duty"])
    before = JournalEntry.objects.count()
    r = client.post("/journal/new", {"entry-kind": "note", "entry-summary": "",
                                     "entry-area": ""})
    assert r.status_code == 422
    assert JournalEntry.objects.count() == before
    html = r.content.decode()
    assert "This field is required." in html
    assert "Choose the area (or place) this is about." in html


@pytest.mark.parametrize("who", ["viewer", "outsider"])
def test_wrong_user_cannot_post_for_almaty(client, world, who):
    client.force_login(world.users[who])
    r = client.post("/journal/new", {"entry-kind": "note", "entry-summary": "x",
                                     "entry-area": "KZ-ALA"})
    assert r.status_code in (403, 422)
    assert not JournalEntry.objects.filter(summary="x").exists()


def test_outsider_page_shows_only_its_scope(client, world):
    seed(world, "Almaty secret")
    seed(world, "Mangystau news", area="KZ-MAN")
    client.force_login(world.users["outsider"])
    page = client.get("/").content.decode()
    assert "Mangystau news" in page and "Almaty secret" not in page
    assert ">Almaty<" not in page  # not even in the area filter


def test_page_in_russian(client, world):
    client.force_login(world.users["viewer"])
    client.cookies["django_language"] = "ru"
    page = client.get("/").content.decode()
    assert "Оперативная обстановка" in page
    assert 'lang="ru"' in page


def test_page_in_kazakh(client, world):
    client.force_login(world.users["viewer"])
    client.cookies["django_language"] = "kk"
    page = client.get("/").content.decode()
    assert 'lang="kk"' in page
    assert "Жедел жағдай" in page


def test_system_entries_are_stored_once_and_read_in_each_language(client, world):
    entry = JournalEntry.objects.filter(kind="place").latest("seq")
    assert entry.summary == "Place Almaty International Airport added"
    client.force_login(world.users["viewer"])
    client.cookies["django_language"] = "ru"
    page = client.get("/", {"kind": "place"}).content.decode()
    assert "Объект Almaty International Airport добавлен" in page
    entry.refresh_from_db()
    assert entry.summary == "Place Almaty International Airport added"


def test_numbers_read_the_kazakh_way():
    # Django ships no Kazakh formats: ours give a decimal comma and grouped thousands.
    from django.contrib.humanize.templatetags.humanize import intcomma
    from django.template.defaultfilters import floatformat
    from django.utils import translation

    with translation.override("kk"):
        assert floatformat(1.131, 3) == "1,131" and intcomma(10000) == "10\xa0000"
    with translation.override("en"):
        assert floatformat(1.131, 3) == "1.131" and intcomma(10000) == "10,000"


def test_a_page_not_found_says_so_in_the_readers_language_with_the_menu(client, world):
    client.force_login(world.users["viewer"])
    r = client.get("/incidents/00000000-0000-0000-0000-000000000000/",
                   HTTP_ACCEPT_LANGUAGE="ru")
    page = r.content.decode()
    assert r.status_code == 404
    assert "Не найдено" in page and "Инциденты" in page  # the title, and the main menu


def test_the_menu_marks_the_section_of_every_page_in_it(client, world):
    client.force_login(world.users["director"])
    page = client.get("/forces/gantt/").content.decode()
    assert '<a href="/forces/" aria-current="page">' in page


@pytest.mark.parametrize("path, form", [("/", 'id="filter-form"'),
                                        ("/lifelines/", 'id="lifelines-form"'),
                                        ("/forces/", 'id="force-asof"')])
def test_a_history_restore_gets_the_whole_page(client, world, path, form):
    """htmx asks for a page again on Back (HX-History-Restore-Request) and puts the answer
    in place of the page's body: the board or the timeline alone would leave the page
    without its controls. An ordinary htmx request still gets the part alone."""
    client.force_login(world.users["viewer"])
    whole = client.get(path, HTTP_HX_REQUEST="true",
                       HTTP_HX_HISTORY_RESTORE_REQUEST="true").content.decode()
    assert "<html" in whole and form in whole
    part = client.get(path, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in part and form not in part


@pytest.mark.parametrize("path", ["/forces/", "/forces/sites/", "/lifelines/", "history",
                                  "/security/board", "incident"])
def test_every_page_seen_as_of_a_moment_refuses_a_moment_that_is_not_one(client, world, path):
    """A mistyped moment is refused, naming the field and the form it takes, with a link
    to the same page now (its other parameters kept): shown silently as now, it would
    pass today's board off as the one asked for. A well-formed moment is shown."""
    from sitroom.incidents import services as incidents
    from sitroom.incidents.services import load_incident_types
    from sitroom.lifelines.models import Component
    from sitroom.lifelines.services import load_components

    system = Actor.system_actor("tests")
    if path == "history":
        load_components(actor=system, source="cli")
        path = f"/lifelines/KZ-ALA/{Component.objects.order_by('code').first().code}/"
    if path == "incident":
        load_incident_types(actor=system, source="cli")
        made, _new = incidents.report_incident(
            actor=system, source="import", title="Akimat on fire", type="riots",
            area="KZ-ALA", occurred_at=datetime.fromisoformat("2022-01-05T10:00:00+06:00"),
            recorded_at=datetime.fromisoformat("2022-01-05T10:30:00+06:00"))
        path = f"/incidents/{made.uid}/"
    client.force_login(world.users["director"])
    r = client.get(path, {"as_of": "2022-01-32T12:00", "area": "KZ-ALA"})
    page = r.content.decode()
    assert r.status_code == 400, path
    assert "As of: not a date and time (write it as 2022-01-06T12:00)." in page
    assert f'href="{path}?area=KZ-ALA" id="bad-request-now"' in page
    assert client.get(path, {"as_of": "2022-01-06T12:00", "area": "KZ-ALA"}).status_code == 200


def test_links_from_a_page_as_of_a_moment_keep_that_moment_to_the_second(client, world):
    """The force board's link to the guarded sites and the lifelines board's links to an
    area carry the very moment shown, not the minute it falls in."""
    from sitroom.lifelines.services import load_components

    load_components(actor=Actor.system_actor("tests"), source="cli")
    client.force_login(world.users["director"])
    kept = "as_of=2022-01-06T12%3A00%3A30"
    board = client.get("/forces/", {"as_of": "2022-01-06T12:00:30"}).content.decode()
    assert f'href="/forces/sites/?{kept}" id="link-sites"' in board
    lifelines = client.get("/lifelines/", {"as_of": "2022-01-06T12:00:30"}).content.decode()
    assert f'href="?area=KZ-ALA&{kept}"' in lifelines
