"""Seeded forces of the Kazakhstan 2022 scenario's size, for tests and the benchmark.

`generate(scale=1, seed=0)` gives about 2,000 personnel and 250 vehicles in units of five
contributing states, 15 guarded sites handed over to national units over two days, two
APOEs (Almaty, Zhetygen), six home airfields and an Il-76MD + An-124 fleet like the
Russian air group of January 2022 (airlift-notes §0, §4). `scale=10` multiplies units,
sites and airframes by ten. The numbers are plausible, not sourced: a benchmark input.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

from .model import AircraftType, Airfield, Fleet, Problem, Site, Unit, Vehicle

# Planning figures (airlift-notes §4). ACL is below the structural maximum payload, for
# legs of ~3,000-4,000 km. Seats: troop_seats with the floor seated, seats with vehicles
# on the floor (sidewall seats; An-124: its upper troop deck). Sidewall counts are
# planning estimates, not sourced.
AIRCRAFT = (
    AircraftType(
        "IL76MD",
        "Ilyushin Il-76MD",
        40_000,
        20.0,
        3.45,
        3.4,
        60,
        780,
        120,
        145,
        "airlift-notes §4: 24.5 m hold incl. 4.5 m ramp (ramp excluded), "
        "3.46 x 3.4 m, 145 troops single deck",
    ),
    AircraftType(
        "IL76MD90A",
        "Ilyushin Il-76MD-90A",
        48_000,
        20.0,
        3.45,
        3.4,
        60,
        800,
        120,
        145,
        "airlift-notes §4: up to 60 t, same fuselage as Il-76MD",
    ),
    AircraftType(
        "AN124",
        "Antonov An-124 Ruslan",
        100_000,
        36.5,
        6.4,
        4.4,
        88,
        800,
        180,
        88,
        "airlift-notes §4: 120 t, 36.5 x 6.4 x 4.4 m, upper deck ~88 seats",
    ),
    AircraftType(
        "AN12",
        "Antonov An-12",
        16_000,
        13.5,
        3.0,
        2.4,
        40,
        550,
        90,
        105,
        "airlift-notes §4: 20.6 t, 13.5 x 3.0 x 2.4 m, 105 troops",
    ),
    AircraftType(
        "C17",
        "Boeing C-17A Globemaster III",
        70_000,
        26.8,
        5.5,
        3.76,
        54,
        830,
        150,
        102,
        "airlift-notes §4: 77.5 t, 26.8 x 5.5 x 3.76 m, 102 troops",
    ),
    AircraftType(
        "C130J",
        "Lockheed C-130J Hercules",
        16_500,
        12.5,
        3.1,
        2.7,
        40,
        640,
        90,
        92,
        "airlift-notes §4: 19.96 t, 12.5 x 3.1 x 2.7 m, 92 troops",
    ),
)

APOES = (
    Airfield("UAAA", "Almaty International", 43.352, 77.040, 6),
    Airfield("ZHETYGEN", "Zhetygen (Nikolaevka)", 43.728, 77.098, 4),
)

HOMES = (
    Airfield("UUBI", "Ivanovo-Severny", 57.059, 40.982, 8),
    Airfield("UUMU", "Chkalovsky", 55.878, 38.062, 8),
    Airfield("UMMS", "Machulishchy (Minsk)", 53.774, 27.579, 6),
    Airfield("UDYE", "Erebuni (Yerevan)", 40.122, 44.465, 4),
    Airfield("UTDD", "Dushanbe", 38.543, 68.825, 4),
    Airfield("UCFM", "Kant (Bishkek)", 42.853, 74.846, 4),
)

# (kind, weight kg, length, width, height); the last two are outsize for the Il-76
VEHICLES = (
    ("BMD-2", 8_000, 5.4, 2.6, 2.0),
    ("BTR-D", 8_000, 5.9, 2.6, 1.7),
    ("GAZ-66", 5_800, 5.8, 2.3, 2.5),
    ("Ural-4320", 9_200, 7.4, 2.5, 2.9),
    ("KamAZ-5350", 11_000, 8.0, 2.5, 3.0),
    ("Tigr", 7_200, 5.7, 2.4, 2.0),
    ("UAZ-469", 2_500, 4.0, 1.8, 2.0),
    ("BTR-82A", 15_400, 7.6, 2.9, 2.8),
    ("KamAZ tanker", 19_000, 9.0, 2.5, 3.6),
    ("Engineer crane", 22_000, 10.5, 3.6, 3.5),
)

# state, personnel share, APOE, home airfield choices, road allowed
STATES = (
    ("RU", 0.72, ("UAAA", "ZHETYGEN"), ("UUBI", "UUMU"), False),
    ("BY", 0.12, ("ZHETYGEN",), ("UMMS",), False),
    ("AM", 0.05, ("UAAA",), ("UDYE",), False),
    ("TJ", 0.05, ("UAAA",), ("UTDD",), False),
    ("KG", 0.06, ("UAAA",), ("UCFM",), True),
)

START = datetime(2022, 1, 13, 6, 0, tzinfo=UTC)  # 12:00 in Almaty (UTC+6)


def generate(scale: int = 1, seed: int = 0, *, hours: bool = True) -> Problem:
    """A seeded force of `scale` x (2,000 personnel, 250 vehicles, 15 sites)."""
    rng = random.Random(seed * 1000 + scale)
    personnel_total = 2000 * scale
    vehicles_total = 250 * scale
    units: list[Unit] = []
    n_units = 0
    for state, share, apoes, homes, road in STATES:
        people = round(personnel_total * share)
        count = max(1, round(people / 150))
        cars = round(vehicles_total * share)
        for i in range(count):
            n_units += 1
            uid = f"{state}-{i + 1}"
            p = people // count + (1 if i < people % count else 0)
            nv = cars // count + (1 if i < cars % count else 0)
            vehicles = []
            for j in range(nv):
                r = rng.random()
                if r < 0.03:
                    kind = VEHICLES[9]
                elif r < 0.07:
                    kind = VEHICLES[8]
                else:
                    kind = VEHICLES[rng.randrange(8)]
                name, w, ln, wd, ht = kind
                w = int(w * rng.uniform(0.95, 1.05))
                vehicles.append(Vehicle(f"{uid}-V{j + 1}", uid, name, w, ln, wd, ht))
            units.append(
                Unit(
                    uid,
                    f"{state} unit {i + 1}",
                    state,
                    p,
                    tuple(vehicles),
                    rng.choice(apoes),
                    rng.choice(homes),
                    road_allowed=road,
                    road_min=420 if road else 0,
                )
            )
    sites = []
    for i in range(15 * scale):
        unit = units[i % len(units)] if i < len(units) else rng.choice(units)
        relief = START + timedelta(minutes=rng.randrange(0, 36 * 60, 30))
        sites.append(
            Site(
                f"S{i + 1}",
                f"Site {i + 1}",
                unit.id,
                relief,
                relief_unit=f"KZ relief {i + 1}",
                overlap_min=60,
                travel_min=rng.choice((30, 45, 60, 90)),
            )
        )
    apoes = APOES
    if hours:
        # Zhetygen, a military airfield, works 07:00-23:00 local
        apoes = (APOES[0], _with_hours(APOES[1], time(7, 0), time(23, 0)))
    fleet = (
        Fleet("IL76MD", 12 * scale),
        Fleet("AN124", 3 * scale),
        Fleet("IL76MD90A", 2 * scale, available_from=START + timedelta(hours=12)),
    )
    return Problem(
        start=START,
        units=tuple(units),
        sites=tuple(sites),
        aircraft=AIRCRAFT,
        fleet=fleet,
        airfields=apoes,
        destinations=HOMES,
    )


def _with_hours(a: Airfield, opens: time, closes: time) -> Airfield:
    return Airfield(a.code, a.name, a.lat, a.lon, a.max_on_ground, opens, closes, a.tz)
