"""Fast inserts for the services' bulk paths (imports, scenario loads).

Django's bulk_create spends most of its time preparing each value through the field
machinery; for tens of thousands of rows that is the whole cost. Here each field gets one
converter, chosen once per insert, and rows go to the database in a single executemany.
Only plain fields are handled (the models that use this have no custom field types).

On PostgreSQL the rows go through COPY (into the table, or into a temporary table and
from there with INSERT … SELECT when the insert has an ON CONFLICT clause): one stream
instead of a statement per row, and no client-side parsing of thousands of placeholders.
"""

from __future__ import annotations

import json
import operator
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from django.db import connection, models
from django.db.models.base import ModelState


def converter(field: models.Field) -> Callable[[Any], Any]:
    postgres = connection.vendor == "postgresql"
    if isinstance(field, models.DateTimeField):
        if postgres:
            return _same
        return lambda v: None if v is None else v.astimezone(UTC).replace(
            tzinfo=None).isoformat(" ")
    if isinstance(field, models.JSONField):
        if postgres:
            from psycopg.types.json import Jsonb

            return lambda v: None if v is None else Jsonb(v)
        return lambda v: None if v is None else json.dumps(v)
    if isinstance(field, models.UUIDField):
        if postgres:
            return _same
        return lambda v: None if v is None else (v if isinstance(v, uuid.UUID)
                                                 else uuid.UUID(str(v))).hex
    return _same


def _same(value: Any) -> Any:
    return value


def any_of(column: str, values: Sequence[Any], *, indexed: bool = False
           ) -> tuple[str, list[Any]]:
    """`column` is one of `values`, as SQL and its one parameter: one parameter however
    many values, so a query that repeats a list of hundreds of ids in several parts is
    planned in a fraction of the time it takes with a placeholder per id, the driver
    does not split a statement of ten thousand placeholders, and SQLite's limit on them
    does not apply. SQLite: `IN` the elements of a JSON array. PostgreSQL: for a look-up
    through an index on `column` (`indexed`), `= ANY(array)`, which the index answers;
    otherwise (a filter of many rows read another way; integers only) `IN` a sub-query
    of the array's elements, which is hashed, where `= ANY` would walk the array for
    every row."""
    values = list(values)
    if connection.vendor != "postgresql":
        return f"{column} IN (SELECT value FROM json_each(%s))", [json.dumps(values)]
    if indexed:
        return f"{column} = ANY(%s)", [values]
    return f"{column} IN (SELECT unnest(%s::bigint[]))", [values]


def fetch_rows(sql: str, params: Sequence[Any], times: Sequence[int] = ()) -> list[tuple]:
    """The rows of a query, its time columns (at the positions `times`) as aware UTC
    datetimes read at C speed: on PostgreSQL through psycopg's own loaders (the ones
    Django registers for the ORM are written in Python, several µs a value), on SQLite as
    the driver gives them (naive UTC, parsed by the converter Django registers) made
    aware. For reads of thousands of rows in the services' bulk paths."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from psycopg.types.datetime import TimestamptzLoader

            # Registered on this cursor only; psycopg substitutes its C implementation.
            cursor.cursor.adapters.register_loader("timestamptz", TimestamptzLoader)
            cursor.execute(sql, params)
            return cursor.fetchall()
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not times:
        return rows
    out = []
    for row in rows:
        row = list(row)
        for i in times:
            if isinstance(row[i], str):
                row[i] = datetime.fromisoformat(row[i])
            if row[i] is not None:
                row[i] = row[i].replace(tzinfo=UTC)
        out.append(tuple(row))
    return out


class Builder:
    """Model instances for a bulk insert, made without Model.__init__.

    Django's constructor resolves every keyword through the field descriptors and fires
    signals: about 40 µs an instance, most of an import's time. Here the values go
    straight into the instance by attribute name (`type_id`, not `type`), missing fields
    get their defaults, and related objects given in `cache` are remembered so that
    reading `instance.type` asks nothing of the database. For the services' bulk paths
    only: no signals are sent (none of these models has receivers)."""

    def __init__(self, model: type[models.Model]):
        self.model = model
        self.defaults: dict[str, Any] = {}
        self.factories: dict[str, Callable[[], Any]] = {}
        for f in model._meta.concrete_fields:
            if f.primary_key:
                self.defaults[f.attname] = None
            elif f.has_default() and callable(f.default):
                self.factories[f.attname] = f.default
            else:
                self.defaults[f.attname] = f.get_default()
        self.known = set(self.defaults) | set(self.factories)

    def __call__(self, values: dict[str, Any], cache: dict[str, Any] | None = None
                 ) -> models.Model:
        unknown = set(values) - self.known
        if unknown:
            raise TypeError(f"{self.model.__name__} has no fields {sorted(unknown)}")
        obj = self.model.__new__(self.model)
        state = obj.__dict__
        state.update(self.defaults)
        for name, factory in self.factories.items():
            if name not in values:
                state[name] = factory()
        state.update(values)
        obj._state = ModelState()
        if cache:
            obj._state.fields_cache.update(cache)
        return obj


# Pages SQLite may keep in memory during a large write (KiB, as PRAGMA cache_size takes
# a negative number): an insert into a table with a million rows and several indexes
# touches a page of each index per row, and with the default (2 MB) they are written out
# and read back again and again before the commit.
LARGE_WRITE_CACHE_KIB = 256 * 1024


@contextmanager
def large_write() -> Iterator[None]:
    """Give this connection a large page cache for the duration (SQLite; PostgreSQL's
    shared buffers are the server's business)."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = -{LARGE_WRITE_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """Ids for `count` new rows of a model with an auto primary key. Call inside the
    transaction that inserts them: SQLite's write lock (IMMEDIATE) or PostgreSQL's
    sequence keeps them unique."""
    if count == 0:
        return []
    table, pk = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) "
                           "FROM generate_series(1, %s)", [table, pk, count])
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f'SELECT COALESCE(MAX("{pk}"), 0) FROM "{table}"')
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + count))


def insert(objs: Sequence[models.Model]) -> None:
    """INSERT model instances whose primary keys are already set, in one executemany."""
    if not objs:
        return
    meta = type(objs[0])._meta
    fields = list(meta.concrete_fields)  # defaults were applied when the objects were made
    values = operator.attrgetter(*[f.attname for f in fields])
    convert = [(i, c) for i, f in enumerate(fields) if (c := converter(f)) is not _same]
    rows = []
    for obj in objs:
        row = list(values(obj))
        for i, c in convert:
            row[i] = c(row[i])
        rows.append(row)
    insert_rows(meta.db_table, [f.column for f in fields], rows)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def insert_rows(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]],
                on_conflict: str = "") -> None:
    """INSERT `rows` into `table`'s `columns`, with an optional `ON CONFLICT …` clause:
    an executemany on SQLite (its loop runs in C), COPY on PostgreSQL."""
    if not rows:
        return
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {quote(table)} ({names}) VALUES ({marks}) "
                               f"{on_conflict}", rows)
            return
        target = quote(table)
        if on_conflict:  # COPY cannot resolve conflicts: stage the rows first
            target = quote(f"bulk_{table}")
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {target} AS SELECT {names} "
                           f"FROM {quote(table)} WITH NO DATA")
        with cursor.cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        if on_conflict:
            cursor.execute(f"INSERT INTO {quote(table)} ({names}) SELECT {names} FROM "
                           f"{target} {on_conflict}")
            cursor.execute(f"TRUNCATE {target}")
