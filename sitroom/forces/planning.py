"""From the stored force to the planner's input, and the planner's output to a stored plan.

The planner (`sitroom.forces.planner`) is plain Python; this module is the one place that
turns the database into its `Problem` and back.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from sitroom.core.errors import InvalidInput

from . import services
from .choices import AirfieldRole
from .models import AircraftType, Airfield, GuardPost, Movement, Relief, Unit, Vehicle
from .planner import model as pm

save_plan = services.save_plan
approve_plan = services.approve_plan


def _airfield(a: Airfield) -> pm.Airfield:
    return pm.Airfield(code=a.code, name=a.name, lat=a.lat, lon=a.lon,
                       max_on_ground=a.max_on_ground, opens=a.opens, closes=a.closes, tz=a.tz)


def _aircraft(t: AircraftType) -> pm.AircraftType:
    return pm.AircraftType(code=t.code, name=t.name, acl_kg=t.acl_kg,
                           floor_length_m=t.floor_length_m, floor_width_m=t.floor_width_m,
                           height_m=t.height_m, seats=t.seats, cruise_kmh=t.cruise_kmh,
                           turnaround_min=t.turnaround_min, troop_seats=t.troop_seats,
                           source=" ; ".join(t.sources or []))


def default_start() -> datetime:
    """Where a withdrawal is planned from by default: the earliest national relief when
    it lies in the past (the demo, replaying January 2022), else now."""
    first = Relief.objects.known_at(None).filter(removed=False).order_by("start").first()
    now = timezone.now()
    return first.start if first is not None and first.start < now else now


def problem_from_db(*, start: datetime | None = None, user=None) -> pm.Problem:
    """The withdrawal problem as stored now, for the force in country at `start` (now when
    None): units with what they still have in country, the sites they guard and the
    national relief of each, the airfields, aircraft types and airframes available.
    With `user`, only the units and sites the user may see. Raises InvalidInput naming
    the unit or site when something the planner needs is missing."""
    start = start or timezone.now()
    if timezone.is_naive(start):
        raise InvalidInput({"start": [_("needs a time-zone offset")]})
    unit_qs = Unit.objects.filter(arrived_at__lte=start).select_related(
        "departure_airfield", "home_airfield", "contingent")
    guard_qs = GuardPost.objects.known_at(None).filter(removed=False, start__lte=start)
    if user is not None:
        unit_qs, guard_qs = unit_qs.visible_to(user), guard_qs.visible_to(user)
    gone_people: Counter = Counter()
    gone_vehicles: dict[str, Counter] = {}
    for m in Movement.objects.known_at(None).filter(removed=False,
                                                    actual_departure__lte=start):
        for item in m.manifest or []:
            gone_people[item["unit"]] += int(item.get("personnel") or 0)
            gone_vehicles.setdefault(item["unit"], Counter()).update(
                {k: int(n) for k, n in (item.get("vehicles") or {}).items()})
    errors: dict[str, list[str]] = {}
    units: list[pm.Unit] = []
    for u in unit_qs:
        people = max(0, u.personnel - gone_people.get(u.code, 0))
        vehicles: list[pm.Vehicle] = []
        for v in Vehicle.objects.filter(unit=u).order_by("kind"):
            left = v.count - gone_vehicles.get(u.code, Counter()).get(v.kind, 0)
            for i in range(max(0, left)):
                vehicles.append(pm.Vehicle(
                    id=f"{u.code}/{slugify(v.kind)}/{i + 1}", unit=u.code, kind=v.kind,
                    weight_kg=v.weight_kg, length_m=v.length_m, width_m=v.width_m,
                    height_m=v.height_m))
        if people == 0 and not vehicles:
            continue
        if u.departure_airfield is None:
            errors[f"units.{u.code}.departure_airfield"] = [_("is not set")]
        if u.home_airfield is None:
            errors[f"units.{u.code}.home_airfield"] = [_("is not set")]
        if errors:
            continue
        units.append(pm.Unit(id=u.code, name=u.name, state=u.contingent.state,
                             personnel=people, vehicles=tuple(vehicles),
                             airfield=u.departure_airfield.code,
                             destination=u.home_airfield.code, road_allowed=u.road_allowed,
                             road_min=u.road_min))
    present = {u.id for u in units}
    first_relief: dict[int, Relief] = {}
    for r in Relief.objects.known_at(None).filter(removed=False).order_by("start"):
        first_relief.setdefault(r.place_id, r)
    sites: list[pm.Site] = []
    for g in guard_qs.select_related("unit", "place").order_by("place__code", "uid"):
        if g.unit.code not in present or (g.end is not None and g.end <= start):
            continue
        relief = first_relief.get(g.place_id)
        if relief is None:
            errors[f"sites.{g.place.code}"] = [
                _("no national relief is recorded for %(site)s") % {"site": g.place.label()}]
            continue
        sites.append(pm.Site(id=g.uid, name=g.place.label(), guarded_by=g.unit.code,
                             relief_from=relief.start, relief_unit=relief.relieving_unit,
                             overlap_min=g.overlap_min if g.overlap_min is not None
                             else services.DEFAULT_OVERLAP_MIN,
                             travel_min=g.travel_min))
    if errors:
        raise InvalidInput(errors)
    types = list(AircraftType.objects.order_by("code"))
    fleet = tuple(pm.Fleet(aircraft_type=t.code, count=t.airframes_available,
                           available_from=t.available_from)
                  for t in types if t.airframes_available > 0)
    if not fleet and any(not u.road_allowed for u in units):
        raise InvalidInput({"fleet": [_("no airframes are available: set "
                                        "airframes_available on an aircraft type")]})
    used_apoe = {u.airfield for u in units}
    used_apod = {u.destination for u in units}
    return pm.Problem(
        start=start, units=tuple(units), sites=tuple(sites),
        aircraft=tuple(_aircraft(t) for t in types), fleet=fleet,
        airfields=tuple(_airfield(a) for a in Airfield.objects.filter(
            role=AirfieldRole.APOE, code__in=used_apoe)),
        destinations=tuple(_airfield(a) for a in Airfield.objects.filter(
            role=AirfieldRole.APOD, code__in=used_apod)),
        overlap_min=services.DEFAULT_OVERLAP_MIN)


def plan_withdrawal(*, actor: Any, start: datetime | None = None, time_limit_s: float = 30,
                    source: str = "cli", user=None):
    """Build the problem, run the planner and store the result as a draft plan."""
    from .planner import solve

    problem = problem_from_db(start=start or default_start(), user=user)
    plan = solve(problem, time_limit_s=time_limit_s)
    return services.save_plan(plan, actor, problem=problem, source=source)
