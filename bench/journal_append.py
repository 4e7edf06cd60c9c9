"""Journal append: the service layer against a raw bulk insert of the same rows.

    .venv/bin/python bench/journal_append.py [--entries 50000] [--batch 1000]
        [--single 2000] [--database-url postgres://user@127.0.0.1:5432/postgres]
        [--profile]

What is measured, on a fresh empty database set up by this script:

1. service: `sitroom.core.services.record_entries` with lists of EntryDraft (source
   "import", system actor "bench", one call and so one transaction per batch). Each draft
   names an area, carries a small payload and an external id, as an import does. This is
   validation + hash chain + ORM bulk_create, i.e. what every import pays.
2. baseline: the very rows the service wrote (same columns, same values, hashes already
   computed) inserted with one `cursor.executemany` INSERT into core_journalentry, one
   transaction per batch, into the emptied table. This is the floor for this table with
   its indexes (and, on SQLite, its FTS5 trigger, which fires for both runs).
3. information: `record_entry` one entry at a time, each in its own transaction.

Ratio = service rate / baseline rate; target >= 30 %.

Database:
- SQLite (default): SITROOM_HOME is pointed at a new temporary directory before
  `django.setup()`, so the database file is new; `migrate` builds it; the directory is
  removed at the end.
- PostgreSQL (--database-url): the URL only says where to connect. A new database
  `sitroom_bench_<random>` is created on that server (the role needs CREATEDB), migrated,
  used, and dropped at the end; nothing in the database named in the URL is touched.

Between runs the journal table is emptied: on SQLite with DELETE (the FTS5 delete trigger
keeps core_journal_fts in step), then an FTS 'rebuild' and VACUUM so the next run starts
from a compact, empty file; on PostgreSQL with TRUNCATE (fresh empty heap and indexes).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import describe_database, machine, run_benchmark  # noqa: E402

TARGET = 0.30


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--entries", type=int, default=50_000, help="entries per run (default 50000)")
    p.add_argument("--batch", type=int, default=1_000, help="entries per transaction (1000)")
    p.add_argument("--single", type=int, default=2_000,
                   help="entries for the one-at-a-time rate (default 2000; 0 skips it)")
    p.add_argument("--database-url", help="postgres://... (a throwaway database is created "
                                          "on that server); SQLite in a temp dir if omitted")
    p.add_argument("--profile", action="store_true",
                   help="also profile one extra service run with cProfile and print the top")
    args = p.parse_args(argv)
    if args.entries < 1 or args.batch < 1 or args.single < 0:
        p.error("--entries and --batch must be positive, --single not negative")
    return args


def main(argv=None) -> int:
    return run_benchmark(run, parse_args(argv))


def run(args) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from sitroom.core import services
    from sitroom.core.actors import Actor
    from sitroom.core.models import JournalEntry

    call_command("migrate", interactive=False, verbosity=0)
    actor = Actor.system_actor("bench")
    areas = make_areas(services, actor)
    vendor = connection.vendor
    where = describe_database(connection)
    clear_journal(connection)

    n, batch = args.entries, args.batch
    print(f"journal append benchmark: {n:,} entries in batches of {batch:,}")
    print(f"  database: {where}")
    print(f"  machine:  {machine()}")

    # --- 1. service ----------------------------------------------------------------
    drafts = make_drafts(services.EntryDraft, areas, n, tag="svc")
    written: list = []
    gc.collect()
    t0 = time.perf_counter()
    for i in range(0, n, batch):
        written.extend(services.record_entries(drafts[i:i + batch], actor=actor,
                                               source="import"))
    t_service = time.perf_counter() - t0
    assert JournalEntry.objects.count() == n, "service run did not write every entry"
    assert len({e.seq for e in written}) == n

    # --- 2. raw baseline: the same rows --------------------------------------------
    fields = JournalEntry._meta.concrete_fields
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {JournalEntry._meta.db_table} ({columns}) VALUES ({marks})"
    rows = [tuple(f.get_db_prep_save(getattr(e, f.attname), connection) for f in fields)
            for e in written]
    del written, drafts
    clear_journal(connection)
    gc.collect()
    t0 = time.perf_counter()
    for i in range(0, n, batch):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows[i:i + batch])
    t_raw = time.perf_counter() - t0
    assert JournalEntry.objects.count() == n, "raw run did not write every entry"
    del rows

    # --- 3. one at a time (information) --------------------------------------------
    t_single = None
    if args.single:
        clear_journal(connection)
        singles = make_drafts(services.EntryDraft, areas, args.single, tag="one")
        gc.collect()
        t0 = time.perf_counter()
        for d in singles:
            services.record_entry(actor=actor, source="import", kind=d.kind, summary=d.summary,
                                  occurred_at=d.occurred_at, area=d.area, payload=d.payload,
                                  external_id=d.external_id)
        t_single = time.perf_counter() - t0
        assert JournalEntry.objects.count() == args.single

    svc_rate, raw_rate = n / t_service, n / t_raw
    ratio = svc_rate / raw_rate
    print()
    print(f"  service  record_entries (batch {batch:,})      {svc_rate:>10,.0f} entries/s"
          f"   ({t_service:.2f} s)")
    print(f"  baseline raw executemany (batch {batch:,})    {raw_rate:>10,.0f} entries/s"
          f"   ({t_raw:.2f} s)")
    verdict = "PASS" if ratio >= TARGET else "FAIL"
    print(f"  ratio service/raw                         {ratio:>10.1%}"
          f"   target >= {TARGET:.0%}: {verdict}")
    if t_single is not None:
        print(f"  info: record_entry one at a time          {args.single / t_single:>10,.0f}"
              f" entries/s   ({args.single:,} entries, one transaction each, {t_single:.2f} s)")
    print()
    if vendor == "sqlite":
        print("  note: on SQLite both runs fire the FTS5 insert trigger (core_journal_fts_ai),")
        print("        so the baseline pays the full-text indexing as the service does.")
    else:
        print("  note: on PostgreSQL both runs maintain the same indexes, including the GIN")
        print("        full-text index on to_tsvector('simple', summary).")

    if args.profile:
        clear_journal(connection)
        drafts = make_drafts(services.EntryDraft, areas, n, tag="prof")
        prof = cProfile.Profile()
        prof.enable()
        for i in range(0, n, batch):
            services.record_entries(drafts[i:i + batch], actor=actor, source="import")
        prof.disable()
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out)
        stats.sort_stats("cumulative").print_stats(30)
        stats.sort_stats("tottime").print_stats(25)
        print("\n--- cProfile of one more service run ---")
        print(out.getvalue())
    return 0 if ratio >= TARGET else 1


def make_areas(services, actor):
    """A country, a region and two cities, created through the service as an import would."""
    specs = [
        {"code": "KZ", "name": "Kazakhstan", "level": "country", "lat": 48.0, "lon": 68.0},
        {"code": "KZ-ALM", "name": "Almaty Region", "level": "region", "parent": "KZ",
         "lat": 45.0, "lon": 78.0},
        {"code": "KZ-ALA", "name": "Almaty", "level": "city", "parent": "KZ-ALM",
         "lat": 43.24, "lon": 76.89},
        {"code": "KZ-TLD", "name": "Taldykorgan", "level": "city", "parent": "KZ-ALM",
         "lat": 45.02, "lon": 78.37},
    ]
    return [services.save_area(s, actor=actor, source="import")[0] for s in specs]


def make_drafts(EntryDraft, areas, n: int, tag: str):
    """Import-like drafts: varied summaries, an area, a small payload, an external id."""
    base = datetime(2022, 1, 5, 6, 0, tzinfo=UTC)
    kinds = ["note", "event", "casualties", "infrastructure", "movement"]
    return [
        EntryDraft(
            kind=kinds[i % len(kinds)],
            summary=f"Report {i}: crowd of about {100 + i % 900} people near checkpoint "
                    f"{i % 37}; power restored in district {i % 11}",
            occurred_at=base + timedelta(seconds=7 * i),
            area=areas[i % len(areas)],
            payload={"row": i, "sources": [f"https://example.org/report/{i}"],
                     "count": i % 50},
            external_id=f"bench-{tag}-{i}",
            estimate=i % 10 == 0,
        )
        for i in range(n)
    ]


def clear_journal(connection):
    from django.db import transaction

    if connection.vendor == "sqlite":
        with transaction.atomic(), connection.cursor() as c:
            c.execute("DELETE FROM core_journalentry")  # FTS delete trigger keeps it in step
            c.execute("INSERT INTO core_journal_fts(core_journal_fts) VALUES ('rebuild')")
        with connection.cursor() as c:
            c.execute("VACUUM")
    else:
        with connection.cursor() as c:
            c.execute("TRUNCATE core_journalentry")
            c.execute("VACUUM ANALYZE core_journalentry")


if __name__ == "__main__":
    sys.exit(main())
