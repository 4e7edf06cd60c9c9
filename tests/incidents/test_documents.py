"""Documents attached to incidents: kept as sent, read only by who may see the incident,
added only by who may report in its area, checked against the journal."""

import hashlib
import io
import json
import os
import socket
import time
from datetime import datetime
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from sitroom.core.models import JournalEntry
from sitroom.incidents import services
from sitroom.incidents.models import Incident, IncidentDocument
from sitroom.testing.api import token
from sitroom.testing.files import png

T = datetime.fromisoformat


@pytest.fixture(autouse=True)
def _documents_dir(settings, tmp_path):
    settings.DOCUMENTS_DIR = tmp_path / "documents"
    return settings.DOCUMENTS_DIR


def stored_files(settings) -> list[str]:
    root = settings.DOCUMENTS_DIR
    return [f for _d, _s, files in os.walk(root) for f in files] if root.exists() else []


def report(world, title="Akimat on fire", area="KZ751110", who="duty"):
    return services.report_incident(actor=world.users[who], source="web", title=title,
                                    area=area, type="riots",
                                    occurred_at=T("2022-01-05T10:00:00+06:00"))[0]


def attach(client, incident, name, content, description=""):
    return client.post(f"/incidents/{incident.uid}/documents",
                       {"file": SimpleUploadedFile(name, content), "description": description})


def test_a_photo_from_the_field_is_listed_shown_as_sent_and_journaled(client, sec_world):
    incident = report(sec_world)
    photo = png(1)
    client.force_login(sec_world.users["reporter"])  # a field reporter in Almaty
    r = attach(client, incident, r"C:\Users\field\DCIM\IMG_0042.png", photo,
               "The akimat's east wing, 21:40")
    assert r.status_code == 302
    page = client.get(r.url).content.decode()
    assert "Document added." in page
    assert "IMG_0042.png" in page and "DCIM" not in page  # the folder is not kept
    assert "The akimat&#x27;s east wing, 21:40" in page
    doc = IncidentDocument.objects.get(incident=incident)
    assert f'<img src="/incidents/{incident.uid}/documents/{doc.uid}"' in page

    got = client.get(f"/incidents/{incident.uid}/documents/{doc.uid}")
    assert got.status_code == 200
    assert b"".join(got.streaming_content) == photo
    assert got["Content-Type"] == "image/png"
    assert got["Content-Disposition"].startswith("inline")
    assert "sandbox" in got["Content-Security-Policy"]
    assert got["X-Content-Type-Options"] == "nosniff"
    # A browser that has it asks again (a withdrawal must reach it) and gets no bytes.
    assert got["ETag"] == f'"{doc.sha256}"' and "no-cache" in got["Cache-Control"]
    assert client.get(f"/incidents/{incident.uid}/documents/{doc.uid}",
                      HTTP_IF_NONE_MATCH=got["ETag"]).status_code == 304
    download = client.get(f"/incidents/{incident.uid}/documents/{doc.uid}", {"download": 1})
    assert download["Content-Disposition"].startswith("attachment")

    # A change of the report, in its history and in the journal with the file's digest.
    incident.refresh_from_db()
    assert incident.version == 2
    assert "Document added" in page
    entry = JournalEntry.objects.get(seq=doc.journal_seq)
    assert entry.payload["document"]["sha256"] == hashlib.sha256(photo).hexdigest()
    assert entry.payload["document"]["size"] == len(photo)
    assert entry.actor_label == doc.actor_label == "reporter"
    assert "IMG_0042.png" in entry.summary


def test_a_document_is_served_as_a_download_and_never_as_a_page(client, sec_world):
    incident = report(sec_world)
    client.force_login(sec_world.users["duty"])
    attach(client, incident, "decree 4-k.pdf", b"%PDF-1.4 decree text")
    doc = IncidentDocument.objects.get()
    got = client.get(f"/incidents/{incident.uid}/documents/{doc.uid}")
    assert got["Content-Type"] == "application/pdf"
    assert got["Content-Disposition"] == 'attachment; filename="decree 4-k.pdf"'
    # A page or a script is not taken, whatever type the sender claims.
    r = attach(client, incident, "report.html", b"<script>alert(1)</script>")
    page = client.get(r.url).content.decode()
    assert "files of type .html are not accepted; accepted: csv, doc, docx" in page
    assert IncidentDocument.objects.count() == 1


@pytest.mark.parametrize("name,content,limit_mb,problem", [
    ("empty.jpg", b"", 50, "the file is empty"),
    ("big.jpg", b"x" * 3000, 0.002, "the file is larger than 0.002 MB"),
    ("plan.svg", b"<svg/>", 50, "files of type .svg are not accepted"),
    ("noextension", b"data", 50, "files of type (no extension) are not accepted"),
])
def test_a_refused_file_is_named_and_nothing_is_kept(client, sec_world, token_for, settings,
                                                      name, content, limit_mb, problem):
    settings.DOCUMENT_MAX_MB = limit_mb
    incident = report(sec_world)
    r = api_attach(token_for("duty"), incident, name, content)
    assert r.status_code == 422, r.content
    errors = problems(r)
    assert list(errors) == ["file"] and problem in errors["file"]
    assert not IncidentDocument.objects.exists()
    assert stored_files(settings) == []
    incident.refresh_from_db()
    assert incident.version == 1


def problems(response) -> dict[str, str]:
    """A 422 answer's problems, by field."""
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def api_withdraw(secret, incident, doc, reason):
    return Client().post(f"/api/v1/incidents/{incident.uid}/documents/{doc.uid}/withdraw",
                         {"reason": reason}, content_type="application/json",
                         HTTP_AUTHORIZATION=f"Bearer {secret}")


def api_attach(secret, incident, name, content, description=""):
    return Client().post(f"/api/v1/incidents/{incident.uid}/documents",
                         {"file": SimpleUploadedFile(name, content),
                          "description": description},
                         HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_a_device_sending_the_same_file_twice_stores_it_once(client, sec_world, token_for,
                                                             settings):
    incident = report(sec_world)
    secret = token_for("reporter")
    first = api_attach(secret, incident, "photo.jpg", b"\xff\xd8jpeg bytes", "fire")
    assert first.status_code == 201
    again = api_attach(secret, incident, "photo (1).jpg", b"\xff\xd8jpeg bytes")
    assert again.status_code == 200
    assert again.json()["uid"] == first.json()["uid"]
    assert IncidentDocument.objects.count() == 1 and len(stored_files(settings)) == 1
    incident.refresh_from_db()
    assert incident.version == 2
    got = client.get(f"/api/v1/incidents/{incident.uid}", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert got.json()["documents"] == 1
    listed = client.get(f"/api/v1/incidents/{incident.uid}/documents",
                        HTTP_AUTHORIZATION=f"Bearer {token(sec_world.users['viewer'])}").json()
    assert [(d["name"], d["size"], d["added_by"], d["description"]) for d in listed] == [
        ("photo.jpg", 12, "reporter (token test)", "fire")]
    got = client.get(listed[0]["url"],
                     HTTP_AUTHORIZATION=f"Bearer {token(sec_world.users['viewer'])}")
    assert b"".join(got.streaming_content) == b"\xff\xd8jpeg bytes"


def test_the_wrong_users_can_neither_add_nor_read(client, sec_world, token_for, settings):
    incident = report(sec_world)
    client.force_login(sec_world.users["duty"])
    attach(client, incident, "scan.pdf", b"%PDF scan")
    doc = IncidentDocument.objects.get()
    url = f"/incidents/{incident.uid}/documents/{doc.uid}"

    # A viewer reads, but may not add.
    client.force_login(sec_world.users["viewer"])
    assert client.get(url).status_code == 200
    assert 'name="file"' not in client.get(f"/incidents/{incident.uid}/").content.decode()
    assert attach(client, incident, "mine.pdf", b"%PDF other").status_code == 403
    r = api_attach(token_for("viewer"), incident, "mine.pdf", b"%PDF other")
    assert r.status_code == 403
    # An analyst for Mangystau sees neither the incident nor its documents.
    client.force_login(sec_world.users["outsider"])
    assert client.get(url).status_code == 404
    assert attach(client, incident, "mine.pdf", b"%PDF other").status_code == 404
    api = api_attach(token_for("outsider"), incident, "mine.pdf", b"%PDF other")
    assert api.status_code == 404
    assert client.get(f"/api/v1/incidents/{incident.uid}/documents/{doc.uid}",
                      HTTP_AUTHORIZATION=f"Bearer {token_for('outsider')}").status_code == 404
    # A document id of another incident does not open through this one.
    other = report(sec_world, "Another")
    client.force_login(sec_world.users["duty"])
    assert client.get(f"/incidents/{other.uid}/documents/{doc.uid}").status_code == 404
    # A field reporter may not add to an incident outside the area they report in.
    mangystau = report(sec_world, "Zhanaozen rally", area="KZ-MAN")
    r = api_attach(token_for("reporter"), mangystau, "x.pdf", b"%PDF x")
    assert r.status_code in (403, 404)
    assert IncidentDocument.objects.count() == 1 and len(stored_files(settings)) == 1


def test_a_merged_duplicates_documents_stay_with_the_kept_report(client, sec_world):
    keep, duplicate = report(sec_world, "Akimat burning"), report(sec_world, "Fire at akimat")
    client.force_login(sec_world.users["duty"])
    attach(client, duplicate, "from-the-duplicate.jpg", png(7))
    services.merge(keep, duplicate, actor=sec_world.users["duty"], source="web")
    page = client.get(f"/incidents/{keep.uid}/").content.decode()
    assert "from-the-duplicate.jpg" in page and "with the merged report" in page
    # The list counts it with the kept report, as its page lists it.
    listed = client.get("/incidents/", {"q": "Akimat burning"}).content.decode()
    assert "1 document</span>" in listed
    doc = IncidentDocument.objects.get()
    assert client.get(f"/incidents/{keep.uid}/documents/{doc.uid}").status_code == 200
    # The merged report takes no more documents: they go to the one it was merged into.
    r = attach(client, Incident.objects.get(pk=duplicate.pk), "late.jpg", png(8))
    assert "this report was merged into another" in client.get(r.url).content.decode()
    assert IncidentDocument.objects.count() == 1


def test_journal_verify_finds_a_stored_file_that_was_altered(client, sec_world, settings):
    incident = report(sec_world)
    client.force_login(sec_world.users["duty"])
    attach(client, incident, "photo.png", png(3))
    out, err = io.StringIO(), io.StringIO()
    call_command("journal", "verify", "--documents", stdout=out, stderr=err)
    assert "documents verified" in out.getvalue()

    doc = IncidentDocument.objects.get()
    path = settings.DOCUMENTS_DIR / doc.sha256[:2] / doc.sha256[2:4] / doc.sha256
    os.chmod(path, 0o644)
    path.write_bytes(png(4))
    with pytest.raises(SystemExit) as stop:
        call_command("journal", "verify", "--documents", stdout=out, stderr=err)
    assert stop.value.code == 1
    assert f"document {doc.uid} (photo.png" in err.getvalue()
    assert "content changed" in err.getvalue()
    # The row's digest changed to match the new bytes is caught by the journal's record.
    doc.sha256 = hashlib.sha256(png(4)).hexdigest()
    IncidentDocument.objects.filter(pk=doc.pk).update(sha256=doc.sha256)
    new_path = settings.DOCUMENTS_DIR / doc.sha256[:2] / doc.sha256[2:4] / doc.sha256
    new_path.parent.mkdir(parents=True, exist_ok=True)
    new_path.write_bytes(png(4))
    err = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("journal", "verify", "--documents", stdout=out, stderr=err)
    assert "the journal recorded sha256" in err.getvalue()
    # A missing file is served as such, not as an error page.
    path.unlink()
    new_path.unlink()
    assert client.get(f"/incidents/{incident.uid}/documents/{doc.uid}").status_code == 410


def test_a_field_reporter_sends_the_photo_with_the_report(client, sec_world, settings):
    client.force_login(sec_world.users["reporter"])
    fields = {"type": "riots", "title": "Shop looted", "severity": "3", "area": "KZ751110",
              "occurred_at": "2022-01-05T21:00"}
    # A file that is not taken is named beside its field, and nothing is written.
    r = client.post("/incidents/new", {**fields, "document": SimpleUploadedFile(
        "shop.svg", b"<svg/>")})
    assert r.status_code == 422
    assert "files of type .svg are not accepted" in r.content.decode()
    assert not Incident.objects.exists() and stored_files(settings) == []

    r = client.post("/incidents/new", {**fields, "document": SimpleUploadedFile(
        "shop.png", png(9))})
    assert r.status_code == 302
    incident = Incident.objects.get(title="Shop looted")
    doc = IncidentDocument.objects.get(incident=incident)
    assert (doc.name, doc.size, doc.actor_label) == ("shop.png", len(png(9)), "reporter")
    assert [rev.change for rev in incident.revisions.order_by("number")] == [
        "reported", "document_added"]
    # A correction of the facts has no file field: documents are added on the report's page.
    assert 'name="document"' not in client.get(f"/incidents/{incident.uid}/edit").content.decode()


def next_second() -> str:
    """Wait for the next whole second of the clock; that second, as a form writes it."""
    now = timezone.localtime()
    time.sleep(1 - now.microsecond / 1e6 + 0.01)
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M:%S")


def withdraw(client, incident, doc, reason):
    return client.post(f"/incidents/{incident.uid}/documents/{doc.uid}/withdraw",
                       {"reason": reason})


def test_a_photo_attached_by_mistake_is_withdrawn_with_its_reason_and_kept(
        client, sec_world, token_for, settings):
    incident = report(sec_world)
    client.force_login(sec_world.users["reporter"])
    attach(client, incident, "wrong-street.png", png(11))
    doc = IncidentDocument.objects.get()
    url = f"/incidents/{incident.uid}/documents/{doc.uid}"

    # A reason is asked for; without one nothing changes.
    r = withdraw(client, incident, doc, "  ")
    assert "say why the document is withdrawn" in client.get(r.url).content.decode()
    doc.refresh_from_db()
    assert doc.withdrawn_at is None

    assert "1 document</span>" in client.get("/incidents/").content.decode()
    before = next_second()  # a moment, to the second, between attaching and withdrawing
    next_second()
    r = withdraw(client, incident, doc, "Wrong street: this is Abai avenue")
    page = client.get(r.url).content.decode()
    assert "Document withdrawn." in page
    assert "Withdrawn by reporter" in page and "Wrong street: this is Abai avenue" in page
    assert f'<img src="{url}"' not in page  # its own adder no longer sees it either
    # The list counts it no more, except as the list stood before the withdrawal; so
    # does the API.
    assert "document</span>" not in client.get("/incidents/").content.decode()
    assert "1 document</span>" in client.get("/incidents/", {"as_of": before}).content.decode()
    duty = f"Bearer {token_for('duty')}"
    api_list = client.get("/api/v1/incidents", HTTP_AUTHORIZATION=duty).json()["items"]
    moment = timezone.make_aware(datetime.fromisoformat(before)).isoformat()
    then = client.get("/api/v1/incidents", {"as_of": moment},
                      HTTP_AUTHORIZATION=duty).json()["items"]
    assert [i["documents"] for i in api_list] == [0] and [i["documents"] for i in then] == [1]
    doc.refresh_from_db()
    assert (doc.withdrawn_by_label, doc.withdrawal_reason) == (
        "reporter", "Wrong street: this is Abai avenue")
    incident.refresh_from_db()
    assert [rev.change for rev in incident.revisions.order_by("number")] == [
        "reported", "document_added", "document_withdrawn"]
    entry = JournalEntry.objects.get(seq=doc.withdrawal_seq)
    assert entry.payload["document"] == {
        "uid": str(doc.uid), "name": "wrong-street.png", "sha256": doc.sha256,
        "withdrawn": True, "reason": "Wrong street: this is Abai avenue"}

    # The file is gone for a viewer, on the page and on the API, saying why ...
    client.force_login(sec_world.users["viewer"])
    gone = client.get(url)
    assert gone.status_code == 410
    assert "withdrawn" in gone.content.decode() and "Abai avenue" in gone.content.decode()
    viewer = f"Bearer {token_for('viewer')}"
    api_url = f"/api/v1/incidents/{incident.uid}/documents/{doc.uid}"
    assert client.get(api_url, HTTP_AUTHORIZATION=viewer).status_code == 410
    listed = client.get(f"/api/v1/incidents/{incident.uid}/documents",
                        HTTP_AUTHORIZATION=viewer).json()
    assert [(d["name"], d["withdrawn_by"], d["withdrawal_reason"]) for d in listed] == [
        ("wrong-street.png", "reporter", "Wrong street: this is Abai avenue")]
    # ... but kept: an incident manager still opens the very bytes, and verify checks it.
    client.force_login(sec_world.users["duty"])
    kept = client.get(url)
    assert kept.status_code == 200 and b"".join(kept.streaming_content) == png(11)
    assert "(kept; shown to incident managers only)" in client.get(
        f"/incidents/{incident.uid}/").content.decode()
    out = io.StringIO()
    call_command("journal", "verify", "--documents", stdout=out)
    assert "documents verified" in out.getvalue()
    # The same bytes sent again are refused, naming the withdrawal, and nothing changes.
    again = api_attach(token_for("reporter"), incident, "wrong-street.png", png(11))
    assert again.status_code == 422
    assert "withdrawn" in problems(again)["file"]
    assert IncidentDocument.objects.count() == 1 and len(stored_files(settings)) == 1
    # It is withdrawn once.
    r = api_withdraw(token_for("duty"), incident, doc, "again")
    assert r.status_code == 422 and "already withdrawn" in problems(r)["document"]


def test_only_who_added_it_or_a_manager_may_withdraw_a_document(client, sec_world,
                                                                 token_for):
    incident = report(sec_world)
    client.force_login(sec_world.users["duty"])
    attach(client, incident, "decree.pdf", b"%PDF decree")
    doc = IncidentDocument.objects.get()
    # A field reporter may not withdraw what someone else attached; a viewer nothing;
    # an analyst for Mangystau does not see the incident.
    client.force_login(sec_world.users["reporter"])
    assert "Withdraw…" not in client.get(f"/incidents/{incident.uid}/").content.decode()
    assert withdraw(client, incident, doc, "not mine").status_code == 403
    assert api_withdraw(token_for("reporter"), incident, doc, "x").status_code == 403
    client.force_login(sec_world.users["viewer"])
    assert withdraw(client, incident, doc, "no").status_code == 403
    client.force_login(sec_world.users["outsider"])
    assert withdraw(client, incident, doc, "no").status_code == 404
    assert api_withdraw(token_for("outsider"), incident, doc, "x").status_code == 404
    doc.refresh_from_db()
    incident.refresh_from_db()
    assert doc.withdrawn_at is None and incident.version == 2
    # The director (an incident manager everywhere) may, on the API.
    r = api_withdraw(token_for("director"), incident, doc, "Superseded by decree No. 2")
    assert r.status_code == 200
    assert (r.json()["withdrawn_by"], r.json()["withdrawal_reason"]) == (
        "director (token test)", "Superseded by decree No. 2")


def test_an_upload_over_the_limit_is_refused_by_its_declared_size(client, sec_world,
                                                                   token_for, settings):
    settings.DOCUMENT_MAX_MB = 0.5
    incident = report(sec_world)
    big = b"\0" * (2 << 20)  # 2 MB: over the 0.5 MB file and the form's own allowance
    r = api_attach(token_for("duty"), incident, "video.mp4", big)
    assert r.status_code == 413
    assert problems(r) == {"file": "the file is larger than 0.5 MB"}
    client.force_login(sec_world.users["reporter"])
    page = client.post("/incidents/new", {"type": "riots", "title": "Shop looted",
                                          "area": "KZ751110", "severity": "3",
                                          "occurred_at": "2022-01-05T21:00",
                                          "document": SimpleUploadedFile("v.mp4", big)},
                       HTTP_ACCEPT_LANGUAGE="ru")
    assert page.status_code == 413
    assert "Файл больше 0,5 МБ. Ничего не сохранено." in page.content.decode()
    assert IncidentDocument.objects.count() == 0 and stored_files(settings) == []
    assert Incident.objects.count() == 1
    # Under the limit, the same addresses take files as before.
    assert api_attach(token_for("duty"), incident, "clip.mp4", b"\0" * 1000).status_code == 201


def test_the_server_answers_a_too_large_upload_without_waiting_for_its_bytes(server):
    """`sitroom serve` (uvicorn) refuses on the declared length: the client gets its 413
    while it has sent only the start of a 200 MB body."""
    url = urlsplit(server)
    with socket.create_connection((url.hostname, url.port), timeout=20) as conn:
        conn.sendall(
            b"POST /api/v1/incidents/01a21f8c-9eea-7660-aa2b-c223729e4fc3/documents HTTP/1.1\r\n"
            b"Host: localhost\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            b"Content-Length: 200000000\r\nAccept-Language: en\r\n\r\n--b\r\n")
        answer = b""
        while b"}" not in answer:
            chunk = conn.recv(65536)
            assert chunk, answer
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert json.loads(body)["errors"] == [{"field": "file",
                                           "message": "the file is larger than 50 MB"}]


def test_the_list_keeps_the_reports_with_documents_or_those_without(client, sec_world,
                                                                      token_for):
    """A duty officer checking what is backed by a photo or a scan: the list, the API, the
    map and the exports keep the reports whose page lists a document (their own or a
    merged duplicate's, not withdrawn), or those that list none; as of a past moment, as
    the pages listed them then."""
    own, kept = report(sec_world, "Akimat burning"), report(sec_world, "Bank looted")
    duplicate = report(sec_world, "Bank on Abai looted")
    bare = report(sec_world, "Crowd on the square")
    for incident, lon in ((own, 76.9088), (bare, 76.95)):  # on the map, in one cell
        services.edit_incident(incident, {"lat": 43.2522, "lon": lon, "area": "KZ751110"},
                               actor=sec_world.users["duty"], source="web")
    withdrawn = report(sec_world, "Police post attacked")
    mangystau = report(sec_world, "Road blocked at Zhanaozen", area="KZ-MAN")
    client.force_login(sec_world.users["duty"])
    for incident, n in ((own, 1), (duplicate, 2), (withdrawn, 3), (mangystau, 4)):
        attach(client, incident, f"photo-{n}.png", png(20 + n))
    unmerged = next_second()
    next_second()
    services.merge(kept, duplicate, actor=sec_world.users["duty"], source="web")
    before = next_second()
    next_second()
    withdraw(client, withdrawn, IncidentDocument.objects.get(incident=withdrawn), "wrong")

    def titles(page: str) -> set[str]:
        return {t for t in ("Akimat burning", "Bank looted", "Bank on Abai looted",
                            "Crowd on the square", "Police post attacked",
                            "Road blocked at Zhanaozen") if t in page}

    def listed(**query) -> set[str]:
        return titles(client.get("/incidents/", query).content.decode())

    backed = {"Akimat burning", "Bank looted", "Road blocked at Zhanaozen"}
    assert listed(documents="with") == backed
    assert listed(documents="without") == {"Crowd on the square", "Police post attacked"}
    # Before the withdrawal the police post's photo was listed (read back as it stood).
    assert listed(documents="with", as_of=before) == backed | {"Police post attacked"}
    assert listed(documents="without", as_of=before) == {"Crowd on the square"}
    # Before the merge the photo was the duplicate's, listed on its own page.
    assert listed(documents="with", as_of=unmerged) == {
        "Akimat burning", "Bank on Abai looted", "Police post attacked",
        "Road blocked at Zhanaozen"}
    assert listed(documents="without", as_of=unmerged) == {"Bank looted",
                                                           "Crowd on the square"}
    # The export links of the filtered list carry the filter.
    page = client.get("/incidents/", {"documents": "with"}).content.decode()
    assert "documents=true" in page

    def api(who: str, path: str = "/api/v1/incidents", **query):
        return client.get(path, query, HTTP_AUTHORIZATION=f"Bearer {token_for(who)}")

    assert {i["title"] for i in api("duty", documents="true").json()["items"]} == backed
    assert {i["title"] for i in api("duty", documents="false").json()["items"]} == {
        "Crowd on the square", "Police post attacked"}
    moment = timezone.make_aware(datetime.fromisoformat(before)).isoformat()
    assert {i["title"] for i in api("duty", documents="false", as_of=moment).json()[
        "items"]} == {"Crowd on the square"}
    assert api("duty", documents="maybe").status_code == 422
    def mapped(**query) -> int:
        cells = api("director", "/api/v1/incidents/map", cell=1, **query).json()
        return sum(c["count"] for c in cells)

    assert (mapped(), mapped(documents="true"), mapped(documents="false")) == (2, 1, 1)
    csv_text = b"".join(api("duty", "/api/v1/incidents/export.csv",
                            documents="true").streaming_content).decode()
    assert titles(csv_text) == backed
    # The filter narrows what a user may see, never widens it: Mangystau's analyst gets
    # Mangystau's report only.
    assert {i["title"] for i in api("outsider", documents="true").json()["items"]} == {
        "Road blocked at Zhanaozen"}
    assert api("outsider", documents="false").json()["items"] == []


def test_an_incident_is_opened_as_it_stood_at_a_past_moment(client, sec_world, token_for):
    """A duty officer reviewing the night: from the list as of a moment, the incident's
    page shows its facts, status, history and documents then, with nothing to act on;
    the API gives the same. Before it was reported there is nothing to show, and the
    wrong user sees nothing at any moment."""
    incident = report(sec_world, "Akimat on fire")
    duplicate = report(sec_world, "Smoke over the akimat")
    client.force_login(sec_world.users["duty"])
    attach(client, incident, "east-wing.png", png(31))
    attach(client, duplicate, "from-the-square.png", png(32))
    then = next_second()
    next_second()
    duty = sec_world.users["duty"]
    services.edit_incident(incident, {"title": "Akimat burned out", "severity": 5},
                           actor=duty, source="web")
    services.set_status([Incident.objects.get(pk=incident.pk)], "verified", actor=duty,
                        source="web")
    withdraw(client, incident, IncidentDocument.objects.get(incident=incident),
             "Wrong street")
    services.merge(Incident.objects.get(pk=incident.pk), duplicate, actor=duty, source="web")

    # The list as of the moment opens the page as of the moment.
    listed = client.get("/incidents/", {"as_of": then}).content.decode()
    url = f"/incidents/{incident.uid}/?as_of={then.replace(':', '%3A')}"
    assert url in listed
    page = client.get(url).content.decode()
    title = page.split('id="incident-title"')[1].split("</h1>")[0]
    assert "Akimat on fire" in title
    assert "As it stood at" in page and "Live updates are paused" in page
    assert 'class="status reported"' in page
    # The photo listed then, and the news that it has been withdrawn since.
    assert "east-wing.png" in page and "Listed then; withdrawn since by" in page
    # The duplicate was a report of its own then: neither its photo nor its history here.
    assert "from-the-square.png" not in page and "Merged duplicates" not in page
    assert "Smoke over the akimat" not in page
    rows = page.split('id="incident-history"')[1].split("</tbody>")[0]
    assert rows.count("<tr>") == 2 and "Document added" in rows
    assert "Document withdrawn" not in rows and "Verified" not in rows
    # Nothing to act on in the past.
    for action in ("Edit</a>", "Withdraw…", ">Attach<", 'value="verify"', ">Merge<"):
        assert action not in page, action
    now = client.get(f"/incidents/{incident.uid}/").content.decode()
    assert "Akimat burned out" in now and "from-the-square.png" in now
    assert "Merged duplicates" in now and "Document withdrawn" in now

    # The same through the API.
    moment = timezone.make_aware(datetime.fromisoformat(then)).isoformat()

    def api(who, path="", **query):
        return client.get(f"/api/v1/incidents/{incident.uid}{path}", query,
                          HTTP_AUTHORIZATION=f"Bearer {token_for(who)}")

    item = api("duty", as_of=moment).json()
    assert (item["title"], item["status"], item["severity"], item["documents"]) == (
        "Akimat on fire", "reported", 2, 1)
    assert (api("duty").json()["title"], api("duty").json()["documents"]) == (
        "Akimat burned out", 1)  # now: the duplicate's photo; its own is withdrawn
    history = api("duty", "/history", as_of=moment).json()
    assert [r["change"] for r in history] == ["reported", "document_added"]
    assert len(api("duty", "/history").json()) > 4
    docs = api("duty", "/documents", as_of=moment).json()
    assert [d["name"] for d in docs] == ["east-wing.png"]
    assert docs[0]["withdrawn_at"] is not None  # later than the moment, and said so
    assert [d["name"] for d in api("duty", "/documents").json()] == [
        "east-wing.png", "from-the-square.png"]

    # Before it was reported: nothing, and the page says why.
    early = "2022-01-01T00:00"
    r = client.get(f"/incidents/{incident.uid}/", {"as_of": early})
    assert r.status_code == 404 and "was not known yet at 2022-01-01 00:00" in r.content.decode()
    r = api("duty", as_of="2022-01-01T00:00:00+06:00")
    assert r.status_code == 404 and "not known yet" in r.json()["detail"]
    # A moment that is not one is named as such.
    r = client.get(f"/incidents/{incident.uid}/", {"as_of": "yesterday"})
    assert r.status_code == 400 and "As of" in r.content.decode()
    assert api("duty", as_of="yesterday").status_code == 422
    # Mangystau's analyst sees this Almaty incident at no moment.
    client.force_login(sec_world.users["outsider"])
    assert client.get(url).status_code == 404
    assert api("outsider", as_of=moment).status_code == 404
    assert api("outsider", "/documents", as_of=moment).status_code == 404
