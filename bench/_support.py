"""Helpers shared by the benchmarks: throwaway PostgreSQL databases, free ports, machine facts.

Nothing here imports Django: the benchmarks set SITROOM_* variables before `django.setup()`
(or before starting `sitroom` subprocesses), so the database must exist first.
"""

from __future__ import annotations

import os
import platform
import secrets
import socket
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit


def throwaway_database(url: str) -> tuple[str, Callable[[], None]]:
    """Create an empty database on the server that `url` names; return its URL and a dropper.

    The database in `url` is only used to connect (any existing one works, e.g. `postgres`);
    nothing in it is touched. The new one is called `sitroom_bench_<random>` and is dropped
    by the returned function (WITH (FORCE), so leftover connections do not block it).
    The role in the URL needs the CREATEDB privilege.
    """
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise SystemExit("--database-url: expected a postgres:// URL")
    name = f"sitroom_bench_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    new_url = urlunsplit(parts._replace(path="/" + name))

    def drop() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                         .format(sql.Identifier(name)))

    return new_url, drop


def describe_database(connection) -> str:
    """The database a benchmark runs on, for its header (password redacted)."""
    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}, file {connection.settings_dict['NAME']}"
    with connection.cursor() as c:
        c.execute("SHOW server_version")
        return (f"PostgreSQL {c.fetchone()[0]}, throwaway database "
                f"{redact(os.environ['SITROOM_DATABASE_URL'])}")


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine() -> str:
    return (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f} entries/s" if seconds > 0 else "inf"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1): a value that was actually measured."""
    import math

    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def rss_kib() -> int:
    """This process's resident set size now, in KiB (Linux: /proc/self/status VmRSS)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def maxrss_kib() -> int:
    """ru_maxrss: the peak resident set size of this process, in KiB (Linux)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def reset_peak_rss() -> bool:
    """Reset the peak RSS (ru_maxrss, VmHWM) to the current RSS, so that the next peak
    measures one step only (Linux >= 4.0: write 5 to /proc/self/clear_refs). Returns False
    where that is not possible; ru_maxrss then keeps the peak of everything before."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def code_version(repo: str) -> str:
    """The commit checked out in `repo`, and whether files under it differ from it."""
    import subprocess

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True,
                                  timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--untracked-files=no", "--", "sitroom")
    return commit + (" + uncommitted changes in sitroom/" if changed else "")


def setup_environment(args):
    """Set SITROOM_* before Django starts (a fresh SITROOM_HOME; a throwaway PostgreSQL
    database with --database-url); return a clean-up function."""
    import os
    import shutil
    import tempfile

    home = tempfile.mkdtemp(prefix="sitroom-bench-")
    os.environ["SITROOM_HOME"] = home
    os.environ.setdefault("SITROOM_LOG_LEVEL", "WARNING")
    os.environ.pop("SITROOM_DATABASE_URL", None)
    drop = None
    if args.database_url:
        url, drop = throwaway_database(args.database_url)
        os.environ["SITROOM_DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "sitroom.settings"

    def cleanup():
        from django.db import connections

        connections.close_all()
        if drop is not None:
            drop()
        shutil.rmtree(home, ignore_errors=True)

    return cleanup


def run_benchmark(run, args) -> int:
    """Run `run(args)` in its own environment, cleaning up also on Ctrl-C and SIGTERM."""
    import signal
    import sys

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    cleanup = setup_environment(args)
    try:
        return run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        cleanup()


class Results:
    """One line per target: figure, baseline, ratio, target, PASS/FAIL."""

    def __init__(self):
        self.rows: list[tuple[str, str, str, str, str, bool]] = []

    def add(self, name, figure, baseline, ratio, target, ok):
        self.rows.append((name, figure, baseline, ratio, target, ok))
        print(f"     -> {name}: {figure} | baseline {baseline} | ratio {ratio} | "
              f"target {target}: {'PASS' if ok else 'FAIL'}")

    def table(self) -> str:
        out = ["| measurement | figure | baseline (same run) | ratio | target | result |",
               "| --- | --- | --- | ---: | --- | --- |"]
        out += [f"| {n} | {f} | {b} | {r} | {t} | **{'pass' if ok else 'FAIL'}** |"
                for n, f, b, r, t, ok in self.rows]
        return "\n".join(out)

    @property
    def ok(self) -> bool:
        return all(row[5] for row in self.rows)
