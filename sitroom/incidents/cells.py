"""The map's running counts per grid cell (see IncidentCell): kept in step by the services
in the same transaction as every change, so they never drift from the incidents."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction

from sitroom.core import bulk

from .models import CELL_SIZES, Incident, IncidentCell

TABLE = IncidentCell._meta.db_table


def _key(size: float, lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lon / size), math.floor(lat / size)


def apply(changes: Iterable[tuple[Incident | dict, int]]) -> None:
    """Add (+1) or remove (-1) incidents, as they are now or were (a dict of lat, lon,
    type_id, status, severity), from the counts."""
    deltas: dict[tuple, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0])
    for item, sign in changes:
        get = item.get if isinstance(item, dict) else (lambda k, i=item: getattr(i, k))
        lat, lon = get("lat"), get("lon")
        if lat is None or lon is None:
            continue
        for size in CELL_SIZES:
            cx, cy = _key(size, lat, lon)
            d = deltas[(size, cx, cy, get("type_id"), get("status"))]
            d[0] += sign
            d[1] += sign * lat
            d[2] += sign * lon
            d[3] += sign * get("severity")
    rows = [(*k, *v) for k, v in deltas.items() if v[0] or v[3]]
    if not rows:
        return
    bulk.insert_rows(
        f"INSERT INTO {TABLE} (size, cx, cy, type_id, status, n, sum_lat, sum_lon, "
        "sum_severity)", rows,
        "ON CONFLICT (size, cx, cy, type_id, status) DO UPDATE SET "
        f"n = {TABLE}.n + excluded.n, sum_lat = {TABLE}.sum_lat + excluded.sum_lat, "
        f"sum_lon = {TABLE}.sum_lon + excluded.sum_lon, "
        f"sum_severity = {TABLE}.sum_severity + excluded.sum_severity")


def state(incident: Incident) -> dict:
    """What the counts know of an incident, to remove it later as it is now."""
    return {"lat": incident.lat, "lon": incident.lon, "type_id": incident.type_id,
            "status": incident.status, "severity": incident.severity}


@transaction.atomic
def rebuild() -> int:
    """Recount every cell from the incidents themselves."""
    IncidentCell.objects.all().delete()
    count = 0
    batch: list[tuple[Incident | dict, int]] = []
    for row in Incident.objects.exclude(lat=None).values(
            "lat", "lon", "type_id", "status", "severity").iterator(chunk_size=20_000):
        batch.append((row, 1))
        count += 1
        if len(batch) >= 20_000:
            apply(batch)
            batch = []
    apply(batch)
    return count
