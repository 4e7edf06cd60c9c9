"""Input and output of the withdrawal planner: frozen dataclasses, plain Python, no Django.

The force domain (`sitroom.forces`) builds a `Problem` from the database; the planner
(`sitroom.forces.planner.solve`) returns a `Plan`. Both go to and from JSON so a command
line can read a problem file and print a machine-readable plan. Times are aware datetimes;
JSON carries them as ISO 8601 with their offset.

Planning assumptions that are parameters (see `Problem`):

- `person_kg`: the weight of one person with kit (100 kg by default).
- Seats against floor: an aircraft type has `troop_seats` (the floor fully seated) and
  `seats` (the seats left when the floor carries vehicles: sidewall seats, or a separate
  troop deck as on the An-124). A vehicle occupying x metres of a floor of length L takes
  away ceil((troop_seats - seats) * x / L) seats (the floor seating it stands on); with the
  whole floor under vehicles the sidewall seats remain. This is the linear reading of the
  FM 55-9 rule that cargo takes troop capacity on aircraft without a troop compartment.
- `vehicle_gap_m`: floor length added per vehicle for lashing and access.
- Loads of different destinations never share a sortie, and a sortie flies from one APOE.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, asdict, dataclass, field, fields
from datetime import datetime, time
from typing import Any

__all__ = [
    "AircraftType",
    "Airfield",
    "Fleet",
    "Handover",
    "Plan",
    "Problem",
    "ProblemFormatError",
    "RoadMove",
    "Site",
    "Sortie",
    "SortieLoad",
    "Unit",
    "Vehicle",
]


# Why a problem file cannot be read: a code and the planner's English (logs). Readers see
# it in their own language from the code, the field and the parameters
# (`sitroom.forces.render.problem_error_text`), never this English.
FORMAT_ERRORS = {
    "not-json": "not JSON: {error}",
    "not-object": "expected an object, got {got}",
    "unknown-fields": "unknown field(s) {fields}",
    "missing": "missing",
    "not-list": "expected a list",
    "not-datetime": "not an ISO 8601 time: {value}",
    "no-offset": "time {value} has no UTC offset",
    "not-time": "not a time of day: {value}",
    "not-integer": "expected an integer, got {value}",
    "not-number": "expected a number, got {value}",
    "not-string": "expected a string, got {value}",
    "not-bool": "expected true or false, got {value}",
}


class ProblemFormatError(ValueError):
    """A problem file that cannot be read: the `field` (its path in the file, "" for the
    file as a whole), a `code` (see FORMAT_ERRORS) and its `params`; the message names the
    field and the problem in the planner's English."""

    def __init__(self, field: str, code: str, **params: Any):
        self.field, self.code, self.params = field, code, params
        english = FORMAT_ERRORS[code].format(**params)
        super().__init__(f"{field}: {english}" if field else english)


@dataclass(frozen=True)
class AircraftType:  # reference data, sourced
    code: str  # "IL76MD", "IL76MD90A", "AN124", "AN12", "C17", "C130J"
    name: str
    acl_kg: int  # allowable cabin load used for planning
    floor_length_m: float
    floor_width_m: float
    height_m: float
    seats: int  # troop seats when the floor also carries vehicles (see module docstring)
    cruise_kmh: int
    turnaround_min: int  # minimum ground time to load/unload and refuel
    troop_seats: int = 0  # seats with the floor fully seated; 0 = same as `seats`
    source: str = ""

    @property
    def full_seats(self) -> int:
        return max(self.seats, self.troop_seats)


@dataclass(frozen=True)
class Fleet:  # airframes available of one type
    aircraft_type: str
    count: int
    available_from: datetime | None = None


@dataclass(frozen=True)
class Airfield:
    code: str
    name: str
    lat: float
    lon: float
    max_on_ground: int  # MOG
    opens: time | None = None  # local working hours; None = 24 h
    closes: time | None = None
    tz: str = "Asia/Almaty"


@dataclass(frozen=True)
class Vehicle:
    id: str
    unit: str
    kind: str
    weight_kg: int
    length_m: float
    width_m: float
    height_m: float


@dataclass(frozen=True)
class Site:  # a guarded site and its handover
    id: str
    name: str
    guarded_by: str  # unit id
    # when the national relief unit can begin its guard; None: no relief planned
    relief_from: datetime | None
    relief_unit: str = ""  # name of the national unit taking over
    overlap_min: int = 60  # required overlap of both guards
    travel_min: int = 60  # road time from the site to the unit's airfield


@dataclass(frozen=True)
class Unit:
    id: str
    name: str
    state: str  # contributing state (ISO 3166 alpha-2: RU, BY, AM, TJ, KG)
    personnel: int
    vehicles: tuple[Vehicle, ...]
    airfield: str  # APOE code it flies from
    destination: str  # APOD code (home airfield), with lat/lon in `destinations`
    road_allowed: bool = False
    road_min: int = 0  # road move time home (convoy) when road_allowed


@dataclass(frozen=True)
class Problem:
    start: datetime  # aware
    units: tuple[Unit, ...]
    sites: tuple[Site, ...]
    aircraft: tuple[AircraftType, ...]
    fleet: tuple[Fleet, ...]
    airfields: tuple[Airfield, ...]  # APOEs
    destinations: tuple[Airfield, ...]  # APODs; flight time from distance / cruise
    overlap_min: int = 60
    person_kg: int = 100  # one person with kit
    vehicle_gap_m: float = 0.3  # floor length added per vehicle for lashing and access

    def to_json(self) -> dict[str, Any]:
        return _encode(self)

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False)

    @classmethod
    def from_json(cls, data: dict[str, Any] | str) -> Problem:
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except json.JSONDecodeError as exc:
                raise ProblemFormatError("", "not-json", error=str(exc), line=exc.lineno,
                                         column=exc.colno) from exc
        return _decode(cls, data, "problem")


# --- output -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SortieLoad:
    unit: str
    personnel: int
    vehicles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sortie:
    id: str
    aircraft_type: str
    airframe: int  # index of the airframe within its type, 0-based
    origin: str  # APOE
    destination: str  # APOD
    boarding: datetime  # loading starts at the APOE (units must be there)
    depart: datetime  # take-off
    arrive: datetime  # landing at the APOD (the units are home)
    available: datetime  # airframe back at an APOE, ready for the next loading
    units: tuple[SortieLoad, ...]  # the units aboard, with personnel and vehicle ids
    weight_kg: int
    seats_used: int
    floor_m: float = 0.0


@dataclass(frozen=True)
class RoadMove:
    unit: str
    depart: datetime
    arrive: datetime


@dataclass(frozen=True)
class Handover:
    site: str
    unit: str
    relief_start: datetime  # national guard begins
    guard_end: datetime  # departing guard ends
    unit_release: datetime  # unit free of the site (= guard end)
    unit_ready: datetime | None = None  # release + travel to the APOE


@dataclass(frozen=True)
class Plan:
    status: str  # optimal / feasible / stopped / infeasible
    sorties: tuple[Sortie, ...] = ()
    road_moves: tuple[RoadMove, ...] = ()
    handovers: tuple[Handover, ...] = ()
    closure: datetime | None = None  # last unit home
    closure_min: int | None = None  # minutes from Problem.start
    # lower bounds on the number of sorties: "weight/seat", "L2", "arc-flow LP",
    # "pattern LP", and "per-group best" (the sum over groups of each group's best)
    sortie_bounds: dict[str, int] = field(default_factory=dict)
    sortie_bound_name: str = ""
    sortie_ratio: float | None = None
    # lower bounds on closure valid for every plan, minutes from start: "fleet-cycle",
    # "airfield-throughput", "handover critical path", "time-indexed" (bounds.py); `ratio`
    # is to the best
    closure_bounds: dict[str, int] = field(default_factory=dict)
    closure_bound_name: str = ""
    ratio: float | None = None
    # lower bounds on closure valid only for the schedule of THESE sorties (the chosen
    # packing), e.g. "CP-SAT (this packing)"; `packing_ratio` is to the best of them
    packing_bounds: dict[str, int] = field(default_factory=dict)
    packing_ratio: float | None = None
    seconds: float = 0.0
    explanation: str = ""  # why it is infeasible, in the planner's English
    # why it is infeasible as {"code": ..., "params": {...}} (see common.REASONS): what a
    # reader is shown, in the reader's language
    reason: dict[str, Any] = field(default_factory=dict)
    start: datetime | None = None
    notes: tuple[str, ...] = ()

    @property
    def sortie_bound(self) -> int:
        return max(self.sortie_bounds.values(), default=0)

    @property
    def closure_bound(self) -> int:
        return max(self.closure_bounds.values(), default=0)

    def to_json(self) -> dict[str, Any]:
        out = _encode(self)
        out["sortie_count"] = len(self.sorties)
        out["sortie_bound"] = self.sortie_bound
        out["closure_bound_min"] = self.closure_bound
        return out

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False)

    @classmethod
    def from_json(cls, data: dict[str, Any] | str) -> Plan:
        if isinstance(data, str):
            data = json.loads(data)
        data = {
            k: v
            for k, v in data.items()
            if k not in ("sortie_count", "sortie_bound", "closure_bound_min")
        }
        return _decode(cls, data, "plan")


# --- JSON -------------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, datetime | time):
        return value.isoformat()
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: _encode(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


_NESTED = {
    ("Problem", "units"): "Unit",
    ("Problem", "sites"): "Site",
    ("Problem", "aircraft"): "AircraftType",
    ("Problem", "fleet"): "Fleet",
    ("Problem", "airfields"): "Airfield",
    ("Problem", "destinations"): "Airfield",
    ("Unit", "vehicles"): "Vehicle",
    ("Plan", "sorties"): "Sortie",
    ("Plan", "road_moves"): "RoadMove",
    ("Plan", "handovers"): "Handover",
    ("Sortie", "units"): "SortieLoad",
}
_DATETIMES = {
    ("Problem", "start"),
    ("Fleet", "available_from"),
    ("Site", "relief_from"),
    ("Sortie", "boarding"),
    ("Sortie", "depart"),
    ("Sortie", "arrive"),
    ("Sortie", "available"),
    ("RoadMove", "depart"),
    ("RoadMove", "arrive"),
    ("Handover", "relief_start"),
    ("Handover", "guard_end"),
    ("Handover", "unit_release"),
    ("Handover", "unit_ready"),
    ("Plan", "closure"),
    ("Plan", "start"),
}
_TIMES = {("Airfield", "opens"), ("Airfield", "closes")}
_TUPLES_OF_STR = {("SortieLoad", "vehicles"), ("Plan", "notes")}


def _decode(cls, data: Any, where: str):
    name = cls.__name__
    if not isinstance(data, dict):
        raise ProblemFormatError(where, "not-object", got=type(data).__name__)
    known = {f.name: f for f in fields(cls)}
    unknown = set(data) - set(known)
    if unknown:
        raise ProblemFormatError(where, "unknown-fields", fields=", ".join(sorted(unknown)))
    kwargs = {}
    for fname, f in known.items():
        path = f"{where}.{fname}"
        if fname not in data:
            if f.default is MISSING and f.default_factory is MISSING:
                raise ProblemFormatError(path, "missing")
            continue
        raw = data[fname]
        key = (name, fname)
        if key in _NESTED:
            if not isinstance(raw, list):
                raise ProblemFormatError(path, "not-list")
            sub = _CLASSES[_NESTED[key]]
            kwargs[fname] = tuple(_decode(sub, item, f"{path}[{i}]") for i, item in enumerate(raw))
        elif key in _DATETIMES:
            if raw is None:
                kwargs[fname] = None
                continue
            try:
                dt = datetime.fromisoformat(raw)
            except (TypeError, ValueError) as exc:
                raise ProblemFormatError(path, "not-datetime", value=repr(raw)) from exc
            if dt.tzinfo is None:
                raise ProblemFormatError(path, "no-offset", value=repr(raw))
            kwargs[fname] = dt
        elif key in _TIMES:
            if raw is None:
                kwargs[fname] = None
                continue
            try:
                kwargs[fname] = time.fromisoformat(raw)
            except (TypeError, ValueError) as exc:
                raise ProblemFormatError(path, "not-time", value=repr(raw)) from exc
        elif key in _TUPLES_OF_STR:
            kwargs[fname] = tuple(raw)
        else:
            kwargs[fname] = _scalar(f, raw, path)
    return cls(**kwargs)


def _scalar(f, raw, path):
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
    if raw is None:
        return None
    if kind == "int":
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ProblemFormatError(path, "not-integer", value=repr(raw))
    elif kind == "float":
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise ProblemFormatError(path, "not-number", value=repr(raw))
        raw = float(raw)
    elif kind == "str":
        if not isinstance(raw, str):
            raise ProblemFormatError(path, "not-string", value=repr(raw))
    elif kind == "bool":
        if not isinstance(raw, bool):
            raise ProblemFormatError(path, "not-bool", value=repr(raw))
    return raw


_CLASSES = {
    c.__name__: c
    for c in (
        AircraftType,
        Fleet,
        Airfield,
        Vehicle,
        Site,
        Unit,
        Problem,
        SortieLoad,
        Sortie,
        RoadMove,
        Handover,
        Plan,
    )
}

# asdict is re-exported for callers that want plain dicts of a dataclass.
as_dict = asdict
