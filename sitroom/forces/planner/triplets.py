"""Triplet instances: bin packing with a known optimum, made here (no licence question).

Falkenauer's "triplet" construction (the t60 … t501 classes of BPPLIB): every bin of an
optimal packing is filled exactly by three items. Here, with capacity 1000, each bin gets
a first item drawn uniformly from 380..490, a second from 251..(1000 - first) // 2, and a
third that fills the bin exactly. Every item is then strictly between 250 and 500, so no
bin holds more than three items, and the total weight is exactly items / 3 bins' worth:
the optimum is items / 3, proven by the continuous bound L1 alone, and an optimal packing
must fill every bin to the unit. First-fit decreasing needs about 17 % more bins on them.
The items are shuffled; the same (items, seed) gives the same instance on any machine.
"""

from __future__ import annotations

import random

CAPACITY = 1000


def triplet_instance(items: int, seed: int = 0) -> list[int]:
    """`items` weights (a positive multiple of 3) for bins of CAPACITY; optimum items / 3."""
    if items <= 0 or items % 3:
        raise ValueError(f"a triplet instance has a positive multiple of 3 items, not {items}")
    rng = random.Random(seed)
    weights = []
    for _ in range(items // 3):
        first = rng.randint(380, 490)
        room = CAPACITY - first
        second = rng.randint(CAPACITY // 4 + 1, room // 2)
        weights += [first, second, room - second]
    rng.shuffle(weights)
    return weights
