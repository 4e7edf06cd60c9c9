"""`sitroom backup` and `sitroom restore`: the database and the documents together, a copy
that is complete and checked, and a restore that never deletes what was there."""

import hashlib
import io
import json
import shutil
import sqlite3
import subprocess
from datetime import datetime

import pytest
from django.core.management import call_command
from django.db import connection

from sitroom.core.backup import BackupError, Manifest, restore
from sitroom.core.models import JournalEntry
from sitroom.incidents.documents import add_document
from sitroom.incidents.services import load_incident_types, report_incident
from sitroom.testing.files import png
from sitroom.testing.world import SYSTEM


@pytest.fixture
def reported(live_world, settings, tmp_path):
    """A committed incident with a photo, documents under tmp_path."""
    settings.DOCUMENTS_DIR = tmp_path / "documents"
    load_incident_types(actor=SYSTEM, source="cli")
    incident = report_incident(actor=live_world.users["duty"], source="web", type="riots",
                               title="Akimat on fire", area="KZ751110",
                               occurred_at=datetime.fromisoformat("2022-01-05T10:00:00+06:00"))[0]
    add_document(incident, [png(21)], name="akimat.png", actor=live_world.users["duty"],
                 source="web")
    return incident


def backup(tmp_path):
    out = io.StringIO()
    call_command("backup", str(tmp_path / "backups"), stdout=out)
    folders = list((tmp_path / "backups").iterdir())
    assert len(folders) == 1 and folders[0].name.startswith("sitroom-"), folders
    assert str(folders[0]) in out.getvalue()
    return folders[0]


def test_a_backup_holds_the_database_and_every_document_checked(reported, tmp_path):
    folder = backup(tmp_path)
    m = Manifest.read(folder)
    last = JournalEntry.objects.order_by("-seq").first()
    assert (m.journal_entries, m.journal_head) == (last.seq, last.hash)
    assert (m.documents, m.document_bytes) == (1, len(png(21)))
    copied = [p for p in (folder / "documents").rglob("*") if p.is_file()]
    assert [p.read_bytes() for p in copied] == [png(21)]
    if connection.vendor == "sqlite":
        copy = sqlite3.connect(folder / m.database_file)
        assert copy.execute("SELECT count(*) FROM incidents_incident").fetchone() == (1,)
        assert copy.execute("SELECT hash FROM core_journalentry ORDER BY seq DESC LIMIT 1"
                            ).fetchone() == (last.hash,)
        copy.close()
    else:
        listing = subprocess.run(["pg_restore", "--list", str(folder / m.database_file)],
                                 capture_output=True, text=True, check=True).stdout
        assert "TABLE DATA public core_journalentry" in listing
        assert "TABLE DATA public incidents_incidentdocument" in listing


def test_a_document_altered_in_the_store_stops_the_backup_and_leaves_nothing(
        reported, tmp_path, settings):
    stored = next(p for p in settings.DOCUMENTS_DIR.rglob("*") if p.is_file())
    stored.chmod(0o644)
    stored.write_bytes(b"not the photo")
    with pytest.raises(Exception, match="does not match its digest"):
        call_command("backup", str(tmp_path / "backups"))
    assert list((tmp_path / "backups").iterdir()) == []


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_a_restore_puts_the_backup_back_and_keeps_what_was_there(reported, tmp_path,
                                                                  settings):
    folder = backup(tmp_path)
    target = tmp_path / "restored" / "sitroom.sqlite3"
    target.parent.mkdir()
    target.write_bytes(b"the database before")
    settings.DOCUMENTS_DIR = tmp_path / "other-documents"
    # Over an existing database only when told, and then it is moved aside, not deleted.
    with pytest.raises(BackupError, match="exists; stop the server and add --force"):
        restore(folder, target)
    aside = restore(folder, target, force=True)
    assert aside.read_bytes() == b"the database before"
    # A second restore straight after keeps the first one's database too.
    second = restore(folder, target, force=True)
    assert second != aside and aside.read_bytes() == b"the database before"
    restored = sqlite3.connect(target)
    assert restored.execute("SELECT title FROM incidents_incident").fetchall() == [
        ("Akimat on fire",)]
    restored.close()
    assert [p.read_bytes() for p in settings.DOCUMENTS_DIR.rglob("*") if p.is_file()] == [
        png(21)]
    # A backup whose database file changed since it was made is refused.
    (folder / "database.sqlite3").write_bytes(b"changed")
    with pytest.raises(BackupError, match="differs from the SHA-256 in the manifest"):
        restore(folder, target, force=True)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["database"] == "sqlite"
    shutil.rmtree(folder)
    with pytest.raises(BackupError, match="not a Sitroom backup"):
        restore(folder, target, force=True)


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_a_postgresql_restore_renames_what_was_there_aside(reported, tmp_path, settings):
    """On PostgreSQL the database there before is renamed aside, never dropped; a failed
    pg_restore leaves everything as it was. Restored here under another name, so that the
    tests' own database stays as it is."""
    import psycopg

    from sitroom.core.backup import restore_postgresql

    folder = backup(tmp_path)
    db = {**connection.settings_dict, "NAME": f"{connection.settings_dict['NAME']}_restored"}
    settings.DOCUMENTS_DIR = tmp_path / "other-documents"
    admin_params = {"dbname": "postgres", "autocommit": True, **{
        k.lower(): db[k] for k in ("HOST", "PORT", "USER", "PASSWORD") if db.get(k)}}

    def databases() -> set[str]:
        with psycopg.connect(**admin_params) as admin:
            return {r[0] for r in admin.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", [db["NAME"] + "%"])}

    def titles(name: str) -> list[str]:
        params = {**admin_params, "dbname": name}
        with psycopg.connect(**params) as c:
            return [r[0] for r in c.execute("SELECT title FROM incidents_incident")]

    try:
        assert restore_postgresql(folder, db) is None  # nothing there: nothing set aside
        assert titles(db["NAME"]) == ["Akimat on fire"]
        assert [p.read_bytes() for p in settings.DOCUMENTS_DIR.rglob("*") if p.is_file()] \
            == [png(21)]
        # Over an existing database only when told; then it is renamed aside.
        with pytest.raises(BackupError, match="exists; stop the server and add --force"):
            restore_postgresql(folder, db)
        aside = restore_postgresql(folder, db, force=True)
        assert databases() == {db["NAME"], aside} and titles(aside) == ["Akimat on fire"]
        # A database in use is not renamed; the message says to stop the server.
        with psycopg.connect(**{**admin_params, "dbname": db["NAME"]}), \
                pytest.raises(BackupError, match="is in use: stop the server"):
            restore_postgresql(folder, db, force=True)
        # A dump pg_restore refuses changes nothing: the new database is dropped and the
        # one before renamed back.
        dump = folder / "database.dump"
        dump.write_bytes(b"PGDMP" + b"\0" * 64)
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["database_sha256"] = hashlib.sha256(dump.read_bytes()).hexdigest()
        (folder / "manifest.json").write_text(json.dumps(manifest))
        with pytest.raises(BackupError, match="pg_restore failed, nothing changed"):
            restore_postgresql(folder, db, force=True)
        assert databases() == {db["NAME"], aside} and titles(db["NAME"]) == ["Akimat on fire"]
        # A SQLite installation is not given a PostgreSQL backup.
        with pytest.raises(BackupError, match="backup of a postgresql database"):
            restore(folder, tmp_path / "sitroom.sqlite3")
    finally:
        with psycopg.connect(**admin_params) as admin:
            for name in databases():
                admin.execute(f'DROP DATABASE "{name}"')


def test_keep_removes_the_oldest_backups_and_nothing_else(reported, tmp_path):
    """A nightly `sitroom backup DIR --keep 2` does not fill the disk: the oldest backups
    go, and nothing in DIR that a backup did not make."""
    parent = tmp_path / "backups"
    made = backup(tmp_path)
    for day in ("04", "05", "06"):
        name = f"sitroom-202201{day}-000000"
        shutil.copytree(made, parent / name)
        m = Manifest.read(parent / name)
        m.created_at = f"2022-01-{day}T00:00:00+00:00"
        m.write(parent / name)
    shutil.rmtree(made)
    (parent / "sitroom-20210101-000000").mkdir()  # no manifest: not a backup's
    (parent / "notes").mkdir()
    (parent / "restore-drill.txt").write_text("done 2022-01-10")
    out = io.StringIO()
    call_command("backup", str(parent), keep=2, stdout=out)
    new = out.getvalue().split("backup written: ")[1].split("\n")[0]
    assert sorted(p.name for p in parent.iterdir()) == sorted([
        new.rsplit("/", 1)[1], "sitroom-20220106-000000", "sitroom-20210101-000000",
        "notes", "restore-drill.txt"])
    removed = [line for line in out.getvalue().splitlines() if line.startswith("removed")]
    assert [line.rsplit("/", 1)[1] for line in removed] == [
        "sitroom-20220105-000000", "sitroom-20220104-000000"]
    with pytest.raises(Exception, match="--keep"):
        call_command("backup", str(parent), keep=0)
    assert len(list(parent.iterdir())) == 5  # refused before anything was written
