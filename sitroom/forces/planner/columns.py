"""Layer 1 columns: every feasible load of one sortie, by vehicle class.

Vehicles of a (APOE, APOD) group are put in classes of equal floor length (with the
lashing gap) and equal set of aircraft types they fit; within a class they differ only
in weight. A *pattern* of type k is a count per class plus a number of personnel that
one sortie of type k can carry: floor within the floor length, seats lost under the
vehicles plus personnel within the seats, vehicles plus personnel within the ACL
(see model.py for the seat rule). Personnel take every seat the load leaves free,
within the weight (covering rows are >=, so more seats never hurt; the plan fills them
as far as the group needs).

Two enumerations, both complete (every class combination within the capacities):

- ``heavy=False``: each vehicle at the LIGHTEST weight of its class. Every real sortie
  load maps to such a pattern (same floor and seats, weight no more), so the set-cover
  LP/MIP over these patterns is a relaxation: its optimum is a lower bound.
- ``heavy=True``: each vehicle at the HEAVIEST weight of its class. Any vehicles of the
  counted classes fit, so every integer solution is a real packing.

The classes are few (kinds of vehicle), so the enumeration is small (about 10,000
patterns at the scenario size, 30,000 at ten times); when it is not, it stops at
``limit`` and returns None, and the planner falls back to first-fit decreasing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .common import Capacity
from .model import Vehicle

if TYPE_CHECKING:
    from .loads import Group

PATTERN_LIMIT = 300_000


@dataclass(frozen=True)
class ItemClass:
    floor: int  # cm, with the lashing gap
    compat: frozenset[str]  # aircraft types the vehicles fit
    vehicles: tuple[Vehicle, ...]  # heaviest first

    @property
    def count(self) -> int:
        return len(self.vehicles)

    @property
    def w_min(self) -> int:
        return self.vehicles[-1].weight_kg

    @property
    def w_max(self) -> int:
        return self.vehicles[0].weight_kg


@dataclass(frozen=True)
class Pattern:
    code: str  # aircraft type
    counts: tuple[int, ...]  # vehicles per class of the group
    personnel: int
    weight: int  # kg of the vehicles (at the weights of the enumeration)

    @property
    def vehicles(self) -> int:
        return sum(self.counts)


def classes_of(group: Group, caps: dict[str, Capacity]) -> list[ItemClass]:
    if not caps:
        return []
    any_cap = next(iter(caps.values()))
    by_key: dict[tuple[int, frozenset[str]], list[Vehicle]] = {}
    for v in group.vehicles:
        key = (any_cap.floor_of(v), frozenset(group.compat[v.id]))
        by_key.setdefault(key, []).append(v)
    out = []
    for (floor, compat), vs in sorted(by_key.items(), key=lambda kv: (kv[0][0], sorted(kv[0][1]))):
        vs.sort(key=lambda v: (-v.weight_kg, v.id))
        out.append(ItemClass(floor, compat, tuple(vs)))
    return out


def enumerate_patterns(
    group: Group,
    classes: list[ItemClass],
    caps: dict[str, Capacity],
    *,
    heavy: bool,
    limit: int = PATTERN_LIMIT,
) -> list[Pattern] | None:
    """Every pattern of every usable type for the group (see the module docstring);
    None when there are more than `limit`."""
    out: list[Pattern] = []
    for code, cap in caps.items():
        lost_per = cap.seats - cap.side_seats
        items = []
        for ci, c in enumerate(classes):
            if code not in c.compat:
                continue
            lost = -(-lost_per * c.floor // cap.floor) if lost_per > 0 else 0
            items.append((ci, c.floor, c.w_max if heavy else c.w_min, c.count, lost))
        counts = [0] * len(classes)

        def emit(weight: int, lost: int, code=code, cap=cap, counts=counts) -> None:
            room = min(cap.seats - lost, (cap.weight - weight) // cap.person_kg, group.personnel)
            room = max(0, room)
            if room or any(counts):
                out.append(Pattern(code, tuple(counts), room, weight))

        def walk(
            i: int, floor: int, weight: int, lost: int, items=items, cap=cap, counts=counts
        ) -> bool:
            if len(out) > limit:
                return False
            if i == len(items):
                emit(weight, lost)
                return True
            ci, f, w, n, s = items[i]
            c = 0
            while c <= n:
                if (
                    floor + c * f > cap.floor
                    or weight + c * w > cap.weight
                    or lost + c * s > cap.seats
                ):
                    break
                counts[ci] = c
                if not walk(i + 1, floor + c * f, weight + c * w, lost + c * s):
                    counts[ci] = 0
                    return False
                c += 1
            counts[ci] = 0
            return True

        if not walk(0, 0, 0, 0):
            return None
    return out
