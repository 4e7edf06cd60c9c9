"""The lifelines' part of the demo scenario (Kazakhstan, January 2022).

data/kz2022/statuses.json was written by the project from the sourced facts in
shared/scenario/kz-2022.json and the press report of 12 January 2022 (a few items cite
stored public pages outside the research file, and say so in their notes). A status is
given only where a source gives one; the one exception, Almaty's pre-crisis baseline of
1-3 January, is an assumption and is labelled as an estimate. From the evening of 4
January every Almaty component without a sourced status is reported unknown (grey), so the
baseline never stands in for the crisis. Every item carries a stable "key", stored as its
external id, so loading twice adds nothing.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import transaction

from sitroom.core.actors import Actor
from sitroom.core.choices import JournalSource
from sitroom.core.errors import InvalidInput

from .services import JOURNAL_EACH_UP_TO, StatusDraft, load_components, report_statuses

DATA = Path(__file__).resolve().parent / "data" / "kz2022" / "statuses.json"
SOURCE = JournalSource.SCENARIO


def _draft(item: dict[str, Any]) -> StatusDraft:
    return StatusDraft(
        area=item["area"], component=item["component"], status=item["status"],
        occurred_at=datetime.fromisoformat(item["occurred_at"]),
        recorded_at=datetime.fromisoformat(item["recorded_at"]),
        percent_operating=item["percent_operating"], count_operating=item["count_operating"],
        count_total=item["count_total"], trend=item["trend"], note=item["note"],
        source=item["source"], estimate=item["estimate"], key=item["key"])


def _named(batch: list[dict[str, Any]], exc: InvalidInput) -> InvalidInput:
    """The service's "items[i].field" errors, with each item named by its key."""
    def name(match: re.Match) -> str:
        return f"statuses.json[{batch[int(match[1])]['key']}]"

    return InvalidInput({re.sub(r"^items\[(\d+)\]", name, field): msgs
                         for field, msgs in exc.errors.items()})


def load_statuses(actor: Actor) -> int:
    """The scenario's status reports, oldest first so that each cell's history builds up.
    Sent in batches small enough for each report to get its own journal entry, dated as
    the report is (a larger batch would be journaled as one entry)."""
    items = json.loads(DATA.read_text(encoding="utf-8"))
    items.sort(key=lambda i: datetime.fromisoformat(i["occurred_at"]))
    added = 0
    for start in range(0, len(items), JOURNAL_EACH_UP_TO):
        batch = items[start:start + JOURNAL_EACH_UP_TO]
        try:
            result = report_statuses([_draft(i) for i in batch], actor=actor, source=SOURCE)
        except InvalidInput as exc:
            raise _named(batch, exc) from exc
        added += len(result.stored)
    return added


def load_demo(actor: Actor) -> dict[str, int]:
    """Load the components and the scenario's status reports. Returns what was added; a
    second run adds nothing."""
    with transaction.atomic():
        return {"lifeline components": load_components(actor=actor, source=SOURCE),
                "lifeline statuses": load_statuses(actor)}
