"""Lifelines at scale (issue 4): the board as of a moment, and batch ingest, on N reports.

    .venv/bin/python bench/lifelines_scale.py [--reports 5000000] [--cells 10000]
        [--reps 30] [--batch-items 10000] [--batch-reps 5] [--seed 1]
        [--database-url postgres://user@127.0.0.1:5432/postgres] [--profile]

Set-up, on a fresh database made by this script (NOT timed):
- `migrate`, then `sitroom.core.demo.load_demo()`: the demo's 36 areas, the lifeline
  components (24) and the demo's few status reports (January 2022).
- extra areas of level "district" (codes BENCH-0001, ...), saved one by one through
  `sitroom.core.services.save_area` (system actor), spread round-robin over every city and
  region of the demo (Almaty included), until areas x components >= --cells. A cell is
  one (area, component); every cell gets reports.
- --reports status reports inserted RAW (executemany INSERT into lifelines_statusreport,
  50,000 rows per transaction; no service, no journal): a random cell each, occurred_at
  spread evenly over the 30 days before the set-up, whole seconds, inserted in time order;
  recorded_at = occurred_at except for 3 %, recorded 10 min to 12 h later (so that as-of
  has reports to skip). Status green/yellow/red/grey 60/25/10/5 %, percent/count NULL.
  The table's non-unique indexes are dropped before the load and re-created from their own
  definitions after it (a bulk load's usual order; the indexes end up as the migration
  made them, only packed tighter than ones grown row by row).
- lifelines_currentstatus filled with each cell's newest report (one INSERT ... SELECT),
  then ANALYZE (VACUUM ANALYZE on PostgreSQL).
- a director who sees everything (`create_user`) and an API token (`create_token`).

Measurements; each figure next to a baseline measured in the same run. Repetitions
alternate which of the two goes first; one untimed warm-up request of each kind comes
before. p50/p95 are nearest-rank.
1. board: GET /api/v1/lifelines/board?area=<KZ-ALA or KZ>&as_of=<moment> through Django's
   test Client with a Bearer token, --reps times per area, moments drawn at random (whole
   seconds, +06:00) from the window's last 29 days. Baseline: the bare SQL query that gets
   the newest report (every column) as of that moment of every cell of the area's subtree
   (the cells the board reads). Checked: every cell the API shows has the report the
   baseline found. Also the board "now" (no as_of), --reps times per area; its baseline
   is the bare SQL join of lifelines_currentstatus with the reports for the same cells.
   Target: p95 < 150 ms.
2. batch: POST /api/v1/lifelines/status/batch with --batch-items items (distinct cells as
   long as there are enough; each with a key, occurred_at in the last 10 minutes),
   --batch-reps times with fresh keys. Baseline: raw executemany INSERT of the same rows
   into lifelines_statusreport in one transaction (values converted beforehand). The
   figure is the whole request, JSON parsing and response included; the JSON body is
   encoded before the clock starts. Target: every repetition < 2 s.
When a target is missed (or with --profile), one more request of that kind runs under
cProfile (top 10 by own time, and the sitroom functions by cumulative time) and under a
query counter (number of queries, time in the database, the most frequent statements).

Exit status 0 when every target is met, 1 otherwise.

Database: SQLite in a new temporary SITROOM_HOME (default), or with --database-url a new
throwaway database on that PostgreSQL server (dropped at the end, also on error or SIGTERM).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import math
import os
import pstats
import random
import re
import secrets
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import (  # noqa: E402
    Results,
    describe_database,
    machine,
    percentile,
    run_benchmark,
)

REPO = Path(__file__).resolve().parent.parent
BOARD_P95 = 0.150
BATCH_MAX_SECONDS = 2.0

WINDOW = timedelta(days=30)
INSERT_BATCH = 50_000
LATE_SHARE = 0.03
STATUS_WEIGHT = {"green": 60, "yellow": 25, "red": 10, "grey": 5}
ALMATY, COUNTRY = "KZ-ALA", "KZ"
LOCAL = timezone(timedelta(hours=6))  # as_of is sent with Almaty's offset
BOARD = "/api/v1/lifelines/board"
BATCH = "/api/v1/lifelines/status/batch"

# The set-up INSERT: every column of lifelines_statusreport but the id.
SETUP_COLUMNS = (
    "area_id", "area_path", "component_id", "status", "percent_operating", "count_operating",
    "count_total", "trend", "note", "source", "estimate", "occurred_at", "recorded_at",
    "actor_label", "external_id", "journal_seq")
SETUP_VALUES = "%s, %s, %s, %s, NULL, NULL, NULL, '', '', '', FALSE, %s, %s, %s, NULL, NULL"
# The baseline INSERT of the batch: the columns the service writes, but the id.
BATCH_COLUMNS = (
    "area_id", "area_path", "component_id", "status", "percent_operating", "count_operating",
    "count_total", "trend", "note", "source", "estimate", "occurred_at", "recorded_at",
    "actor_label", "external_id", "journal_seq")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reports", type=int, default=5_000_000,
                   help="status reports generated for the set-up (default 5000000)")
    p.add_argument("--cells", type=int, default=10_000,
                   help="at least this many area-component cells (default 10000)")
    p.add_argument("--reps", type=int, default=30,
                   help="repetitions of each board measurement (default 30)")
    p.add_argument("--batch-items", type=int, default=10_000,
                   help="items per batch request (default 10000, the API's maximum)")
    p.add_argument("--batch-reps", type=int, default=5,
                   help="batch requests measured (default 5)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--database-url", help="postgres://... (a throwaway database is created "
                                          "on that server); SQLite in a temp dir if omitted")
    p.add_argument("--profile", action="store_true",
                   help="profile one request of each kind even when its target is met")
    args = p.parse_args(argv)
    if min(args.reports, args.cells, args.reps, args.batch_items, args.batch_reps) < 1:
        p.error("--reports, --cells, --reps, --batch-items and --batch-reps must be positive")
    return args


def main(argv=None) -> int:
    return run_benchmark(run, parse_args(argv))


# --- Small helpers --------------------------------------------------------------------

def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f}"


def code_version() -> str:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True,
                                  text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            return ""

    commit = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    changed = [line for line in git("status", "--porcelain", "--untracked-files=all", "--",
                                    "sitroom").splitlines() if line.strip()]
    if changed:
        names = ", ".join(line[3:] for line in changed[:4]) + (", ..." if len(changed) > 4
                                                               else "")
        return f"{commit} + {len(changed)} uncommitted file(s) under sitroom/ ({names})"
    return commit


def alternate(i: int, first, second):
    """Run both; on odd repetitions the second goes first (neither always warms the cache
    for the other)."""
    if i % 2:
        b = second()
        a = first()
    else:
        a = first()
        b = second()
    return a, b


# --- The run --------------------------------------------------------------------------

def run(args) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client

    from sitroom.accounts.services import create_token, create_user
    from sitroom.core.actors import Actor
    from sitroom.core.demo import load_demo

    started = time.perf_counter()
    vendor = connection.vendor
    where = describe_database(connection)
    print(f"lifelines at scale benchmark: {args.reports:,} generated status reports, "
          f">= {args.cells:,} cells, {args.reps} repetitions per board measurement, "
          f"{args.batch_reps} batches of {args.batch_items:,} items")
    print(f"  database: {where}")
    print(f"  machine:  {machine()}; {load()} at the start")
    print(f"  code:     commit {code_version()}")
    print()

    # --- set-up (not timed) -----------------------------------------------------------
    print("set-up (NOT timed, not part of any measurement):")
    t0 = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    demo = load_demo()
    system = Actor.system_actor("bench")
    missing = ", ".join(demo.boundaries_missing)
    print(f"  migrate + load_demo: {time.perf_counter() - t0:.1f} s ({demo.areas_created} "
          f"areas, {len(demo.boundaries)} boundary file(s) read"
          f"{'; MISSING: ' + missing if missing else ''})")
    t0 = time.perf_counter()
    added, n_areas, n_comps = add_areas(system, args.cells)
    cells = n_areas * n_comps
    print(f"  {added} districts BENCH-xxxx added through save_area: "
          f"{time.perf_counter() - t0:.1f} s; {n_areas} areas x {n_comps} components = "
          f"{cells:,} cells")
    rng = random.Random(args.seed)
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=15)
    start = end - WINDOW
    t0 = time.perf_counter()
    dropped = drop_indexes(connection)
    populate(connection, args.reports, start, end, rng)
    t_insert = time.perf_counter() - t0
    t0 = time.perf_counter()
    recreate_indexes(connection, dropped)
    print(f"  {args.reports:,} reports inserted RAW (executemany, {INSERT_BATCH:,} per "
          f"transaction; no service, no journal): {t_insert:.1f} s; their window "
          f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC")
    print(f"  indexes {', '.join(name for name, _sql in dropped)} dropped before the load "
          f"and re-created after it: {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    current = fill_current(connection)
    print(f"  lifelines_currentstatus filled with each cell's newest report "
          f"({current:,} cells): {time.perf_counter() - t0:.1f} s")
    from sitroom.lifelines.services import keeps_periods, rebuild_periods

    if keeps_periods():
        t0 = time.perf_counter()
        dropped = drop_indexes(connection, "lifelines_knownperiod")
        with transaction.atomic():
            periods = rebuild_periods()
        recreate_indexes(connection, dropped)
        print(f"  known periods computed from the reports (services.rebuild_periods, as the "
              f"migration does; indexes {', '.join(n for n, _s in dropped)} built after): "
              f"{periods:,}: {time.perf_counter() - t0:.1f} s")
    else:
        print("  no known periods: this database keeps none (services.keeps_periods)")
    t0 = time.perf_counter()
    with connection.cursor() as c:
        c.execute("ANALYZE" if vendor == "sqlite" else "VACUUM ANALYZE")
    print(f"  {'ANALYZE' if vendor == 'sqlite' else 'VACUUM ANALYZE'}: "
          f"{time.perf_counter() - t0:.1f} s")
    director = create_user("bench-director", role="director", all_areas=True,
                           password=secrets.token_urlsafe(24), check_password=False,
                           actor=system, source="cli")
    _token, secret = create_token(director, "bench", actor=system, source="cli")
    with connection.cursor() as c:
        c.execute("SELECT COUNT(*) FROM lifelines_statusreport")
        total = c.fetchone()[0]
    print(f"  reports in the table: {total:,}; director + API token created")
    if vendor == "sqlite":
        size = os.path.getsize(connection.settings_dict["NAME"])
        print(f"  database file: {size / 2**20:,.0f} MiB")
    print(f"  set-up done after {time.perf_counter() - started:.0f} s; {load()}")
    print()

    client = Client(headers={"host": "127.0.0.1", "authorization": f"Bearer {secret}"})
    ref = Reference(connection)
    explain(connection, ref, end)
    results = Results()
    missed: list[str] = []

    for code in (ALMATY, COUNTRY):
        if not measure_board(client, connection, ref, rng, code, start, end, args.reps,
                             results, as_of=True):
            missed.append(f"as_of:{code}")
    for code in (ALMATY, COUNTRY):
        if not measure_board(client, connection, ref, rng, code, start, end, args.reps,
                             results, as_of=False):
            missed.append(f"now:{code}")
    batch_ok = measure_batch(client, connection, ref, rng, args, director, results)

    if args.profile or missed or not batch_ok:
        print()
        print("profiles (one more request of each kind that missed its target, or all with "
              "--profile):")
        kinds = ([f"{k}:{c}" for k in ("as_of", "now") for c in (ALMATY, COUNTRY)]
                 if args.profile else missed)
        for kind in kinds:
            which, code = kind.split(":")
            moment = random_moment(rng, start, end) if which == "as_of" else None
            params = {"area": code, **({"as_of": moment.isoformat()} if moment else {})}
            profile_request(connection, f"GET {BOARD} area={code}"
                            + (f" as_of={moment.isoformat()}" if moment else " (now)"),
                            lambda params=params: client.get(BOARD, params))
        if args.profile or not batch_ok:
            # two fresh bodies: one for the query counter, one for cProfile (a body sent
            # again would only be replayed by its keys)
            bodies = [json.dumps({"items": batch_items(ref, rng, args.batch_items, f"prof{j}")})
                      for j in range(2)]
            profile_request(connection, f"POST {BATCH} ({args.batch_items:,} new items)",
                            lambda: client.post(BATCH, bodies.pop(),
                                                content_type="application/json"),
                            status=201)

    print()
    print(f"summary ({where.split(',')[0]}, {total:,} reports, {cells:,} cells; "
          f"run took {time.perf_counter() - started:.0f} s; {load()} at the end):")
    print(results.table())
    print()
    print("note: the set-up (areas, raw report rows, current status, ANALYZE) was not timed; "
          "every figure above was measured against its baseline in the same run.")
    return 0 if results.ok else 1


# --- Set-up ---------------------------------------------------------------------------

def add_areas(actor, cells: int) -> tuple[int, int, int]:
    """Districts through save_area until areas x active components >= cells."""
    from django.db import transaction

    from sitroom.core.models import Area
    from sitroom.core.services import save_area
    from sitroom.lifelines.models import Component

    comps = Component.objects.filter(active=True).count()
    if comps == 0:
        raise SystemExit("no lifeline components: load_demo() did not load them")
    have = Area.objects.count()
    want = max(0, math.ceil(cells / comps) - have)
    parents = list(Area.objects.filter(level__in=["city", "region"])
                   .order_by("path").values_list("code", "lat", "lon"))
    with transaction.atomic():
        for i in range(want):
            code, lat, lon = parents[i % len(parents)]
            n = i + 1
            save_area({"code": f"BENCH-{n:04d}", "level": "district", "parent": code,
                       "name": {"en": f"Bench district {n}", "ru": f"Район {n}",
                                "kk": f"{n} аудан"},
                       "lat": lat + ((n * 37) % 21 - 10) / 200,
                       "lon": lon + ((n * 53) % 21 - 10) / 200,
                       "source": "bench", "estimate": True},
                      actor=actor, source="import")
    return want, Area.objects.count(), comps


def drop_indexes(connection, table: str = "lifelines_statusreport") -> list[tuple[str, str]]:
    """Drop the non-unique indexes of a table; return (name, CREATE sql)."""
    with connection.cursor() as c:
        if connection.vendor == "sqlite":
            c.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                      "AND tbl_name = %s AND sql IS NOT NULL", [table])
        else:
            c.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s",
                      [table])
        found = [(name, sql) for name, sql in c.fetchall()
                 if not sql.upper().startswith("CREATE UNIQUE")]
        for name, _sql in found:
            c.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    return found


def recreate_indexes(connection, dropped: list[tuple[str, str]]) -> None:
    with connection.cursor() as c:
        for _name, sql in dropped:
            c.execute(sql)


def populate(connection, n: int, start: datetime, end: datetime, rng: random.Random) -> None:
    """Insert n generated reports with a raw executemany INSERT (set-up only)."""
    from django.db import transaction

    from sitroom.core.models import Area
    from sitroom.lifelines.models import Component, StatusReport

    columns = {f.column for f in StatusReport._meta.concrete_fields} - {"id"}
    if columns != set(SETUP_COLUMNS):
        raise SystemExit(f"lifelines_statusreport has changed: columns {sorted(columns)}; "
                         "update SETUP_COLUMNS")
    areas = list(Area.objects.values_list("id", "path"))
    comps = list(Component.objects.filter(active=True).values_list("id", flat=True))
    cells = [(a, p, c) for a, p in areas for c in comps]
    statuses = [s for s, w in STATUS_WEIGHT.items() for _ in range(w)]
    sql = (f"INSERT INTO {StatusReport._meta.db_table} ({', '.join(SETUP_COLUMNS)}) "
           f"VALUES ({SETUP_VALUES})")
    pg = connection.vendor == "postgresql"
    span = int((end - start).total_seconds())
    last = start + timedelta(seconds=span)

    def stamp(when: datetime):  # as Django stores it on SQLite: naive UTC text
        return when if pg else when.replace(tzinfo=None).isoformat(" ")

    rand, randrange, ncells, nstat = rng.random, rng.randrange, len(cells), len(statuses)
    done = 0
    while done < n:
        k = min(INSERT_BATCH, n - done)
        rows = []
        for i in range(done, done + k):
            area_id, path, comp_id = cells[randrange(ncells)]
            occurred = start + timedelta(seconds=(i * span) // n)
            recorded = occurred
            if rand() < LATE_SHARE:
                recorded = min(last, occurred + timedelta(seconds=randrange(600, 43_200)))
            rows.append((area_id, path, comp_id, statuses[randrange(nstat)], stamp(occurred),
                         stamp(recorded), "bench import"))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows)
        done += k
        if done % 1_000_000 == 0 and done < n:
            print(f"    … {done:,}", flush=True)


def fill_current(connection) -> int:
    """Each cell's newest report, by the rule the services keep (occurred_at, then id)."""
    from django.db import transaction

    sql = (
        "INSERT INTO lifelines_currentstatus (area_id, component_id, report_id, occurred_at,"
        " status) SELECT t.area_id, t.component_id, r.id, r.occurred_at, r.status FROM ("
        " SELECT a.id AS area_id, c.id AS component_id,"
        "  (SELECT r2.id FROM lifelines_statusreport r2 WHERE r2.area_id = a.id"
        "   AND r2.component_id = c.id ORDER BY r2.occurred_at DESC, r2.id DESC LIMIT 1)"
        "  AS report_id"
        " FROM core_area a CROSS JOIN lifelines_component c) t"
        " JOIN lifelines_statusreport r ON r.id = t.report_id")
    with transaction.atomic(), connection.cursor() as c:
        c.execute("DELETE FROM lifelines_currentstatus")
        c.execute(sql)
        c.execute("SELECT COUNT(*) FROM lifelines_currentstatus")
        return c.fetchone()[0]


class Reference:
    """Codes and ids the parameters are drawn from (read once, outside any timing)."""

    def __init__(self, connection):
        from sitroom.core.models import Area
        from sitroom.lifelines.models import Component

        self.connection = connection
        self.areas = list(Area.objects.values_list("code", "path", "id"))
        self.path = {code: path for code, path, _id in self.areas}
        self.comps = list(Component.objects.filter(active=True).values_list("code", "id"))
        self.cells = [(a, c) for a in self.areas for c in self.comps]
        self.subtree_cells = {
            code: sum(1 for _c, p, _i in self.areas if p.startswith(path)) * len(self.comps)
            for code, path in self.path.items() if code in (ALMATY, COUNTRY)}
        self.rows = {code: 1 + sum(1 for _c, p, _i in self.areas
                                   if p.startswith(path) and p.count("/") == path.count("/")
                                   + 1)
                     for code, path in self.path.items() if code in (ALMATY, COUNTRY)}

    def db_time(self, moment: datetime):
        """A moment as the database backend takes it (naive UTC text on SQLite)."""
        return self.connection.ops.adapt_datetimefield_value(moment)


def random_moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A whole second in the window's last 29 days (the first day has few reports)."""
    first = start + timedelta(days=1)
    seconds = int((end - first).total_seconds())
    return (first + timedelta(seconds=rng.randrange(seconds))).astimezone(LOCAL)


# --- The bare SQL the baselines run ---------------------------------------------------

REPORT_COLUMNS = ("r.id, r.area_id, r.area_path, r.component_id, r.status, "
                  "r.percent_operating, r.count_operating, r.count_total, r.trend, r.note, "
                  "r.source, r.estimate, r.occurred_at, r.recorded_at, r.actor_label, "
                  "r.external_id, r.journal_seq")
CELL_NEWEST_AS_OF = (
    "SELECT r2.id FROM lifelines_statusreport r2 WHERE r2.area_id = a.id "
    "AND r2.component_id = c.id AND r2.occurred_at <= %s AND r2.recorded_at <= %s "
    "ORDER BY r2.occurred_at DESC, r2.id DESC LIMIT 1")
AS_OF_SQL = (
    f"SELECT a.code, c.code, {REPORT_COLUMNS} FROM core_area a "
    "CROSS JOIN lifelines_component c "
    f"JOIN lifelines_statusreport r ON r.id = ({CELL_NEWEST_AS_OF}) "
    "WHERE a.path LIKE %s AND c.active")
NOW_SQL = (
    f"SELECT a.code, c.code, {REPORT_COLUMNS} FROM lifelines_currentstatus cs "
    "JOIN core_area a ON a.id = cs.area_id "
    "JOIN lifelines_component c ON c.id = cs.component_id "
    "JOIN lifelines_statusreport r ON r.id = cs.report_id "
    "WHERE a.path LIKE %s AND c.active")


def explain(connection, ref: Reference, end: datetime) -> None:
    """Print how the database runs one cell's as-of lookup (what the board does per cell)."""
    (_code, _path, area_id), (_c, comp_id) = ref.cells[len(ref.cells) // 2]
    moment = ref.db_time(end - timedelta(days=3))
    sql = ("SELECT r.id FROM lifelines_statusreport r WHERE r.area_id = %s "
           "AND r.component_id = %s AND r.occurred_at <= %s AND r.recorded_at <= %s "
           "ORDER BY r.occurred_at DESC, r.id DESC LIMIT 1")
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as c:
        c.execute(prefix + sql, [area_id, comp_id, moment, moment])
        plan = [" ".join(str(x) for x in row[-1:]) for row in c.fetchall()]
    print("plan of one cell's as-of lookup (queries.latest_states runs one per cell):")
    for line in plan:
        print(f"    {line}")
    print()


def timed_sql(connection, sql: str, params) -> tuple[float, list]:
    connection.ensure_connection()  # never time a (re)connection
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return time.perf_counter() - t0, rows


def timed_get(client, path: str, params: dict) -> tuple[float, object]:
    t0 = time.perf_counter()
    response = client.get(path, params)
    elapsed = time.perf_counter() - t0
    if response.status_code != 200:
        raise SystemExit(f"GET {path} {params}: HTTP {response.status_code} "
                         f"{response.content[:500]!r}")
    return elapsed, response


# --- 1. The board ---------------------------------------------------------------------

def measure_board(client, connection, ref: Reference, rng, code: str, start, end, reps: int,
                  results: Results, *, as_of: bool) -> bool:
    what = "as of a moment" if as_of else "now"
    print(f"1. board {what}, area {code} ({ref.rows[code]} rows shown, "
          f"{ref.subtree_cells[code]:,} cells read): GET {BOARD} vs bare SQL; {load()}")
    like = ref.path[code] + "%"

    def params_for(moment):
        return {"area": code, **({"as_of": moment.isoformat()} if moment else {})}

    def sql_for(moment):
        if moment is None:
            return NOW_SQL, [like]
        db = ref.db_time(moment)
        return AS_OF_SQL, [db, db, like]

    warm = random_moment(rng, start, end) if as_of else None
    timed_get(client, BOARD, params_for(warm))  # warm-up, not counted
    timed_sql(connection, *sql_for(warm))
    api_t, sql_t, checked = [], [], 0
    for i in range(reps):
        moment = random_moment(rng, start, end) if as_of else None
        (ta, response), (ts, rows) = alternate(
            i, lambda m=moment: timed_get(client, BOARD, params_for(m)),
            lambda m=moment: timed_sql(connection, *sql_for(m)))
        api_t.append(ta)
        sql_t.append(ts)
        checked += check_board(response.json(), rows, moment)
    p95a, p95s = percentile(api_t, 0.95), percentile(sql_t, 0.95)
    print(f"   API {BOARD}:  p50 {ms(percentile(api_t, 0.5))} / p95 {ms(p95a)} / "
          f"max {ms(max(api_t))}")
    print(f"   baseline SQL: p50 {ms(percentile(sql_t, 0.5))} / p95 {ms(p95s)} / "
          f"max {ms(max(sql_t))}  ({len(rows):,} reports in the last result)")
    print(f"   checked: {checked:,} cells shown by the API had the baseline's report")
    ok = p95a < BOARD_P95
    label = f"board {what}, {'Almaty' if code == ALMATY else 'country'} ({code})"
    results.add(label, f"p50 {ms(percentile(api_t, 0.5))} / p95 {ms(p95a)}",
                f"p50 {ms(percentile(sql_t, 0.5))} / p95 {ms(p95s)}",
                f"{p95a / p95s:,.1f}×" if p95s else "—", "p95 < 150 ms", ok)
    gc.collect()
    return ok


def check_board(data: dict, rows: list, moment) -> int:
    """Every cell's own report in the API's answer is the one the bare SQL found."""
    found = {(row[0], row[1]): row[2] for row in rows}
    n = 0
    for row in data["rows"]:
        for cell in row["cells"]:
            got = cell["report"]["id"] if cell["report"] else None
            want = found.get((row["area"], cell["component"]))
            if got != want:
                raise SystemExit(f"board as_of={moment}: cell {row['area']}/{cell['component']}"
                                 f" shows report {got}, the bare SQL found {want}")
            n += 1
    return n


# --- 2. Batch ingest ------------------------------------------------------------------

def batch_items(ref: Reference, rng, n: int, tag: str, when: datetime | None = None
                ) -> list[dict]:
    """n items on distinct cells (while there are enough), each with a key, occurred_at
    in the minute after `when` (default: the minute before now)."""
    cells = rng.sample(ref.cells, n) if n <= len(ref.cells) else \
        [ref.cells[i % len(ref.cells)] for i in range(n)]
    when = when or datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    statuses = [s for s, w in STATUS_WEIGHT.items() for _ in range(w)]
    items = []
    for i, ((area, _path, _aid), (comp, _cid)) in enumerate(cells):
        status = rng.choice(statuses)
        item = {"area": area, "component": comp, "status": status,
                "occurred_at": (when + timedelta(seconds=rng.randrange(60))).isoformat(),
                "key": f"bench-{tag}-{i}"}
        if status == "yellow":
            item["percent_operating"] = rng.randrange(10, 90)
            item["trend"] = rng.choice(["improving", "stable", "worsening"])
        items.append(item)
    return items


def raw_rows(connection, ref: Reference, items: list[dict], actor_label: str) -> list[tuple]:
    """The rows the service would write for these items, converted for the backend."""
    from sitroom.core import bulk
    from sitroom.lifelines.models import StatusReport

    convert = bulk.converter(StatusReport._meta.get_field("occurred_at"))
    area = {code: (aid, path) for code, path, aid in ref.areas}
    comp = dict(ref.comps)
    now = datetime.now(UTC)
    rows = []
    for item in items:
        aid, path = area[item["area"]]
        rows.append((aid, path, comp[item["component"]], item["status"],
                     item.get("percent_operating"), None, None, item.get("trend", ""), "", "",
                     False, convert(datetime.fromisoformat(item["occurred_at"])), convert(now),
                     actor_label, f"raw:{item['key']}", None))
    return rows


def measure_batch(client, connection, ref: Reference, rng, args, director,
                  results: Results) -> bool:
    from django.db import transaction

    n = args.batch_items
    distinct = min(n, len(ref.cells))
    print(f"2. batch ingest: POST {BATCH} with {n:,} items ({distinct:,} distinct cells) vs "
          f"raw executemany INSERT of the same rows; {load()}")
    sql = (f"INSERT INTO lifelines_statusreport ({', '.join(BATCH_COLUMNS)}) "
           f"VALUES ({', '.join(['%s'] * len(BATCH_COLUMNS))})")
    label = f"{director.get_username()} (bench)"
    # warm-up, not counted: a small batch through the API
    warm = client.post(BATCH, json.dumps({"items": batch_items(ref, rng, 10, "warm")}),
                       content_type="application/json")
    if warm.status_code != 201:
        raise SystemExit(f"warm-up batch: HTTP {warm.status_code} {warm.content[:500]!r}")
    api_t, raw_t, sizes = [], [], []
    # Each repetition's items are a minute newer than the last one's, so each batch moves
    # the kept current status of every cell it names.
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=args.batch_reps + 1)
    for i in range(args.batch_reps):
        items = batch_items(ref, rng, n, f"r{i}", base + timedelta(minutes=i))
        body = json.dumps({"items": items})
        rows = raw_rows(connection, ref, items, label)
        sizes.append(len(body))
        gc.collect()

        def api(body=body):
            t0 = time.perf_counter()
            response = client.post(BATCH, body, content_type="application/json")
            elapsed = time.perf_counter() - t0
            if response.status_code != 201 or response.json()["stored"] != n:
                raise SystemExit(f"batch: HTTP {response.status_code} "
                                 f"{response.content[:500]!r}")
            return elapsed

        def raw(rows=rows):
            connection.ensure_connection()
            t0 = time.perf_counter()
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(sql, rows)
            return time.perf_counter() - t0

        ta, tr = alternate(i, api, raw)
        api_t.append(ta)
        raw_t.append(tr)
        print(f"   rep {i + 1}: API {ta:.3f} s, raw {tr:.3f} s")
    with connection.cursor() as c:  # the kept current status moved to the new reports
        c.execute("SELECT COUNT(*) FROM lifelines_currentstatus cs "
                  "JOIN lifelines_statusreport r ON r.id = cs.report_id "
                  "WHERE r.external_id LIKE %s", [f"api:{director.pk}:bench-r{i}-%"])
        moved = c.fetchone()[0]
    key_lookup_plan(connection, [f"api:{director.pk}:{item['key']}" for item in items])
    print(f"   JSON body {max(sizes) / 2**20:.2f} MiB; after the last batch {moved:,} of its "
          f"{distinct:,} cells point at its reports in lifelines_currentstatus")
    worst, worst_raw = max(api_t), max(raw_t)
    print(f"   API:  median {median(api_t):.3f} s / worst {worst:.3f} s "
          f"= {n / median(api_t):,.0f} items/s at the median")
    print(f"   raw:  median {median(raw_t):.3f} s / worst {worst_raw:.3f} s")
    ok = worst < BATCH_MAX_SECONDS
    results.add(f"batch of {n:,} items (worst of {args.batch_reps})",
                f"median {median(api_t):.2f} s / worst {worst:.2f} s",
                f"median {median(raw_t):.3f} s / worst {worst_raw:.3f} s",
                f"{median(api_t) / median(raw_t):,.1f}× (medians)",
                "< 2 s", ok)
    return ok


def key_lookup_plan(connection, keys: list[str]) -> None:
    """How the database runs report_statuses' look-up of the batch's keys (the queryset
    the service builds, default ordering included)."""
    from sitroom.lifelines.models import StatusReport

    sql, params = StatusReport.objects.filter(external_id__in=keys).query.sql_with_params()
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as c:
        c.execute(prefix + sql, params)
        plan = [str(row[-1]) for row in c.fetchall()]
    print(f"   plan of the service's look-up of the {len(keys):,} keys "
          "(StatusReport.objects.filter(external_id__in=keys)):")
    for line in plan:
        print(f"     {line[:140]}{'…' if len(line) > 140 else ''}")


def median(values: list[float]) -> float:
    return percentile(values, 0.5)


# --- Profiles -------------------------------------------------------------------------

def profile_request(connection, title: str, call, status: int = 200) -> None:
    """One request under a query counter, then one under cProfile."""
    queries: list[tuple[str, float]] = []

    def counter(execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append((sql, time.perf_counter() - t0))

    t0 = time.perf_counter()
    with connection.execute_wrapper(counter):
        response = call()
    wall = time.perf_counter() - t0
    if response.status_code != status:
        raise SystemExit(f"{title}: HTTP {response.status_code} {response.content[:300]!r}")
    in_db = sum(t for _s, t in queries)
    print(f"\n--- {title} ---")
    print(f"  {wall * 1000:,.0f} ms, {len(queries):,} queries, {in_db * 1000:,.0f} ms of it "
          f"in cursor.execute (fetching and converting rows is not in that figure)")
    shapes: Counter = Counter()
    shape_time: Counter = Counter()
    for sql, t in queries:
        shape = re.sub(r"\s+", " ", re.sub(r"%s(, %s)*", "…", sql))
        shape = re.sub(r"^SELECT (?!\(SELECT).*? FROM ", "SELECT … FROM ", shape)[:200]
        shapes[shape] += 1
        shape_time[shape] += t
    print("  statements, the most frequent ones and then the slowest ones in all:")
    top = [shape for shape, _n in shapes.most_common(3)]
    top += [shape for shape, _t in shape_time.most_common() if shape not in top][:3]
    for shape in top:
        print(f"  {shapes[shape]:>6,} x, {shape_time[shape] * 1000:>8,.1f} ms  {shape}")
    prof = cProfile.Profile()
    prof.enable()
    call()
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(10)
    stats.sort_stats("cumulative").print_stats(r"sitroom/(lifelines|api|core)", 12)
    print("  cProfile (times inflated by the profiler): top 10 by own time, then sitroom "
          "functions by cumulative time")
    text = out.getvalue()
    print("\n".join("  " + line for line in text.splitlines()
                    if line.strip() and not line.lstrip().startswith(("Ordered by",
                                                                      "List reduced"))))


if __name__ == "__main__":
    sys.exit(main())
