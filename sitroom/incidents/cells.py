"""Running counts kept in step by the services in the same transaction as every change,
so they never drift from the incidents: the map's per grid cell (IncidentCell) and the
country board's per area and hour (IncidentHour)."""

from __future__ import annotations

import math
import operator
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime

from django.db import transaction

from sitroom.core import bulk

from .choices import IncidentStatus
from .models import CELL_SIZES, SEVERITY_COUNTS, Incident, IncidentCell, IncidentHour

TABLE = IncidentCell._meta.db_table
LEVELS = len(SEVERITY_COUNTS)
LEVEL = {severity: i for i, severity in enumerate(SEVERITY_COUNTS)}  # its count's place
HOURS = IncidentHour._meta.db_table
NOT_COUNTED = frozenset({IncidentStatus.DISCARDED, IncidentStatus.MERGED})


def _key(size: float, lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lon / size), math.floor(lat / size)


def apply(changes: Iterable[tuple[Incident | dict, int]]) -> None:
    """Add (+1) or remove (-1) incidents, as they are now or were (a dict as `state`
    gives), from the counts."""
    deltas: dict[tuple, list[float]] = defaultdict(lambda: [0, 0.0, 0.0] + [0] * LEVELS)
    hours: dict[tuple, int] = defaultdict(int)
    for item, sign in changes:
        lat, lon, type_id, status, severity, area_id, occurred, recorded = (
            _from_dict if isinstance(item, dict) else _from_incident)(item)
        if status not in NOT_COUNTED:
            hours[(hour_of(occurred), hour_of(recorded), area_id)] += sign
        if lat is None or lon is None:
            continue
        for size in CELL_SIZES:
            cx, cy = _key(size, lat, lon)
            d = deltas[(size, cx, cy, type_id, status)]
            d[0] += sign
            d[1] += sign * lat
            d[2] += sign * lon
            d[3 + LEVEL[severity]] += sign
    _add_hours(hours)
    rows = [(*k, *v) for k, v in deltas.items() if any(v)]
    if not rows:
        return
    added = ("n", "sum_lat", "sum_lon", *SEVERITY_COUNTS.values())
    bulk.insert_rows(
        TABLE, ("size", "cx", "cy", "type_id", "status", *added), rows,
        "ON CONFLICT (size, cx, cy, type_id, status) DO UPDATE SET "
        + ", ".join(f"{c} = {TABLE}.{c} + excluded.{c}" for c in added))


def hour_of(moment: datetime) -> datetime:
    """The whole UTC hour a moment falls in."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _add_hours(hours: dict[tuple, int]) -> None:
    convert = bulk.converter(IncidentHour._meta.get_field("hour"))
    rows = [(convert(h), convert(k), a, n) for (h, k, a), n in hours.items() if n]
    bulk.insert_rows(HOURS, ("hour", "known", "area_id", "n"), rows,
                     f"ON CONFLICT (hour, known, area_id) DO UPDATE SET n = {HOURS}.n + excluded.n")


FIELDS = ("lat", "lon", "type_id", "status", "severity", "area_id", "occurred_at",
          "recorded_at")


_from_dict = operator.itemgetter(*FIELDS)
_from_incident = operator.attrgetter(*FIELDS)


def state(incident: Incident) -> dict:
    """What the counts know of an incident, to remove it later as it is now."""
    return {name: getattr(incident, name) for name in FIELDS}


@transaction.atomic
def rebuild() -> int:
    """Recount every cell and hour from the incidents themselves."""
    IncidentCell.objects.all().delete()
    IncidentHour.objects.all().delete()
    count = 0
    batch: list[tuple[Incident | dict, int]] = []
    for row in Incident.objects.values(*FIELDS).iterator(chunk_size=20_000):
        batch.append((row, 1))
        count += 1
        if len(batch) >= 20_000:
            apply(batch)
            batch = []
    apply(batch)
    return count
