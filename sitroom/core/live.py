"""Live stream: every new journal entry reaches every open page within moments.

One hub per server process. It wakes when this process commits an entry, when
PostgreSQL NOTIFY says another process did, or every LIVE_POLL_SECONDS (SQLite has no
cross-process notification), reads the new entries once, renders them once per language,
and hands them to each subscriber, which keeps only what its user may see.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)
CHANNEL = "sitroom_journal"


def notify(seq: int) -> None:
    """Called after a journal append commits (from any thread, any process)."""
    if connection.vendor == "postgresql":
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, str(seq)])
        except Exception:  # the poll is a safety net; never fail a committed write
            logger.exception("pg_notify failed")
    HUB.wake()


@dataclass(eq=False)
class Subscription:
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(maxsize=10_000))
    overflowed: bool = False
    # The last journal entry this subscriber has (a real position in the journal, read
    # from the database or sent by the browser); the hub never starts after it.
    cursor: int | None = None


class Hub:
    def __init__(self) -> None:
        self.subscribers: set[Subscription] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.event: asyncio.Event | None = None
        self.last_seq: int | None = None
        self.last_hash: str | None = None
        self.tasks: list[asyncio.Task] = []
        self._starting: asyncio.Lock | None = None

    # -- called from request handlers, in the server's event loop --------------------
    async def subscribe(self) -> Subscription:
        await self._ensure_started()
        sub = Subscription()
        self.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self.subscribers.discard(sub)

    def wake(self) -> None:
        loop, event = self.loop, self.event
        if loop is None or event is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            event.set()
        else:
            loop.call_soon_threadsafe(event.set)

    def _running(self, loop: asyncio.AbstractEventLoop) -> bool:
        return self.loop is loop and bool(self.tasks) and not any(t.done() for t in self.tasks)

    async def _ensure_started(self) -> None:
        """Start the one reader (and, on PostgreSQL, the one listener) of this process."""
        loop = asyncio.get_running_loop()
        if self._running(loop):
            return
        if self._starting is None or self.loop is not loop:
            self._starting, self.loop = asyncio.Lock(), loop
        async with self._starting:  # streams opening together start it once
            if self._running(loop):
                return
            for task in self.tasks:
                task.cancel()
            self.event = asyncio.Event()
            self.last_seq, self.last_hash = await sync_to_async(_head)()
            self.tasks = [loop.create_task(self._run())]
            if connection.vendor == "postgresql":
                self.tasks.append(loop.create_task(self._listen()))

    async def _run(self) -> None:
        assert self.event is not None
        while True:
            try:
                await asyncio.wait_for(self.event.wait(), settings.LIVE_POLL_SECONDS)
            except TimeoutError:
                pass
            self.event.clear()
            try:
                await sync_to_async(self._catch_up_sync)()
            except Exception:
                logger.exception("live: reading new journal entries failed")
                await asyncio.sleep(1)

    def _catch_up_sync(self) -> None:
        """Read what is new since the last entry seen and hand it to every subscriber."""
        if self.last_seq and _hash_at(self.last_seq) != self.last_hash:
            # The journal was replaced under us (a restore, or a test database being
            # emptied): go on from the earliest position a subscriber actually holds.
            cursors = [s.cursor for s in list(self.subscribers) if s.cursor is not None]
            self.last_seq, self.last_hash = _head()
            if cursors and min(cursors) < self.last_seq:
                self.last_seq = min(cursors)
                self.last_hash = _hash_at(self.last_seq)
        if not self.subscribers:
            self.last_seq, self.last_hash = _head()
            return
        while True:
            items = _fetch_after(self.last_seq or 0)
            for item in items:
                self.last_seq, self.last_hash = item["seq"], item["hash"]
                for sub in list(self.subscribers):
                    self.loop.call_soon_threadsafe(_offer, sub, item)
            if len(items) < FETCH_LIMIT:
                return

    async def _listen(self) -> None:
        """PostgreSQL LISTEN on its own connection; reconnects after a failure."""
        import psycopg

        db = settings.DATABASES["default"]
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    dbname=db["NAME"], user=db.get("USER") or None,
                    password=db.get("PASSWORD") or None, host=db.get("HOST") or None,
                    port=db.get("PORT") or None, autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.wake()
                    async for _note in conn.notifies():
                        self.wake()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("live: LISTEN connection lost; retrying", exc_info=True)
                await asyncio.sleep(2)


HUB = Hub()
FETCH_LIMIT = 1000


def _offer(sub: Subscription, item: dict[str, Any]) -> None:
    try:
        sub.queue.put_nowait(item)
    except asyncio.QueueFull:
        sub.overflowed = True


def _head() -> tuple[int, str | None]:
    from .journal import GENESIS, chain_head

    seq, digest = chain_head()
    return seq, (None if digest == GENESIS else digest)


def _hash_at(seq: int) -> str | None:
    from .models import JournalEntry

    return JournalEntry.objects.filter(seq=seq).values_list("hash", flat=True).first()


def _fetch_after(seq: int, limit: int = FETCH_LIMIT) -> list[dict[str, Any]]:
    from .models import JournalEntry
    from .queries import entry_event

    entries = (JournalEntry.objects.filter(seq__gt=seq).order_by("seq")
               .select_related("area", "place", "organization").defer("area__boundary")[:limit])
    return [entry_event(e) for e in entries]
