"""Upgrading a database that already holds incidents: the migrations that add kept counts
recount them from the incidents, with the models as they were at each migration."""

from datetime import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from sitroom.incidents import services
from sitroom.incidents.models import IncidentCell, IncidentHour

T = datetime.fromisoformat
BEFORE_COUNTS = [("incidents", "0004_keyed_rows")]  # before the board's hours and 0008

CELL_COLUMNS = ("size", "cx", "cy", "type_id", "status", "n", "n_minor", "n_moderate",
                "n_serious", "n_severe", "n_critical")


def _counts():
    """The kept counts (rows that count nothing, left by changes, aside)."""
    cells = {tuple(row[:len(CELL_COLUMNS)]): (round(row[-2], 9), round(row[-1], 9))
             for row in IncidentCell.objects.filter(n__gt=0).values_list(
                 *CELL_COLUMNS, "sum_lat", "sum_lon")}
    hours = set(IncidentHour.objects.filter(n__gt=0).values_list("hour", "known", "area_id",
                                                                   "n"))
    return cells, hours


def _migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_upgrade_with_incidents_recounts_map_cells_and_board_hours(sec_world):
    duty = sec_world.users["duty"]
    made = []
    for i, severity in enumerate((1, 5, 3, 3, 2)):
        made.append(services.report_incident(
            actor=duty, source="web", type="riots", title=f"Crowd {i}", area="KZ751110",
            lat=43.25 + i * 0.3, lon=76.9 + i * 0.01, severity=severity,
            occurred_at=T(f"2022-01-05T1{i}:30:00+06:00"))[0])
    services.report_incident(actor=duty, source="web", type="riots", title="No point",
                             area="KZ751110", occurred_at=T("2022-01-06T09:00:00+06:00"))
    services.set_status(made[:1], "discarded", actor=duty, source="web")
    kept = _counts()  # as the services keep them, change by change
    assert kept[0] and kept[1]

    _migrate(BEFORE_COUNTS)  # a database from before the kept counts, incidents in it
    _migrate(None)  # ... upgraded: failed before, the recount called the live code

    assert _counts() == kept
