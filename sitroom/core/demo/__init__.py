"""The demo scenario: Kazakhstan, January 2022, written in our own format.

The data files beside this module were written by the project from the sourced facts in
shared/scenario/kz-2022.json; estimates stay labelled as estimates. Boundary polygons are
third-party data and are read from SITROOM_BOUNDARIES_DIR when it is present.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from ..actors import Actor
from ..choices import JournalSource
from ..errors import InvalidInput
from ..geo import ImportReport, import_areas
from ..models import Area, Organization, Place
from ..services import EntryDraft, record_entries, save_area, save_organization, save_place

DATA_DIR = Path(__file__).resolve().parent / "kz2022"
# Each domain app's part of the scenario: a function (actor) -> {what: how many added}.
DOMAIN_LOADERS = [
    "sitroom.incidents.demo.load_demo",
    "sitroom.lifelines.demo.load_demo",
    "sitroom.forces.demo.load_demo",
]
SOURCE = JournalSource.SCENARIO
BOUNDARY_FILES = [
    # (file, property holding our area code)
    ("kz-regions.geojson", "iso_3166_2"),
    ("almaty-districts.geojson", "pcode"),
]


@dataclass
class DemoReport:
    areas_created: int = 0
    places_created: int = 0
    organizations_created: int = 0
    entries_added: int = 0
    boundaries: list[ImportReport] = field(default_factory=list)
    boundaries_missing: list[str] = field(default_factory=list)
    domains: dict[str, dict[str, int]] = field(default_factory=dict)


def _read(name: str) -> list[dict]:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


def _entry_drafts(items: list[dict]) -> list[EntryDraft]:
    areas = {a.code: a for a in Area.objects.all()}
    places = {p.code: p for p in Place.objects.select_related("area")}
    orgs = {o.code: o for o in Organization.objects.all()}
    drafts, errors = [], {}
    for i, item in enumerate(items):
        for ref, table in (("area", areas), ("place", places), ("organization", orgs)):
            if item.get(ref) and item[ref] not in table:
                errors[f"journal[{i}].{ref}"] = [f"unknown code {item[ref]!r}"]
        if errors:
            continue
        payload = {"sources": item.get("sources", [])}
        if item.get("note"):
            payload["note"] = item["note"]
        if item.get("time_estimated"):
            payload["time_estimated"] = True
        drafts.append(EntryDraft(
            kind=item["kind"], summary=item["summary"],
            occurred_at=datetime.fromisoformat(item["occurred_at"]),
            recorded_at=datetime.fromisoformat(item.get("recorded_at") or item["occurred_at"]),
            area=areas.get(item.get("area")), place=places.get(item.get("place")),
            organization=orgs.get(item.get("organization")),
            payload=payload, external_id=item["key"], estimate=bool(item.get("estimate")),
        ))
    if errors:
        raise InvalidInput(errors)
    return drafts


def load_demo(actor: Actor | None = None, boundaries_dir: Path | None = None) -> DemoReport:
    """Load (or bring up to date) the demo scenario. A second run adds nothing."""
    actor = actor or Actor.system_actor("demo")
    boundaries_dir = Path(boundaries_dir or settings.BOUNDARIES_DIR)
    report = DemoReport()
    with transaction.atomic():
        for data in _read("areas.json"):
            _area, created = save_area(data, actor=actor, source=SOURCE)
            report.areas_created += created
        for data in _read("organizations.json"):
            _org, created = save_organization(data, actor=actor, source=SOURCE)
            report.organizations_created += created
        for data in _read("places.json"):
            _place, created = save_place(data, actor=actor, source=SOURCE)
            report.places_created += created
        for file_name, code_property in BOUNDARY_FILES:
            path = boundaries_dir / file_name
            if path.exists():
                report.boundaries.append(import_areas(
                    path, code_property=code_property, name_property="name",
                    actor=actor, source=SOURCE))
            else:
                report.boundaries_missing.append(str(path))
        drafts = _entry_drafts(_read("journal.json"))
        before = _journal_count()
        record_entries(drafts, actor=actor, source=SOURCE)
        report.entries_added = _journal_count() - before
        for dotted in DOMAIN_LOADERS:
            report.domains[dotted] = import_string(dotted)(actor)
    return report


def _journal_count() -> int:
    from ..models import JournalEntry

    return JournalEntry.objects.filter(source=SOURCE).count()
