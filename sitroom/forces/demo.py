"""The stabilisation force's part of the demo scenario (Kazakhstan, January 2022).

data/kz2022/force.json was written by the project from the sourced facts in
shared/scenario/kz-2022.json and shared/design/airlift-notes.md §0: the five contingents
(2,030 personnel and 250 pieces of equipment in all), their units and vehicles, the sites
they guarded from 6-10 January and the Kazakh units relieving them from 13 January, the
airfields, and the withdrawal movements of 13-19 January. What is published is stated with
its source; everything else (the Russian and Belarusian headcounts, the split into units,
vehicle types, times of day, which unit flew when) is marked `estimate` and says so in its
note. Every record has a stable code or key, so loading twice adds nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.db import transaction

from sitroom.core.actors import Actor
from sitroom.core.choices import JournalSource
from sitroom.core.errors import InvalidInput
from sitroom.core.services import save_place

from . import services

DATA = Path(__file__).resolve().parent / "data" / "kz2022" / "force.json"
SOURCE = JournalSource.SCENARIO


def _each(items: list[dict[str, Any]], what: str, save, actor: Actor) -> int:
    added = 0
    for i, item in enumerate(items):
        try:
            _obj, changed = save(item, actor=actor, source=SOURCE)
        except InvalidInput as exc:
            name = item.get("key") or item.get("code") or i
            raise InvalidInput({f"force.json {what}[{name}].{k}": v
                                for k, v in exc.errors.items()}) from exc
        added += bool(changed)
    return added


def _guard_posts(items: list[dict[str, Any]], actor: Actor) -> int:
    """Each guard post as taken up (no end known), then its end as recorded with the
    handover plan (`end_recorded_at`), so the history shows both."""
    added = 0
    for item in items:
        item = dict(item)
        end_known = item.pop("end_recorded_at", None)
        if end_known and not services.GuardPost.objects.filter(uid=item["key"]).exists():
            added += _each([item | {"end": None}], "guard_posts", services.record_guard_post,
                           actor)
        if end_known:
            item["recorded_at"] = end_known
        added += _each([item], "guard_posts", services.record_guard_post, actor)
    return added


def load_demo(actor: Actor) -> dict[str, int]:
    """Load the demo force. Returns what was added or changed; a second run adds nothing."""
    data = json.loads(DATA.read_text(encoding="utf-8"))
    counts: dict[str, int] = {}
    with transaction.atomic():
        counts["aircraft types"] = services.load_aircraft_types(actor=actor, source=SOURCE)
        for code, fleet in data["fleet"].items():
            current = services.AircraftType.objects.get(code=code)
            if current.airframes_available != fleet["airframes_available"]:
                services.update_aircraft_type(
                    code, {"airframes_available": fleet["airframes_available"]},
                    actor=actor, source=SOURCE)
        counts["places"] = _each(data["places"], "places", save_place, actor)
        counts["airfields"] = _each(data["airfields"], "airfields", services.save_airfield,
                                    actor)
        counts["contingents"] = _each(data["contingents"], "contingents",
                                      services.save_contingent, actor)
        counts["units"] = _each(data["units"], "units", services.save_unit, actor)
        counts["vehicle kinds"] = _each(data["vehicles"], "vehicles", services.save_vehicles,
                                        actor)
        counts["reliefs"] = _each(data["reliefs"], "reliefs", services.record_relief, actor)
        counts["guard post records"] = _guard_posts(data["guard_posts"], actor)
        counts["movements"] = _each(data["movements"], "movements", services.record_movement,
                                    actor)
    counts["generated plans"] = _generated_plan(actor)
    return counts


def _generated_plan(actor: Actor) -> int:
    """A plan made by the planner for the same force from the morning of 13 January, to
    set beside what actually flew (left a draft: the real flights did not follow it).
    Made once; `SITROOM_DEMO_PLAN_SECONDS` (default 20) bounds the solve."""
    from django.conf import settings

    from .models import WithdrawalPlan
    from .planning import default_start, plan_withdrawal

    if WithdrawalPlan.objects.exists():
        return 0
    plan_withdrawal(actor=actor, start=default_start(), source=SOURCE,
                    time_limit_s=settings.DEMO_PLAN_SECONDS)
    return 1
