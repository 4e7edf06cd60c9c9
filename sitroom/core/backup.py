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

`restore(backup, ...)` puts a SQLite backup back: the current database file is moved
aside, never deleted. `restore_postgresql(backup, ...)` does the same on PostgreSQL: the
current database is renamed aside (``<name>.before-restore-<UTC time>``), a new one of the
same name is created and `pg_restore` fills it; if that fails, the new one is dropped and
the old one renamed back. Both add the documents to the store (a file already there is the
same file); the restored journal is then verified end to end by the caller.
"""

from __future__ import annotations

import json
import os
import re
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


BACKUP_NAME = re.compile(r"sitroom-\d{8}-\d{6}")


def prune(parent: Path, keep: int) -> list[Path]:
    """Remove the oldest backups under `parent` beyond the newest `keep` (by their
    manifest's time), and say which. Only folders a backup made are counted: named
    ``sitroom-<UTC time>`` with a readable manifest; anything else there is left alone."""
    if keep < 1:
        raise BackupError(f"keep must be at least 1, not {keep}")
    made = []
    for folder in parent.iterdir():
        if folder.is_dir() and BACKUP_NAME.fullmatch(folder.name):
            try:
                made.append((Manifest.read(folder).created_at, folder.name, folder))
            except BackupError:
                continue
    made.sort(reverse=True)
    removed = [folder for _when, _name, folder in made[keep:]]
    for folder in removed:
        shutil.rmtree(folder)
    return removed


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


def _pg_args(tool: str, db: dict) -> tuple[list[str], dict[str, str]]:
    """A PostgreSQL client tool's command line (host, port, user) and environment
    (password) for the database settings `db`."""
    args = [tool]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            args.append(f"{flag}={db[key]}")
    return args, {**os.environ, "PGPASSWORD": str(db.get("PASSWORD") or "")}


def _pg_tool(name: str) -> str:
    tool = shutil.which(name)
    if tool is None:
        raise BackupError(f"{name} is not installed (Debian: apt install postgresql-client)")
    return tool


def _pg_dump(target: Path) -> tuple[Path, int, str]:
    """pg_dump of the database in one snapshot; the journal head is read in a snapshot
    taken just before, so the dump holds at least that entry."""
    from .journal import chain_head

    tool = _pg_tool("pg_dump")
    entries, head = chain_head()
    db = connection.settings_dict
    args, env = _pg_args(tool, db)
    args += ["--format=custom", f"--file={target}", "--no-owner", f"--dbname={db['NAME']}"]
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


def _checked_source(backup: Path, vendor: str) -> Path:
    """The backup's database file, if the backup is of `vendor` and the file is the one
    its manifest names (by SHA-256)."""
    manifest = Manifest.read(backup)
    if manifest.database != vendor:
        raise BackupError(f"{backup} is a backup of a {manifest.database} database; this "
                          f"installation runs on {vendor}")
    source = backup / manifest.database_file
    if not source.is_file() or filestore.file_sha256(source) != manifest.database_sha256:
        raise BackupError(f"{source} is missing or differs from the SHA-256 in the manifest")
    return source


def _aside_name(name: str, taken, longest: int = 255) -> str:
    """A name to keep the database `name` under, one that `taken(name)` says is free: two
    restores within a second must not put the second aside over the first."""
    base = f"{name}.before-restore-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    for n in range(1, 1000):
        candidate = (base if n == 1 else f"{base}-{n}")[-longest:]
        if not taken(candidate):
            return candidate
    raise BackupError(f"too many databases set aside as {base}")


def restore(backup: Path, database: Path, *, force: bool = False) -> Path | None:
    """Put a SQLite backup in place of `database`; the database there before is moved
    aside (returned), never deleted. The server must be stopped."""
    source = _checked_source(backup, "sqlite")
    aside = None
    if database.exists():
        if not force:
            raise BackupError(f"{database} exists; stop the server and add --force to move "
                              "it aside and restore over it")
        aside = database.with_name(_aside_name(
            database.name, lambda n: database.with_name(n).exists()))
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


def restore_postgresql(backup: Path, db: dict, *, force: bool = False) -> str | None:
    """Put a PostgreSQL backup in place of the database of the settings `db`; the
    database there before is renamed aside (its new name returned), never dropped. The
    server must be stopped: PostgreSQL renames no database others are connected to."""
    import psycopg
    from psycopg import sql

    source = _checked_source(backup, "postgresql")
    tool = _pg_tool("pg_restore")
    name = db["NAME"]
    params = {"dbname": "postgres", "host": db.get("HOST") or None,
              "port": db.get("PORT") or None, "user": db.get("USER") or None,
              "password": db.get("PASSWORD") or None}
    try:
        admin = psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True)
    except psycopg.Error as exc:
        raise BackupError(f"cannot reach the PostgreSQL server: {exc}") from None

    def run(statement, *names) -> None:
        admin.execute(sql.SQL(statement).format(*map(sql.Identifier, names)))

    with admin:
        aside = None
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            if not force:
                raise BackupError(f"database {name} exists; stop the server and add --force "
                                  "to rename it aside and restore in its place")
            aside = _aside_name(name, lambda n: admin.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [n]).fetchone(),
                longest=63)  # PostgreSQL's longest name
            try:
                run("ALTER DATABASE {} RENAME TO {}", name, aside)
            except psycopg.errors.ObjectInUse:
                raise BackupError(f"database {name} is in use: stop the server (and any "
                                  "other session on it) first") from None
        created = False
        try:
            run("CREATE DATABASE {}", name)
            created = True
            args, env = _pg_args(tool, db)
            args += ["--no-owner", "--exit-on-error", f"--dbname={name}", str(source)]
            done = subprocess.run(args, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise BackupError(f"pg_restore failed, nothing changed: "
                                  f"{done.stderr.strip()[-500:]}")
        except BaseException as exc:  # put back what was there, whatever went wrong
            if created:
                run("DROP DATABASE {}", name)
            if aside is not None:
                run("ALTER DATABASE {} RENAME TO {}", aside, name)
            if isinstance(exc, psycopg.Error):
                raise BackupError(f"the restore failed, nothing changed: {exc}") from None
            raise
    copy_documents(backup / "documents", filestore.root())
    return aside
