"""The journal's hash chain: append in order, verify the whole chain.

Each entry's hash is SHA-256 over a canonical JSON of its content and the previous
entry's hash. `seq` has no gaps, so a deleted, edited or inserted entry breaks either the
sequence or the chain, and `verify()` names the first entry where it breaks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection

GENESIS = "0" * 64
_LOCK_KEY = 0x5174_726F_6F6D  # PostgreSQL advisory lock serialising appends


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(entry) -> bytes:
    """The bytes an entry's hash covers (everything but the hash itself)."""
    body = [
        entry.seq,
        _ts(entry.occurred_at),
        _ts(entry.recorded_at),
        entry.actor_id,
        entry.actor_label,
        entry.source,
        entry.area_id,
        entry.place_id,
        entry.organization_id,
        entry.subject_app,
        entry.subject_model,
        entry.subject_id,
        entry.kind,
        entry.summary,
        entry.payload,
        entry.external_id,
        bool(entry.estimate),
        entry.prev_hash,
    ]
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def entry_hash(entry) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


def lock_for_append() -> None:
    """Serialise appends. SQLite already holds its write lock (IMMEDIATE transactions)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def chain_head() -> tuple[int, str]:
    """The last (seq, hash), or (0, GENESIS) for an empty journal."""
    from .models import JournalEntry

    last = JournalEntry.objects.order_by("-seq").values_list("seq", "hash").first()
    return last if last else (0, GENESIS)


@dataclass
class Break:
    seq: int
    problem: str


def verify(batch: int = 5000) -> Iterator[Break | int]:
    """Walk the chain in order; yield the count checked so far, then any break found.

    Stops at the first break: everything after it is suspect anyway.
    """
    from .models import JournalEntry

    expected_seq, prev = 1, GENESIS
    last_seq = 0
    while True:
        rows = list(JournalEntry.objects.filter(seq__gt=last_seq).order_by("seq")[:batch])
        if not rows:
            return
        for entry in rows:
            if entry.seq != expected_seq:
                what = "missing" if entry.seq > expected_seq else "out of order"
                yield Break(expected_seq, f"entry #{expected_seq} is {what} "
                                          f"(next entry found is #{entry.seq})")
                return
            if entry.prev_hash != prev:
                yield Break(entry.seq, f"entry #{entry.seq} does not follow entry "
                                       f"#{entry.seq - 1}: its prev_hash does not match")
                return
            if entry_hash(entry) != entry.hash:
                yield Break(entry.seq, f"entry #{entry.seq} was altered after it was recorded")
                return
            prev = entry.hash
            expected_seq += 1
        last_seq = rows[-1].seq
        yield last_seq
