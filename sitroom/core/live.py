"""Live stream: every new journal entry reaches every open page within moments.

One hub per server process. It wakes when this process commits an entry, when
PostgreSQL NOTIFY says another process did, or every LIVE_POLL_SECONDS (SQLite has no
cross-process notification), reads the new entries once, renders them once per language,
and hands them to each subscriber, which keeps only what its user may see.
"""

from __future__ import annotations

import asyncio
import logging
import threading
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


class Hub:
    def __init__(self) -> None:
        self.subscribers: set[Subscription] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.event: asyncio.Event | None = None
        self.last_seq: int | None = None
        self.tasks: list[asyncio.Task] = []
        self._lock = threading.Lock()

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

    async def _ensure_started(self) -> None:
        loop = asyncio.get_running_loop()
        if self.loop is loop and self.tasks and not all(t.done() for t in self.tasks):
            return
        self.loop, self.event = loop, asyncio.Event()
        self.last_seq = await sync_to_async(_head_seq)()
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
            if not self.subscribers:
                self.last_seq = await sync_to_async(_head_seq)()
                continue
            try:
                items = await sync_to_async(_fetch_after)(self.last_seq or 0)
            except Exception:
                logger.exception("live: reading new journal entries failed")
                await asyncio.sleep(1)
                continue
            for item in items:
                self.last_seq = item["seq"]
                for sub in list(self.subscribers):
                    try:
                        sub.queue.put_nowait(item)
                    except asyncio.QueueFull:
                        sub.overflowed = True

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


def _head_seq() -> int:
    from .journal import chain_head

    return chain_head()[0]


def _fetch_after(seq: int, limit: int = 1000) -> list[dict[str, Any]]:
    from .models import JournalEntry
    from .queries import entry_event

    entries = (JournalEntry.objects.filter(seq__gt=seq).order_by("seq")
               .select_related("area", "place", "organization")[:limit])
    return [entry_event(e) for e in entries]
