"""The handover rule: a guarded site is never left unguarded.

Relief in place (airlift notes §5): the national unit taking over a site must begin its
guard at least ``overlap_min`` minutes before the departing contingent unit's guard ends
(relief_start + overlap <= guard_end), and a unit cannot board before every site it
guarded is released plus its road time from the site to the airfield
(boards_at >= guard_end + travel).

This module is the ONE implementation of the rule. The planner, `sitroom plan-withdrawal`
and stored plans are checked with `check_handover` (boarding = loading start); the force
domain (``sitroom.forces.services.check_force``) checks what
was actually recorded with `site_gaps` and `boarding_gaps`. Plain Python, no Django: the
English ``str(gap)`` is for logs and the command line; pages and the API render a gap in
the user's language from ``gap.kind`` and ``gap.params()``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

KIND_OVERLAP = "overlap"
KIND_UNGUARDED = "unguarded"
KIND_BOARDING = "boarding"
KINDS = (KIND_OVERLAP, KIND_UNGUARDED, KIND_BOARDING)


def _minutes(delta_seconds: float) -> int:
    """Whole minutes, rounded up, so that a shortfall of 10 s still counts as one minute."""
    return int(math.ceil(delta_seconds / 60.0))


def _clock(moment: datetime | None, other: datetime | None = None, tz: tzinfo | None = None) -> str:
    """HH:MM, with the date when it differs from the time it is compared with."""
    if moment is None:
        return "—"
    local = moment.astimezone(tz) if (tz is not None and moment.tzinfo is not None) else moment
    if other is not None:
        other_local = (
            other.astimezone(tz) if (tz is not None and other.tzinfo is not None) else other
        )
        if other_local.date() != local.date():
            return local.strftime("%d %b %H:%M")
    return local.strftime("%H:%M")


@dataclass(frozen=True)
class Gap:
    """One violation of the handover rule at one site (or for one unit's boarding).

    kind:
      - "overlap": the relief begins too late to overlap the departing guard by
        ``overlap_min`` minutes (or even after the guard ended);
      - "unguarded": the guard ends and nobody takes over;
      - "boarding": the unit boards (or departs by road) before the site is released plus
        its travel time to the airfield, or while it still guards the site.

    ``at`` is the moment the rule is broken (the guard's end for site gaps, the boarding for
    boarding gaps); ``shortfall_min`` is by how many minutes (0 when not measurable, e.g.
    boarding while the guard has no end).
    """

    kind: str
    site_id: str
    site_name: str
    unit_id: str
    at: datetime
    shortfall_min: int
    guard_end: datetime | None = None
    relief_start: datetime | None = None
    overlap_min: int = 0
    boards_at: datetime | None = None
    released_at: datetime | None = None  # guard_end + travel: the earliest boarding allowed
    travel_min: int = 0
    unit_name: str = ""
    planned: bool = False  # from a movement only planned (no actual departure yet)

    @property
    def who(self) -> str:
        return self.unit_name or self.unit_id

    def describe(self, tz: tzinfo | None = None) -> str:
        """English description with the times shown in ``tz`` (default: as stored)."""
        if self.kind == KIND_OVERLAP:
            return (
                f"{self.site_name}: relief begins {_clock(self.relief_start, self.guard_end, tz)}, "
                f"{self.who}'s guard ends {_clock(self.guard_end, self.relief_start, tz)} — "
                f"{self.shortfall_min} min short of the required {self.overlap_min}-min overlap"
            )
        if self.kind == KIND_UNGUARDED:
            return (
                f"{self.site_name}: {self.who}'s guard ends {_clock(self.guard_end, None, tz)} "
                f"and no relief is planned — the site is left unguarded"
            )
        if self.released_at is None:
            return (
                f"{self.site_name}: {self.who} boards at {_clock(self.boards_at, None, tz)} "
                f"while still guarding the site"
            )
        return (
            f"{self.site_name}: {self.who} boards at "
            f"{_clock(self.boards_at, self.released_at, tz)} "
            f"before the site is released plus {self.travel_min} min travel, "
            f"{_clock(self.released_at, self.boards_at, tz)} — {self.shortfall_min} min early"
        )

    def __str__(self) -> str:
        return self.describe()

    def params(self) -> dict[str, Any]:
        """Plain values for rendering the gap in another language (times as datetimes)."""
        return {
            "kind": self.kind,
            "site_id": self.site_id,
            "site": self.site_name,
            "unit_id": self.unit_id,
            "unit": self.who,
            "at": self.at,
            "shortfall_min": self.shortfall_min,
            "guard_end": self.guard_end,
            "relief_start": self.relief_start,
            "overlap_min": self.overlap_min,
            "boards_at": self.boards_at,
            "released_at": self.released_at,
            "travel_min": self.travel_min,
            "planned": self.planned,
        }

    def to_json(self) -> dict[str, Any]:
        """The gap as JSON-ready values (ISO 8601 times with offset)."""
        out: dict[str, Any] = {}
        for key, value in self.params().items():
            out[key] = value.isoformat() if isinstance(value, datetime) else value
        out["message"] = str(self)
        return out


def site_gaps(
    site_id: str,
    site_name: str,
    unit_id: str,
    guard_end: datetime | None,
    relief_start: datetime | None,
    overlap_min: int,
    *,
    unit_name: str = "",
) -> list[Gap]:
    """The gaps at one site: the departing guard ends at ``guard_end`` (None: still guarding,
    no gap) and the relief begins at ``relief_start`` (None: nobody takes over)."""
    if guard_end is None:
        return []
    if relief_start is None:
        return [
            Gap(
                kind=KIND_UNGUARDED,
                site_id=str(site_id),
                site_name=site_name,
                unit_id=str(unit_id),
                at=guard_end,
                shortfall_min=int(overlap_min),
                guard_end=guard_end,
                overlap_min=int(overlap_min),
                unit_name=unit_name,
            )
        ]
    overlap_s = (guard_end - relief_start).total_seconds()
    shortfall = _minutes(int(overlap_min) * 60 - overlap_s)
    if shortfall <= 0:
        return []
    return [
        Gap(
            kind=KIND_OVERLAP,
            site_id=str(site_id),
            site_name=site_name,
            unit_id=str(unit_id),
            at=guard_end,
            shortfall_min=shortfall,
            guard_end=guard_end,
            relief_start=relief_start,
            overlap_min=int(overlap_min),
            unit_name=unit_name,
        )
    ]


def boarding_gaps(
    unit_id: str,
    boards_at: datetime | None,
    releases: Iterable[tuple[str, str, datetime | None, int]],
    *,
    unit_name: str = "",
) -> list[Gap]:
    """The gaps of one unit's boarding: ``releases`` are (site_id, site_name, guard_end,
    travel_min) for every site the unit guarded; guard_end None means it still guards it.
    ``boards_at`` None (not boarded yet) gives no gap."""
    if boards_at is None:
        return []
    gaps: list[Gap] = []
    for site_id, site_name, guard_end, travel_min in releases:
        if guard_end is None:
            gaps.append(
                Gap(
                    kind=KIND_BOARDING,
                    site_id=str(site_id),
                    site_name=site_name,
                    unit_id=str(unit_id),
                    at=boards_at,
                    shortfall_min=0,
                    boards_at=boards_at,
                    travel_min=int(travel_min),
                    unit_name=unit_name,
                )
            )
            continue
        ready = guard_end.timestamp() + int(travel_min) * 60
        shortfall = _minutes(ready - boards_at.timestamp())
        if shortfall <= 0:
            continue
        gaps.append(
            Gap(
                kind=KIND_BOARDING,
                site_id=str(site_id),
                site_name=site_name,
                unit_id=str(unit_id),
                at=boards_at,
                shortfall_min=shortfall,
                guard_end=guard_end,
                boards_at=boards_at,
                released_at=guard_end + timedelta(minutes=int(travel_min)),
                travel_min=int(travel_min),
                unit_name=unit_name,
            )
        )
    return gaps


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    """First present attribute (or key) of ``obj`` among ``names``."""
    for name in names:
        if isinstance(obj, dict):
            if name in obj:
                return obj[name]
        elif hasattr(obj, name):
            return getattr(obj, name)
    return default


def check_handover(problem: Any, plan: Any) -> list[Gap]:
    """Every violation of the handover rule in ``plan`` for ``problem``.

    The one check of a plan (the planner, the command, the benchmark and stored plans in
    ``sitroom.forces.services.plan_gaps`` all use it). For each site of the problem, the
    plan's handover (guard end) is checked against the site's relief time and overlap; for
    each unit, its first departure (the boarding, i.e. loading start, of a sortie carrying
    it, or a road move's departure) is checked against the release of all its sites plus
    their travel time. A site with no
    handover in the plan is taken as never released: if its unit leaves, that is a boarding
    gap. Sorted by time.
    """
    units = {u.id: u for u in problem.units}
    handovers: dict[str, Any] = {}
    for h in _get(plan, "handovers", default=()) or ():
        handovers[str(_get(h, "site", "site_id"))] = h

    departures: dict[str, datetime] = {}

    def _leaves(unit_id: str, moment: datetime | None) -> None:
        if moment is None:
            return
        current = departures.get(unit_id)
        if current is None or moment < current:
            departures[unit_id] = moment

    for sortie in _get(plan, "sorties", default=()) or ():
        # boarding is when loading starts (Sortie.boarding), not take-off: the unit must
        # be at the aircraft by then
        boards = _get(sortie, "boarding")
        for load in _get(sortie, "loads", "units", default=()) or ():
            unit_id = load if isinstance(load, str) else _get(load, "unit", "unit_id")
            _leaves(str(unit_id), boards)
    for move in _get(plan, "road_moves", default=()) or ():
        _leaves(str(_get(move, "unit", "unit_id")), _get(move, "depart"))

    gaps: list[Gap] = []
    releases: dict[str, list[tuple[str, str, datetime | None, int]]] = {}
    for site in problem.sites:
        h = handovers.get(str(site.id))
        guard_end = _get(h, "guard_end") if h is not None else None
        unit = units.get(site.guarded_by)
        unit_name = unit.name if unit is not None else ""
        overlap = site.overlap_min if site.overlap_min is not None else problem.overlap_min
        if h is not None:
            # the relief cannot begin before the national unit is available, and a site
            # with no relief in the problem has none, whatever the plan says
            relief = None
            if site.relief_from is not None:
                relief = max(_get(h, "relief_start") or site.relief_from, site.relief_from)
            gaps += site_gaps(
                site.id,
                site.name,
                site.guarded_by,
                guard_end,
                relief,
                overlap,
                unit_name=unit_name,
            )
        releases.setdefault(site.guarded_by, []).append(
            (site.id, site.name, guard_end, site.travel_min)
        )
    for unit_id, rel in releases.items():
        unit = units.get(unit_id)
        gaps += boarding_gaps(
            unit_id, departures.get(unit_id), rel, unit_name=unit.name if unit else ""
        )
    gaps.sort(key=lambda g: (g.at, g.site_id, g.kind))
    return gaps
