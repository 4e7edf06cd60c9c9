"""Backups: the database and the stored documents together, checked as they are made.

`make_backup(parent)` writes ``parent/sitroom-<UTC time>/``:

- ``database.sqlite3``: SQLite's online backup of the live database (a consistent copy
  while the server keeps writing), then `PRAGMA integrity_check` on the copy; or, on
  PostgreSQL, ``database.dump``: `pg_dump --format=custom` (restored with `pg_restore`);
- ``documents/``: every stored document file, copied after the database, so every
  document the copied database names is there (a file is stored before its row is
  written). Files are named by their SHA-256, so each copy is checked against its name;
- ``manifest.json``: when, which database, the journal's last entry and hash in the
  copy, the documents' count and bytes, the SHA-256 of the database file.

`restore(backup, ...)` (SQLite) puts a backup back: the current database file is moved
aside, never deleted; documents are added to the store (a file already there is the same
file); the restored journal is then verified end to end by the caller.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.db import connection

from sitroom import __version__

from . import filestore

MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.dump"


class BackupError(Exception):
    """A backup or restore that cannot be done, saying why; nothing half-made is left."""


@dataclass
class Manifest:
    created_at: str
    sitroom_version: str
    database: str  # "sqlite" or "postgresql"
    database_file: str
    database_sha256: str
    journal_entries: int
    journal_head: str
    documents: int
    document_bytes: int

    def write(self, folder: Path) -> None:
        (folder / MANIFEST).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        try:
            return cls(**json.loads((folder / MANIFEST).read_text()))
        except FileNotFoundError:
            raise BackupError(f"{folder}: no {MANIFEST}; not a Sitroom backup") from None
        except (ValueError, TypeError) as exc:
            raise BackupError(f"{folder / MANIFEST}: unreadable ({exc})") from None


def make_backup(parent: Path) -> tuple[Path, Manifest]:
    """A new backup folder under `parent`; on any failure nothing is left there."""
    stamp = datetime.now(UTC)
    parent.mkdir(parents=True, exist_ok=True)
    final = parent / f"sitroom-{stamp:%Y%m%d-%H%M%S}"
    if final.exists():
        raise BackupError(f"{final} already exists")
    work = Path(tempfile.mkdtemp(dir=parent, prefix=".backup-"))
    try:
        if connection.vendor == "sqlite":
            db_file, entries, head = _sqlite_copy(work / SQLITE_FILE)
        else:
            db_file, entries, head = _pg_dump(work / PG_FILE)
        count, size = copy_documents(filestore.root(), work / "documents")
        manifest = Manifest(
            created_at=stamp.isoformat(), sitroom_version=__version__,
            database=connection.vendor,
            database_file=db_file.name, database_sha256=filestore.file_sha256(db_file),
            journal_entries=entries, journal_head=head, documents=count,
            document_bytes=size)
        manifest.write(work)
        os.replace(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return final, manifest


def _sqlite_copy(target: Path) -> tuple[Path, int, str]:
    connection.ensure_connection()
    copy = sqlite3.connect(target)
    try:
        connection.connection.backup(copy)
        problems = [row[0] for row in copy.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise BackupError("the copied database fails its integrity check: "
                              + "; ".join(problems[:5]))
        entries, head = _journal_head(copy)
    finally:
        copy.close()
    return target, entries, head


def _journal_head(db: sqlite3.Connection) -> tuple[int, str]:
    row = db.execute("SELECT seq, hash FROM core_journalentry ORDER BY seq DESC LIMIT 1"
                     ).fetchone()
    return (row[0], row[1]) if row else (0, "")


def _pg_dump(target: Path) -> tuple[Path, int, str]:
    """pg_dump of the database in one snapshot; the journal head is read in a snapshot
    taken just before, so the dump holds at least that entry."""
    from .journal import chain_head

    tool = shutil.which("pg_dump")
    if tool is None:
        raise BackupError("pg_dump is not installed (Debian: apt install postgresql-client)")
    entries, head = chain_head()
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": str(db.get("PASSWORD") or "")}
    args = [tool, "--format=custom", f"--file={target}", "--no-owner",
            f"--dbname={db['NAME']}"]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            args.append(f"{flag}={db[key]}")
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()[-500:]}")
    return target, entries, head if entries else ""


def copy_documents(source: Path, target: Path) -> tuple[int, int]:
    """Copy every stored file (`filestore.stored`) from one store to another, checking
    each against the digest it is named by; (files, bytes). A file already in the target
    with that name is the same file and is not copied again."""
    count = size = 0
    for digest in filestore.stored(source):
        dest = filestore.path_of(digest, target)
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            partial = dest.with_name(f".copy-{digest}")
            shutil.copyfile(filestore.path_of(digest, source), partial)
            if filestore.file_sha256(partial) != digest:
                partial.unlink()
                raise BackupError(f"stored document {digest} does not match its digest; "
                                  "run: sitroom journal verify --documents")
            os.chmod(partial, 0o444)
            os.replace(partial, dest)
        count += 1
        size += dest.stat().st_size
    return count, size


def restore(backup: Path, database: Path, *, force: bool = False) -> Path | None:
    """Put a SQLite backup in place of `database`; the database there before is moved
    aside (returned), never deleted. The server must be stopped."""
    manifest = Manifest.read(backup)
    if manifest.database != "sqlite":
        raise BackupError(
            f"{backup} holds a PostgreSQL dump: restore it with "
            f"pg_restore --clean --if-exists --no-owner --dbname=<database> "
            f"{backup / manifest.database_file}, then copy {backup / 'documents'} into "
            f"{filestore.root()}")
    source = backup / manifest.database_file
    if not source.is_file() or filestore.file_sha256(source) != manifest.database_sha256:
        raise BackupError(f"{source} is missing or differs from the SHA-256 in the manifest")
    aside = None
    if database.exists():
        if not force:
            raise BackupError(f"{database} exists; stop the server and add --force to move "
                              "it aside and restore over it")
        aside = database.with_name(
            f"{database.name}.before-restore-{datetime.now(UTC):%Y%m%d-%H%M%S}")
        os.replace(database, aside)
        for suffix in ("-wal", "-shm"):
            side = database.with_name(database.name + suffix)
            if side.exists():
                os.replace(side, aside.with_name(aside.name + suffix))
    partial = database.with_name(f".{database.name}.restoring")
    shutil.copyfile(source, partial)
    os.replace(partial, database)
    copy_documents(backup / "documents", filestore.root())
    return aside
