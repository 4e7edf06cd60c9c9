"""Incidents at scale (issue 3): list, map, board, exports and import on N incidents.

    .venv/bin/python bench/incidents_scale.py [--incidents 1000000] [--reps 30]
        [--import-rows 100000] [--profile-rows 20000] [--traced-rows 200000] [--seed 1]
        [--database-url postgres://user@127.0.0.1:5432/postgres] [--profile]

Set-up, on a fresh database made by this script (not timed):
- `migrate`, then `sitroom.core.demo.load_demo()`: the Kazakh areas with their boundaries
  (from settings.BOUNDARIES_DIR), the incident taxonomy and the demo scenario.
- a director who sees everything (`create_user`) and an API token for it (`create_token`).
- N incidents, generated with a fixed seed and inserted RAW (one executemany INSERT per
  20,000 rows, no service, no journal, no revisions): spread over the 35 areas below the
  country (lat/lon scattered around each area's centroid), January 2022, the six ACLED
  event types, four statuses, severities 1-5. Then `sitroom.incidents.cells.rebuild()`
  (the map's kept counts) and ANALYZE (VACUUM ANALYZE on PostgreSQL).

Measurements; each figure is next to a baseline measured in the same run, on the same
parameters. Repetitions alternate which of the two goes first. p95 is nearest-rank.
1. list: GET /api/v1/incidents?area&type&status&since&until&limit=50 through Django's test
   Client with a Bearer token, --reps times with varied filters. Baseline: the bare SQL
   query returning the same 50 rows (checked). Target: p95 < 150 ms.
2. map: GET /api/v1/incidents/map?cell=1 or cell=0.35, whole country, varied type/status
   filters. Baseline: the bare SQL GROUP BY over incidents_incident giving the same cells
   (checked: each cell's count and highest severity). Target: p95 < 250 ms.
3. board: GET /api/v1/board?as_of=... for varied moments of January 2022. Baseline: the
   bare SQL count per area of the 24 hours before the moment, plus the posture query.
   Target: p95 < 100 ms.
4. export: every incident as CSV and as GeoJSON through the exporter's generators
   (`export_chunks`, as the API streams them; chunks encoded to UTF-8 and dropped). One
   pass for the rate and the ru_maxrss growth (peak RSS reset before the pass), a second
   pass under tracemalloc for the peak of Python allocations, over the first --traced-rows
   rows (tracemalloc slows a pass several times; a streaming export's memory is flat).
   Baseline: a bare cursor (server-side on PostgreSQL) over the same rows writing CSV
   with the csv module.
   Targets: >= 50,000 rows/s and peak memory < 300 MB.
5. import: `import_incidents` of a generated CSV of --import-rows rows naming area codes,
   as the director (what POST /api/v1/incidents/import does). Baseline: raw executemany
   INSERT of the same rows into incidents_incident only (values converted beforehand).
   Target: >= 20,000 rows/s.
When the import or an export target is missed (or with --profile), a cProfile of importing
--profile-rows more rows, or of exporting a slice of about as many rows, is printed: the
main steps' cumulative time and the top 10 functions by own time.

Exit status 0 when every target is met, 1 otherwise.

Database: SQLite in a new temporary SITROOM_HOME (default), or with --database-url a new
throwaway database on that PostgreSQL server (dropped at the end, also on error or SIGTERM).
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import gc
import io
import json
import os
import pstats
import random
import secrets
import sys
import time
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import (  # noqa: E402
    Results,
    code_version,
    describe_database,
    machine,
    maxrss_kib,
    percentile,
    reset_peak_rss,
    rss_kib,
    run_benchmark,
)

LIST_P95 = 0.150
MAP_P95 = 0.250
BOARD_P95 = 0.100
EXPORT_RATE = 50_000
EXPORT_MEMORY_MB = 300
IMPORT_RATE = 20_000

INSERT_BATCH = 20_000
JANUARY = datetime(2022, 1, 1, tzinfo=UTC)
JANUARY_SECONDS = 31 * 86400
# How the generated incidents are spread.
LEVEL_WEIGHT = {"region": 2.0, "city": 2.0, "district": 1.0}
LEVEL_SIGMA = {"region": 1.0, "city": 0.06, "district": 0.015}  # degrees around the centroid
TYPE_WEIGHT = {"protests": 0.35, "riots": 0.2, "strategic_developments": 0.2,
               "violence_against_civilians": 0.1, "battles": 0.08, "explosions": 0.07}
STATUS_WEIGHT = {"reported": 0.35, "verified": 0.45, "closed": 0.12, "discarded": 0.08}
SEVERITY_WEIGHT = {1: 0.25, 2: 0.35, 3: 0.2, 4: 0.13, 5: 0.07}
KZ_BOX = (40.6, 55.4, 46.6, 87.3)  # min lat, max lat, min lon, max lon

# The set-up INSERT: every column of incidents_incident but the id.
SETUP_COLUMNS = (
    "uid", "type_id", "title", "description", "tags", "occurred_at", "recorded_at", "lat",
    "lon", "area_id", "area_path", "actors", "sources", "severity", "status", "estimate",
    "reported_by", "version", "updated_at", "fatalities", "injured", "subtype_id",
    "assignee_id", "merged_into_id", "reporter_id", "external_id")
SETUP_VALUES = (
    "%s, %s, %s, '', '[]', %s, %s, %s, %s, %s, %s, '[]', '[]', %s, %s, FALSE, 'bench', 1, "
    "%s, NULL, NULL, NULL, NULL, NULL, NULL, NULL")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--incidents", type=int, default=1_000_000,
                   help="incidents generated for the set-up (default 1000000)")
    p.add_argument("--reps", type=int, default=30,
                   help="repetitions of each latency measurement (default 30)")
    p.add_argument("--import-rows", type=int, default=100_000,
                   help="rows of the generated CSV file imported (default 100000)")
    p.add_argument("--profile-rows", type=int, default=20_000,
                   help="rows imported, and about as many exported, under cProfile when "
                        "the import or export target is missed (default 20000; 0: never)")
    p.add_argument("--traced-rows", type=int, default=200_000,
                   help="rows of each export consumed under tracemalloc (default 200000; "
                        "0: the whole export, several times slower than the timed pass)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--database-url", help="postgres://... (a throwaway database is created "
                                          "on that server); SQLite in a temp dir if omitted")
    p.add_argument("--profile", action="store_true",
                   help="profile the import and the exports even when their targets are met")
    args = p.parse_args(argv)
    if (args.incidents < 1 or args.reps < 1 or args.import_rows < 1 or args.profile_rows < 0
            or args.traced_rows < 0):
        p.error("--incidents, --reps and --import-rows must be positive")
    return args


def main(argv=None) -> int:
    return run_benchmark(run, parse_args(argv))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def p50_p95(values: list[float]) -> str:
    return f"p50 {ms(percentile(values, 0.5))} / p95 {ms(percentile(values, 0.95))}"


def run(args) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from sitroom.accounts.choices import Role
    from sitroom.accounts.services import create_token, create_user
    from sitroom.core.actors import Actor
    from sitroom.core.demo import load_demo

    started = time.perf_counter()
    vendor = connection.vendor
    where = describe_database(connection)
    print(f"incidents at scale benchmark: {args.incidents:,} generated incidents, "
          f"{args.reps} repetitions per latency, import of {args.import_rows:,} rows")
    print(f"  database: {where}")
    print(f"  machine:  {machine()}")
    print(f"  code:     commit {code_version(str(Path(__file__).resolve().parent.parent))}")
    print()

    # --- set-up (not timed) -----------------------------------------------------------
    print("set-up (not part of any measurement):")
    t0 = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    demo = load_demo()
    system = Actor.system_actor("bench")
    director = create_user("bench-director", role=Role.DIRECTOR, all_areas=True,
                           password=secrets.token_urlsafe(24), actor=system, source="cli")
    _token, secret = create_token(director, "bench", actor=system, source="cli")
    missing = ", ".join(demo.boundaries_missing)
    print(f"  migrate + load_demo + director and token: {time.perf_counter() - t0:.1f} s "
          f"({len(demo.boundaries)} boundary file(s) read"
          f"{'; MISSING: ' + missing if missing else ''})")
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    populate(connection, args.incidents, rng)
    print(f"  {args.incidents:,} incidents inserted RAW (executemany INSERT, batches of "
          f"{INSERT_BATCH:,}; no service, journal or revisions): "
          f"{time.perf_counter() - t0:.1f} s, not timed")
    from sitroom.incidents import cells

    t0 = time.perf_counter()
    counted = cells.rebuild()
    print(f"  cells.rebuild() (the map's kept counts, {counted:,} incidents): "
          f"{time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    with connection.cursor() as c:
        c.execute("ANALYZE" if vendor == "sqlite" else "VACUUM ANALYZE")
    print(f"  {'ANALYZE' if vendor == 'sqlite' else 'VACUUM ANALYZE'}: "
          f"{time.perf_counter() - t0:.1f} s")
    total = count_incidents(connection)
    print(f"  incidents in the table: {total:,} (the generated ones + the demo's)")
    print(f"  set-up done after {time.perf_counter() - started:.0f} s")
    print()

    client = Client(headers={"host": "127.0.0.1", "authorization": f"Bearer {secret}"})
    ref = Reference(connection)
    results = Results()

    measure_list(client, connection, ref, rng, args.reps, results)
    measure_map(client, connection, ref, rng, args.reps, results)
    measure_board(client, connection, ref, rng, args.reps, results)
    export_ok = measure_export(connection, director, total, args.traced_rows, results)
    if args.profile_rows and (args.profile or not export_ok):
        profile_export(director, args.incidents, args.profile_rows)
    rate, import_time = measure_import(connection, director, ref, rng, args.import_rows,
                                       results)
    if args.profile_rows and (args.profile or rate < IMPORT_RATE):
        profile_import(director, ref, rng, args.profile_rows)

    print()
    print(f"summary ({where.split(',')[0]}, {args.incidents:,} generated incidents; "
          f"run took {time.perf_counter() - started:.0f} s):")
    print(results.table())
    print()
    print("note: set-up rows were inserted raw (not timed); every figure above was measured "
          "against its baseline in the same run.")
    return 0 if results.ok else 1


# --- Set-up ---------------------------------------------------------------------------

def populate(connection, n: int, rng: random.Random) -> None:
    """Insert n generated incidents with a raw executemany INSERT (set-up only)."""
    from django.db import transaction

    from sitroom.core.choices import AreaLevel
    from sitroom.core.models import Area
    from sitroom.incidents.models import Incident, IncidentType

    columns = {f.column for f in Incident._meta.concrete_fields} - {"id"}
    if columns != set(SETUP_COLUMNS):
        raise SystemExit(f"incidents_incident has changed: columns {sorted(columns)}; "
                         "update SETUP_COLUMNS")
    areas = list(Area.objects.exclude(level=AreaLevel.COUNTRY).values_list(
        "id", "path", "lat", "lon", "level", "name"))
    area_weights = [LEVEL_WEIGHT.get(a[4], 1.0) for a in areas]
    types = list(IncidentType.objects.filter(parent=None).values_list("id", "code", "name"))
    type_weights = [TYPE_WEIGHT.get(t[1], 0.05) for t in types]
    statuses, status_weights = list(STATUS_WEIGHT), list(STATUS_WEIGHT.values())
    severities, severity_weights = list(SEVERITY_WEIGHT), list(SEVERITY_WEIGHT.values())
    sql = (f"INSERT INTO {Incident._meta.db_table} ({', '.join(SETUP_COLUMNS)}) "
           f"VALUES ({SETUP_VALUES})")
    pg = connection.vendor == "postgresql"
    min_lat, max_lat, min_lon, max_lon = KZ_BOX
    gauss, randrange, bits = rng.gauss, rng.randrange, rng.getrandbits
    done = 0
    while done < n:
        k = min(INSERT_BATCH, n - done)
        picks = zip(rng.choices(areas, area_weights, k=k), rng.choices(types, type_weights, k=k),
                    rng.choices(statuses, status_weights, k=k),
                    rng.choices(severities, severity_weights, k=k), strict=True)
        rows = []
        for j, ((area_id, path, lat, lon, level, name), (type_id, _code, type_name), status,
                severity) in enumerate(picks, start=done):
            sigma = LEVEL_SIGMA.get(level, 0.1)
            when = JANUARY + timedelta(seconds=randrange(JANUARY_SECONDS))
            if not pg:  # as Django stores it on SQLite: naive UTC text
                when = when.replace(tzinfo=None).isoformat(" ")
            uid = uuid.UUID(int=bits(128), version=4)
            rows.append((uid if pg else uid.hex, type_id, f"{type_name} — {name} #{j}",
                         when, when,
                         min(max_lat, max(min_lat, lat + gauss(0, sigma))),
                         min(max_lon, max(min_lon, lon + gauss(0, sigma * 1.4))),
                         area_id, path, severity, status, when))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows)
        done += k
        if done % 200_000 == 0 and done < n:
            print(f"    … {done:,}", flush=True)


def count_incidents(connection) -> int:
    with connection.cursor() as c:
        c.execute("SELECT COUNT(*) FROM incidents_incident WHERE status <> 'merged'")
        return c.fetchone()[0]


class Reference:
    """Codes and ids the parameters are drawn from (read once, outside any timing)."""

    def __init__(self, connection):
        from sitroom.core.choices import AreaLevel
        from sitroom.core.models import Area
        from sitroom.incidents.models import IncidentType

        self.connection = connection
        self.areas = list(Area.objects.exclude(level=AreaLevel.COUNTRY).values_list(
            "code", "path", "id", "lat", "lon"))
        self.area_by_code = {a[0]: a for a in self.areas}
        self.types = dict(IncidentType.objects.filter(parent=None).values_list("code", "id"))
        self.type_codes = sorted(self.types)

    def db_time(self, moment: datetime):
        """A moment as the database backend takes it (naive UTC text on SQLite)."""
        return self.connection.ops.adapt_datetimefield_value(moment)


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


WARMUP = 3


# --- 1. The filtered list -------------------------------------------------------------

def measure_list(client, connection, ref: Reference, rng, reps: int, results: Results):
    from django.contrib.auth import get_user_model

    print("1. filtered list: GET /api/v1/incidents?area&type&status&since&until&limit=50")
    user_table = get_user_model()._meta.db_table
    sql = (
        "SELECT i.uid, t.code, st.code, i.title, i.description, i.tags, i.occurred_at, "
        "i.recorded_at, i.lat, i.lon, a.code, i.actors, i.fatalities, i.injured, i.sources, "
        "i.severity, i.status, u.username, i.merged_into_id, i.estimate, i.reported_by, "
        "i.version "
        "FROM incidents_incident i "
        "JOIN incidents_incidenttype t ON t.id = i.type_id "
        "LEFT JOIN incidents_incidenttype st ON st.id = i.subtype_id "
        "JOIN core_area a ON a.id = i.area_id "
        f"LEFT JOIN {user_table} u ON u.id = i.assignee_id "
        "WHERE a.path LIKE %s AND t.code = %s AND i.status IN ({marks}) "
        "AND i.occurred_at >= %s AND i.occurred_at <= %s "
        "ORDER BY i.occurred_at DESC, i.id DESC LIMIT 50")
    api_times, sql_times, sizes = [], [], []
    choices = ["reported", "verified", "closed"]
    for i in range(reps + WARMUP):
        code, path = rng.choice(ref.areas)[:2]
        type_code = rng.choice(ref.type_codes)
        statuses = rng.sample(choices, rng.choice([1, 2]))
        since = JANUARY + timedelta(days=rng.randrange(0, 26), hours=rng.randrange(24))
        until = since + timedelta(days=rng.randrange(1, 7), hours=rng.randrange(24))
        params = {"area": code, "type": type_code, "status": ",".join(statuses),
                  "since": since.isoformat(), "until": until.isoformat(), "limit": 50}
        query = sql.replace("{marks}", ", ".join(["%s"] * len(statuses)))
        values = [path + "%", type_code, *statuses, ref.db_time(since), ref.db_time(until)]
        (t_api, response), (t_sql, rows) = alternate(
            i, lambda p=params: timed_get(client, "/api/v1/incidents", p),
            lambda q=query, v=values: timed_sql(connection, q, v))
        got = [item["id"] for item in response.json()["items"]]
        want = [str(uuid.UUID(str(r[0]))) for r in rows]
        if got != want:
            raise SystemExit(f"list: the API and the baseline disagree for {params}")
        if i >= WARMUP:
            api_times.append(t_api)
            sql_times.append(t_sql)
            sizes.append(len(got))
    print(f"   {reps} requests after {WARMUP} warm-ups; rows per page: min {min(sizes)}, "
          f"median {sorted(sizes)[len(sizes) // 2]}, max {max(sizes)} "
          "(same rows as the baseline, checked)")
    print(f"   API       {p50_p95(api_times)}, max {ms(max(api_times))}")
    print(f"   bare SQL  {p50_p95(sql_times)}, max {ms(max(sql_times))}")
    p95, base = percentile(api_times, 0.95), percentile(sql_times, 0.95)
    results.add("1. list API, 50 rows, filtered", p50_p95(api_times), p50_p95(sql_times),
                f"{p95 / base:.1f}×", f"p95 < {LIST_P95 * 1000:.0f} ms", p95 < LIST_P95)
    print()


# --- 2. The country map ---------------------------------------------------------------

def measure_map(client, connection, ref: Reference, rng, reps: int, results: Results):
    from sitroom.incidents.models import CELL_COARSER, CELL_SIZES

    print("2. country map: GET /api/v1/incidents/map?cell=1 | cell=0.35 (whole country)")
    api_times, sql_times = [], []
    per_cell: dict[float, list[float]] = {1.0: [], 0.35: []}
    cell_counts: dict[float, int] = {}
    for i in range(reps + WARMUP):
        cell = 1.0 if i % 2 == 0 else 0.35
        # the kept grid the API answers with (up to CELL_COARSER times the cell asked for)
        size = max(s for s in CELL_SIZES if s <= cell * CELL_COARSER)
        params: dict = {"cell": cell}
        where = ["lat IS NOT NULL", "lon IS NOT NULL"]
        values: list = [size, size]
        variant = (i // 2) % 3  # no filter, a type, some statuses
        statuses = ["reported", "verified", "closed", "discarded"]
        if variant == 1:
            params["type"] = rng.choice(ref.type_codes)
            where.append("type_id = (SELECT id FROM incidents_incidenttype WHERE code = %s)")
            values.append(params["type"])
        if variant == 2:
            statuses = rng.sample(["reported", "verified", "closed"], 2)
            params["status"] = ",".join(statuses)
        where.append(f"status IN ({', '.join(['%s'] * len(statuses))})")
        values += statuses
        query = ("SELECT FLOOR(lon / %s) AS cx, FLOOR(lat / %s) AS cy, COUNT(*), AVG(lat), "
                 "AVG(lon), MAX(severity) FROM incidents_incident "
                 f"WHERE {' AND '.join(where)} GROUP BY 1, 2")
        (t_api, response), (t_sql, rows) = alternate(
            i, lambda p=params: timed_get(client, "/api/v1/incidents/map", p),
            lambda q=query, v=values: timed_sql(connection, q, v))
        got = response.json()
        # The same cells, each with the same count and the same highest severity.
        if sorted((c["count"], c["severity"]) for c in got) != sorted(
                (r[2], r[5]) for r in rows):
            raise SystemExit(f"map: the API ({len(got)} cells) and the baseline "
                             f"({len(rows)} cells) disagree for {params}")
        if i >= WARMUP:
            api_times.append(t_api)
            sql_times.append(t_sql)
            per_cell[cell].append(t_api)
            cell_counts[cell] = len(got)
    print(f"   {reps} requests after {WARMUP} warm-ups; cells returned: "
          f"{cell_counts.get(1.0, 0):,} (cell=1), {cell_counts.get(0.35, 0):,} (cell=0.35, "
          f"answered on the {max(s for s in CELL_SIZES if s <= 0.35 * CELL_COARSER)}° grid); "
          "same cells, counts and highest severities as the baseline (checked)")
    print(f"   API       {p50_p95(api_times)}, max {ms(max(api_times))}  "
          f"(cell=1: {p50_p95(per_cell[1.0])}; cell=0.35: {p50_p95(per_cell[0.35])})")
    print(f"   bare SQL  {p50_p95(sql_times)}, max {ms(max(sql_times))}  "
          "(GROUP BY over incidents_incident)")
    p95, base = percentile(api_times, 0.95), percentile(sql_times, 0.95)
    results.add("2. country map, cell=1 and 0.35", p50_p95(api_times), p50_p95(sql_times),
                f"{p95 / base:.2f}×", f"p95 < {MAP_P95 * 1000:.0f} ms", p95 < MAP_P95)
    print()


# --- 3. The country board -------------------------------------------------------------

def measure_board(client, connection, ref: Reference, rng, reps: int, results: Results):
    print("3. country board: GET /api/v1/board?as_of=<a moment of January 2022>")
    count_sql = ("SELECT area_id, COUNT(*) FROM incidents_incident WHERE occurred_at > %s "
                 "AND occurred_at <= %s AND recorded_at <= %s "
                 "AND status NOT IN ('discarded', 'merged') GROUP BY area_id")
    posture_sql = ("SELECT area_id, area_path, kind, state, effective_at, recorded_at, hours, "
                   "decree, estimate FROM incidents_posturechange WHERE effective_at <= %s "
                   "AND recorded_at <= %s ORDER BY effective_at, recorded_at, id")
    unit_paths = [a[1] for a in ref.areas if a[1].count("/") == 2]
    paths_by_id = {a[2]: a[1] for a in ref.areas}

    def baseline(moment):
        m = ref.db_time(moment)
        t1, counts = timed_sql(connection, count_sql, [ref.db_time(moment - timedelta(
            hours=24)), m, m])
        t2, _rows = timed_sql(connection, posture_sql, [m, m])
        return t1 + t2, counts

    api_times, sql_times, totals = [], [], []
    for i in range(reps + WARMUP):
        moment = JANUARY + timedelta(days=1, seconds=rng.randrange(JANUARY_SECONDS - 86400))
        (t_api, response), (t_sql, counts) = alternate(
            i, lambda m=moment: timed_get(client, "/api/v1/board", {"as_of": m.isoformat()}),
            lambda m=moment: baseline(m))
        got = sum(row["incidents_24h"] for row in response.json()["rows"])
        want = sum(n for area_id, n in counts
                   if any(paths_by_id.get(area_id, "").startswith(p) for p in unit_paths))
        if got != want:
            raise SystemExit(f"board: the API ({got}) and the baseline ({want}) disagree "
                             f"at {moment}")
        if i >= WARMUP:
            api_times.append(t_api)
            sql_times.append(t_sql)
            totals.append(got)
    print(f"   {reps} requests after {WARMUP} warm-ups; incidents in the 24 hours: "
          f"{min(totals):,} to {max(totals):,} (same as the baseline, checked)")
    print(f"   API       {p50_p95(api_times)}, max {ms(max(api_times))}")
    print(f"   bare SQL  {p50_p95(sql_times)}, max {ms(max(sql_times))}  "
          "(24-hour count per area + posture query)")
    p95, base = percentile(api_times, 0.95), percentile(sql_times, 0.95)
    results.add("3. country board as of a moment", p50_p95(api_times), p50_p95(sql_times),
                f"{p95 / base:.1f}×", f"p95 < {BOARD_P95 * 1000:.0f} ms", p95 < BOARD_P95)
    print()


# --- 4. Exports -----------------------------------------------------------------------

def _drain(chunks, count_rows, limit: int | None = None) -> tuple[int, int]:
    """Consume an export's chunks (encoded as the response would); stop early after
    `limit` rows if given (closing the generator, as a client that hangs up does)."""
    rows = size = 0
    try:
        for chunk in chunks:
            if isinstance(chunk, str):
                rows += count_rows(chunk)
                chunk = chunk.encode()
            size += len(chunk)
            if limit is not None and rows >= limit:
                break
    finally:
        close = getattr(chunks, "close", None)
        if close:
            close()
    return rows, size


def lines(chunk: str) -> int:
    return chunk.count("\r\n")


def features(chunk: str) -> int:
    return chunk.count('{"type":"Feature"')


def export_pass(make_chunks, count_rows, *, traced: bool, limit: int | None = None) -> dict:
    """One export. Untraced: time and ru_maxrss growth; traced: tracemalloc peak (over the
    first `limit` rows: tracing every allocation makes a pass several times slower)."""
    gc.collect()
    reset = reset_peak_rss()
    rss0, max0 = rss_kib(), maxrss_kib()
    if traced:
        tracemalloc.start()
    t0 = time.perf_counter()
    rows, size = _drain(make_chunks(), count_rows, limit if traced else None)
    elapsed = time.perf_counter() - t0
    out = {"rows": rows, "bytes": size, "seconds": elapsed}
    if traced:
        out["peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    else:
        peak = maxrss_kib()
        out["rss_growth"] = max(0, peak - (rss0 if reset else max0)) * 1024
        out["rss_before"], out["rss_peak"], out["rss_reset"] = rss0 * 1024, peak * 1024, reset
    return out


def baseline_csv(connection):
    """The floor: a bare cursor over the same rows, written with the csv module."""
    sql = ("SELECT i.uid, i.external_id, t.code, st.code, i.title, i.description, i.tags, "
           "i.occurred_at, i.recorded_at, i.lat, i.lon, a.code, i.area_path, i.actors, "
           "i.fatalities, i.injured, i.sources, i.severity, i.status, i.estimate "
           "FROM incidents_incident i JOIN incidents_incidenttype t ON t.id = i.type_id "
           "LEFT JOIN incidents_incidenttype st ON st.id = i.subtype_id "
           "JOIN core_area a ON a.id = i.area_id WHERE i.status <> 'merged' "
           "ORDER BY i.occurred_at DESC, i.id DESC")
    from sitroom.incidents.exchange.exporter import CHUNK

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["id", "external_id", "type", "subtype", "title", "description", "tags",
                     "occurred_at", "recorded_at", "lat", "lon", "area", "area_path",
                     "actors", "fatalities", "injured", "sources", "severity", "status",
                     "estimate"])
    with connection.chunked_cursor() as cursor:  # server-side on PostgreSQL
        cursor.execute(sql)
        while rows := cursor.fetchmany(2000):
            writer.writerows(rows)
            if buffer.tell() >= CHUNK:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()


def measure_export(connection, director, total: int, traced_rows: int, results: Results):
    from sitroom.core.actors import Actor
    from sitroom.incidents.exchange import export_chunks
    from sitroom.incidents.queries import IncidentFilter

    print(f"4. export of every incident ({total:,} rows): CSV and GeoJSON through "
          "export_chunks, as the API streams them")
    traced_label = ("the whole export" if not traced_rows or traced_rows >= total
                    else f"the first {traced_rows:,} rows")
    print(f"   rate and ru_maxrss growth over the whole export; tracemalloc peak over "
          f"{traced_label}")
    actor = Actor(user=director, token_name="bench")
    runs = {
        "CSV (export_chunks)": (lambda: export_chunks("csv", actor, IncidentFilter()), lines,
                                2),
        "GeoJSON (export_chunks)": (lambda: export_chunks("geojson", actor, IncidentFilter()),
                                    features, 0),
        "baseline: bare cursor + csv": (lambda: baseline_csv(connection), lines, 1),
    }
    measured = {}
    for name, (make, count_rows, header_rows) in runs.items():
        plain = export_pass(make, count_rows, traced=False)
        traced = export_pass(make, count_rows, traced=True, limit=traced_rows or None)
        rows = plain["rows"] - header_rows
        if rows != total or traced["rows"] < min(traced_rows or total, total):
            raise SystemExit(f"export {name}: {rows:,} rows written, {total:,} expected")
        plain["rate"] = rows / plain["seconds"]
        plain["peak"] = traced["peak"]
        measured[name] = plain
        print(f"   {name:<29} {plain['rate']:>9,.0f} rows/s ({plain['seconds']:.1f} s, "
              f"{plain['bytes'] / 1e6:,.0f} MB out); tracemalloc peak "
              f"{plain['peak'] / 1e6:,.1f} MB; ru_maxrss growth "
              f"{plain['rss_growth'] / 1e6:,.1f} MB (RSS {plain['rss_before'] / 1e6:,.0f} MB "
              f"before, peak {plain['rss_peak'] / 1e6:,.0f} MB)"
              f"{'' if plain['rss_reset'] else ' (peak could not be reset: lower bound)'}")
    base = measured["baseline: bare cursor + csv"]
    for name, label in (("CSV (export_chunks)", "4a. export CSV"),
                        ("GeoJSON (export_chunks)", "4b. export GeoJSON")):
        m = measured[name]
        results.add(f"{label}: rate", f"{m['rate']:,.0f} rows/s", f"{base['rate']:,.0f} rows/s",
                    f"{m['rate'] / base['rate']:.0%}", f"≥ {EXPORT_RATE:,} rows/s",
                    m["rate"] >= EXPORT_RATE)
        peak_mb = max(m["peak"], m["rss_growth"]) / 1e6
        results.add(f"{label}: peak memory",
                    f"tracemalloc {m['peak'] / 1e6:,.1f} MB, RSS +{m['rss_growth'] / 1e6:,.1f} MB",
                    f"tracemalloc {base['peak'] / 1e6:,.1f} MB, "
                    f"RSS +{base['rss_growth'] / 1e6:,.1f} MB",
                    f"{m['peak'] / max(base['peak'], 1):.1f}×", f"< {EXPORT_MEMORY_MB} MB",
                    peak_mb < EXPORT_MEMORY_MB)
    print()
    return all(row[5] for row in results.rows if row[0].startswith("4"))


# --- 5. Import ------------------------------------------------------------------------

IMPORT_HEADER = ["id", "type", "title", "description", "occurred_at", "lat", "lon", "area",
                 "actors", "fatalities", "injured", "severity", "sources", "tags"]


def import_records(ref: Reference, rng, n: int, tag: str) -> list[dict]:
    """Rows as a partner's file would give them: our column names, area codes, a point
    in the named area (the import refuses a point outside it)."""
    from sitroom.core.geo import boundaries_by_code, outside

    by_code = boundaries_by_code()

    zone = timedelta(hours=6)
    out = []
    for i in range(n):
        code, path, _id, lat0, lon0 = rng.choice(ref.areas)
        for _try in range(50):
            lat, lon = round(lat0 + rng.gauss(0, 0.05), 5), round(lon0 + rng.gauss(0, 0.07), 5)
            if not outside(lat, lon, path, by_code):
                break
        else:
            lat = lon = ""  # no point drawn inside: the row names the area only
        when = JANUARY + timedelta(seconds=rng.randrange(JANUARY_SECONDS))
        local = (when + zone).replace(tzinfo=None).isoformat() + "+06:00"
        out.append({
            "id": f"bench-{tag}-{i}", "type": rng.choice(ref.type_codes),
            "title": f"Imported report {i}: gathering near checkpoint {i % 37}",
            "description": f"Row {i} of a partner's file; crowd of about {50 + i % 900}.",
            "occurred_at": local, "lat": lat, "lon": lon, "area": code,
            "actors": "Protesters (Kazakhstan); Police Forces of Kazakhstan",
            "fatalities": i % 3 if i % 5 == 0 else "", "injured": "",
            "severity": 1 + i % 5, "sources": f"https://example.org/report/{i}",
            "tags": "bench; import",
        })
    return out


def write_csv(path: Path, records: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, IMPORT_HEADER, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(records)


def raw_rows(connection, ref: Reference, records: list[dict], director) -> tuple[str, list]:
    """The INSERT and the rows the baseline writes: the same incidents, every column,
    values converted for the database beforehand (not timed)."""
    pg = connection.vendor == "postgresql"
    if pg:
        from psycopg.types.json import Jsonb

        as_json = Jsonb
    else:
        as_json = json.dumps
    now = ref.db_time(datetime.now(UTC))
    columns = ("uid", "external_id", "type_id", "subtype_id", "title", "description", "tags",
               "occurred_at", "recorded_at", "lat", "lon", "area_id", "area_path", "actors",
               "fatalities", "injured", "sources", "severity", "status", "assignee_id",
               "merged_into_id", "estimate", "reported_by", "reporter_id", "version",
               "updated_at")
    rows = []
    for r in records:
        _code, path, area_id, _lat, _lon = ref.area_by_code[r["area"]]
        uid = uuid.uuid4()
        rows.append((
            uid if pg else uid.hex, "raw-" + r["id"], ref.types[r["type"]], None, r["title"],
            r["description"], as_json([t.strip() for t in r["tags"].split(";")]),
            ref.db_time(datetime.fromisoformat(r["occurred_at"])), now,
            r["lat"] if r["lat"] != "" else None, r["lon"] if r["lon"] != "" else None,
            area_id, path, as_json([a.strip() for a in r["actors"].split(";")]),
            r["fatalities"] if r["fatalities"] != "" else None, None,
            as_json([r["sources"]]), r["severity"], "reported", None, None, False,
            director.get_username(), director.pk, 1, now))
    sql = (f"INSERT INTO incidents_incident ({', '.join(columns)}) "
           f"VALUES ({', '.join(['%s'] * len(columns))})")
    return sql, rows


def measure_import(connection, director, ref: Reference, rng, n: int, results: Results):
    from django.db import transaction

    from sitroom.core.actors import Actor
    from sitroom.core.choices import JournalSource
    from sitroom.incidents.exchange import import_incidents
    from sitroom.incidents.exchange.importer import BATCH_SIZE

    print(f"5. import: import_incidents of a generated CSV of {n:,} rows with area codes")
    home = Path(os.environ["SITROOM_HOME"])
    records = import_records(ref, rng, n, "imp")
    path = home / "import.csv"
    write_csv(path, records)
    actor = Actor(user=director, token_name="bench")
    gc.collect()
    t0 = time.perf_counter()
    report = import_incidents(str(path), actor=actor, source=JournalSource.IMPORT)
    t_import = time.perf_counter() - t0
    if not report.written or report.created != n:
        raise SystemExit(f"import: {report.lines()[:5]}")

    sql, rows = raw_rows(connection, ref, records, director)
    gc.collect()
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for i in range(0, len(rows), BATCH_SIZE):
            cursor.executemany(sql, rows[i:i + BATCH_SIZE])
    t_raw = time.perf_counter() - t0
    rate, raw_rate = n / t_import, n / t_raw
    print(f"   import_incidents         {rate:>9,.0f} rows/s ({t_import:.1f} s: parse, "
          "check, incident and revision rows, journal, map counts; one transaction)")
    print(f"   baseline raw executemany {raw_rate:>9,.0f} rows/s ({t_raw:.1f} s; the same rows "
          f"into incidents_incident only, batches of {BATCH_SIZE:,}, one transaction)")
    results.add(f"5. import of {n:,} CSV rows", f"{rate:,.0f} rows/s",
                f"{raw_rate:,.0f} rows/s", f"{rate / raw_rate:.0%}",
                f"≥ {IMPORT_RATE:,} rows/s", rate >= IMPORT_RATE)
    print()
    return rate, t_import


# Where an import's time goes, by function (cumulative), for the profile summary.
IMPORT_STAGES = (
    ("exchange/importer.py", "import_incidents"),
    ("exchange/reading.py", "read"),
    ("exchange/importer.py", "resolve"),
    ("incidents/services.py", "report_incidents"),
    ("incidents/services.py", "_check"),
    ("django/db/models/base.py", "__init__"),
    ("core/bulk.py", "insert"),
    ("incidents/services.py", "_journal_and_revisions"),
    ("core/services.py", "record_entries"),
    ("incidents/services.py", "snapshot"),
    ("incidents/cells.py", "apply"),
)
EXPORT_STAGES = (
    ("exchange/exporter.py", "records"),
    ("django/db/models/sql/compiler.py", "apply_converters"),
    ("django/db/models/fields/json.py", "from_db_value"),
    ("sqlite3/operations.py", "convert_datetimefield_value"),
    ("sqlite3/operations.py", "convert_uuidfield_value"),
    ("exchange/exporter.py", "csv_chunks"),
    ("exchange/exporter.py", "geojson_chunks"),
    ("exchange/exporter.py", "_feature"),
)


def print_profile(prof: cProfile.Profile, title: str, stages) -> None:
    stats = pstats.Stats(prof)
    total = max(stats.total_tt, 1e-9)
    print(f"--- cProfile: {title} ({total:.1f} s under the profiler, which inflates the "
          "Python parts) ---")
    print("   cumulative time of the main steps (share of the profiled total):")
    for suffix, name in stages:
        ct = sum(v[3] for (file, _line, func), v in stats.stats.items()
                 if func == name and file.replace("\\", "/").endswith(suffix))
        if ct:
            print(f"     {suffix + ':' + name:<56} {ct:7.2f} s  {ct / total:6.1%}")
    print("   top 10 by own time (tottime):")
    print(f"     {'tottime':>8} {'share':>6} {'calls':>10}  function")
    top = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:10]
    for (file, line, func), (_cc, nc, tt, _ct, _callers) in top:
        where = f"{file}:{line}({func})" if file != "~" else func
        for marker in ("site-packages/", "/work/main/", "lib/python3.11/", "lib/python3"):
            if marker in where:
                where = where.split(marker, 1)[1]
                break
        print(f"     {tt:8.2f} {tt / total:6.1%} {nc:>10,}  {where}")
    print()


def profile_import(director, ref: Reference, rng, n: int) -> None:
    from sitroom.core.actors import Actor
    from sitroom.core.choices import JournalSource
    from sitroom.incidents.exchange import import_incidents

    path = Path(os.environ["SITROOM_HOME"]) / "profile.csv"
    write_csv(path, import_records(ref, rng, n, "prof"))
    actor = Actor(user=director, token_name="bench")
    prof = cProfile.Profile()
    prof.enable()
    report = import_incidents(str(path), actor=actor, source=JournalSource.IMPORT)
    prof.disable()
    assert report.created == n
    print_profile(prof, f"import_incidents of {n:,} more CSV rows", IMPORT_STAGES)


def profile_export(director, generated: int, n: int) -> None:
    """Profile both exports on a slice of January holding about n of the generated rows."""
    from sitroom.core.actors import Actor
    from sitroom.incidents.exchange import export_chunks
    from sitroom.incidents.queries import IncidentFilter

    since = JANUARY + timedelta(days=9)
    flt = IncidentFilter(since=since, until=since + timedelta(
        seconds=JANUARY_SECONDS * min(1.0, n / generated)))
    actor = Actor(user=director, token_name="bench")
    for fmt, count_rows in (("csv", lines), ("geojson", features)):
        prof = cProfile.Profile()
        prof.enable()
        rows, _size = _drain(export_chunks(fmt, actor, flt), count_rows)
        prof.disable()
        print_profile(prof, f"{fmt} export of {rows:,} rows ({flt.since:%d %b %H:%M} to "
                            f"{flt.until:%d %b %H:%M})", EXPORT_STAGES)


if __name__ == "__main__":
    sys.exit(main())
