"""Full-text search over journal summaries: FTS5 on SQLite, a GIN tsvector on PostgreSQL."""

from django.db import migrations

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE core_journal_fts USING fts5("
    "summary, content='core_journalentry', content_rowid='seq', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER core_journal_fts_ai AFTER INSERT ON core_journalentry BEGIN "
    "INSERT INTO core_journal_fts(rowid, summary) VALUES (new.seq, new.summary); END",
    "CREATE TRIGGER core_journal_fts_ad AFTER DELETE ON core_journalentry BEGIN "
    "INSERT INTO core_journal_fts(core_journal_fts, rowid, summary) "
    "VALUES ('delete', old.seq, old.summary); END",
    "CREATE TRIGGER core_journal_fts_au AFTER UPDATE ON core_journalentry BEGIN "
    "INSERT INTO core_journal_fts(core_journal_fts, rowid, summary) "
    "VALUES ('delete', old.seq, old.summary); "
    "INSERT INTO core_journal_fts(rowid, summary) VALUES (new.seq, new.summary); END",
    "INSERT INTO core_journal_fts(rowid, summary) SELECT seq, summary FROM core_journalentry",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS core_journal_fts_au",
    "DROP TRIGGER IF EXISTS core_journal_fts_ad",
    "DROP TRIGGER IF EXISTS core_journal_fts_ai",
    "DROP TABLE IF EXISTS core_journal_fts",
]
POSTGRES_FORWARD = [
    "CREATE INDEX core_journal_summary_fts ON core_journalentry "
    "USING gin (to_tsvector('simple', summary))",
]
POSTGRES_BACKWARD = ["DROP INDEX IF EXISTS core_journal_summary_fts"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        )
    ]
