"""The security situation's part of the demo scenario (Kazakhstan, January 2022).

The files in data/kz2022/ were written by the project from the sourced facts in
shared/scenario/kz-2022.json (a few items cite stored public pages outside it, and say so
in their notes); estimates stay labelled as estimates. Every item carries a stable "key",
stored as its external_id, so loading twice adds nothing. Everything goes through the
services, as the scenario source: backdated, with `recorded_at` = when it became known.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import transaction

from sitroom.core.actors import Actor
from sitroom.core.choices import JournalSource
from sitroom.core.errors import InvalidInput
from sitroom.core.models import Organization
from sitroom.core.services import save_organization

from .choices import IncidentStatus
from .services import (
    IncidentDraft,
    change_posture,
    load_incident_types,
    record_casualties,
    report_incidents,
    set_status,
)

DATA_DIR = Path(__file__).resolve().parent / "data" / "kz2022"
SOURCE = JournalSource.SCENARIO


def _read(name: str) -> list[dict[str, Any]]:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _sources(item: dict[str, Any]) -> str:
    return " ; ".join(item.get("sources", []))


def _named(name: str, key: str, exc: InvalidInput) -> InvalidInput:
    """The service's field errors, prefixed with the data file and the item's key."""
    return InvalidInput({f"{name}[{key}].{field}": msgs for field, msgs in exc.errors.items()})


def load_incidents(actor: Actor) -> int:
    """The timeline's incidents; each new one is then given its status (most "verified")."""
    items = _read("incidents.json")
    drafts = [IncidentDraft(
        type=i["type"], subtype=i["subtype"], title=i["title"], description=i["description"],
        occurred_at=_when(i["occurred_at"]), recorded_at=_when(i["recorded_at"]),
        area=i["area"], lat=i["lat"], lon=i["lon"], tags=i["tags"], actors=i["actors"],
        fatalities=i["fatalities"], injured=i["injured"], sources=i["sources"],
        severity=i["severity"], estimate=i["estimate"], external_id=i["key"],
    ) for i in items]
    try:
        results = report_incidents(drafts, actor=actor, source=SOURCE)
    except InvalidInput as exc:  # fields come as "items[i].name": name the item by its key
        raise InvalidInput({
            re.sub(r"^items\[(\d+)\]", lambda m: f"incidents.json[{items[int(m[1])]['key']}]",
                   field): msgs for field, msgs in exc.errors.items()}) from exc
    by_status: dict[str, list] = defaultdict(list)
    for item, (incident, created) in zip(items, results, strict=True):
        # Only new reports: a status someone changed since the first load stays as it is.
        if created and item["status"] != IncidentStatus.REPORTED:
            by_status[item["status"]].append(incident)
    for status, incidents in by_status.items():
        for incident in incidents:  # verified as soon as it was known: no later time given
            set_status([incident], status, actor=actor, source=SOURCE,
                       at=incident.recorded_at)
    return sum(created for _incident, created in results)


def load_reporting_bodies(actor: Actor) -> None:
    """Reporting bodies the core scenario does not list: added if missing, never changed
    here (the core's organizations.json wins if it comes to list them)."""
    for data in _read("reporting_bodies.json"):
        if not Organization.objects.filter(code=data["code"]).exists():
            save_organization(data, actor=actor, source=SOURCE)


def load_posture(actor: Actor) -> int:
    """States of emergency, curfews, counter-terrorist regimes, threat levels and the
    state of law and order, unit by unit."""
    added = 0
    for item in _read("posture.json"):
        effective = _when(item["effective_at"])
        # A measure announced before it takes effect ("lifted from 07:00 tomorrow") is
        # known from its announcement.
        recorded = _when(item["recorded_at"])
        try:
            _change, created = change_posture(
                area=item["area"], kind=item["kind"], state=item["state"],
                effective_at=effective, recorded_at=recorded, hours=item["hours"],
                decree=item["decree"], source_ref=_sources(item), note=item["note"],
                estimate=item["estimate"], external_id=item["key"], actor=actor,
                source=SOURCE)
        except InvalidInput as exc:
            raise _named("posture.json", item["key"], exc) from exc
        added += created
    return added


def load_casualties(actor: Actor) -> int:
    """Casualty and detention figures, each reporting body's kept apart."""
    added = 0
    for item in _read("casualties.json"):
        try:
            _report, created = record_casualties(
                area=item["area"], reporting_body=item["reporting_body"],
                category=item["category"], group=item["group"], count=item["count"],
                as_of=_when(item["as_of"]), recorded_at=_when(item["recorded_at"]),
                estimate=item["estimate"], source_ref=_sources(item), note=item["note"],
                external_id=item["key"], actor=actor, source=SOURCE)
        except InvalidInput as exc:
            raise _named("casualties.json", item["key"], exc) from exc
        added += created
    return added


def load_demo(actor: Actor) -> dict[str, int]:
    """Load the reference data and the scenario's incidents, posture and figures.
    Returns what was added; a second run adds nothing."""
    with transaction.atomic():
        counts = {"incident types": load_incident_types(actor=actor, source=SOURCE),
                  "incidents": load_incidents(actor)}
        load_reporting_bodies(actor)
        counts["posture changes"] = load_posture(actor)
        counts["casualty figures"] = load_casualties(actor)
    return counts
