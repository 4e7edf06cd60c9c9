"""Every read of the stabilisation force, scoped to the reader and as-of aware.

`as_of=None` is now; a past moment gives the force as the EOC knew it then: units in
country (arrived by then, less what had left on movements recorded by then), sites still
guarded, handovers done, gaps of the handover rule, and how the movements compare with the
plan approved at that moment.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from .capacity import load_warnings
from .choices import DeviationKind, PlanStatus
from .models import Contingent, GuardPost, Movement, Relief, Unit, Vehicle, WithdrawalPlan
from .render import gap_out
from .services import check_force

DEVIATION_TOLERANCE = timedelta(minutes=30)


def contingents(user):
    return Contingent.objects.visible_to(user).select_related("area", "organization")


def units(user):
    return Unit.objects.visible_to(user).select_related(
        "contingent", "departure_airfield", "home_airfield")


def guard_posts(user, as_of: datetime | None = None):
    return GuardPost.objects.visible_to(user).known_at(as_of).filter(
        removed=False).select_related("unit", "place")


def reliefs(user, as_of: datetime | None = None):
    return Relief.objects.visible_to(user).known_at(as_of).filter(
        removed=False).select_related("place", "organization")


def sites(user, as_of: datetime | None = None) -> list[dict[str, Any]]:
    """Per guarded site the reader sees, as known at `as_of` (now when None): its guard
    posts (who guards it, from when to when), its national reliefs (who takes over, from
    when), its gaps of the handover rule, and its state at that moment: "guarded" (a
    guard post in force), "relieved" (the relief has begun and no guard is left),
    "unguarded" (neither) or "gap"."""
    moment = as_of or timezone.now()
    out: dict[int, dict[str, Any]] = {}

    def site(place) -> dict[str, Any]:
        return out.setdefault(place.pk, {"place": place, "posts": [], "reliefs": [],
                                         "gaps": []})

    for g in guard_posts(user, as_of).select_related("unit__contingent", "place__area") \
            .order_by("start", "uid"):
        site(g.place)["posts"].append(g)
    for r in reliefs(user, as_of).select_related("place__area").order_by("start", "uid"):
        site(r.place)["reliefs"].append(r)
    by_code = {row["place"].code: row for row in out.values()}
    for gap in check_force(as_of, user=user):
        if gap.site_id in by_code:
            by_code[gap.site_id]["gaps"].append(gap_out(gap))
    for row in out.values():
        guarded = any(g.start <= moment and (g.end is None or g.end > moment)
                      for g in row["posts"])
        relieved = any(r.start <= moment for r in row["reliefs"])
        row["state"] = "gap" if row["gaps"] else "guarded" if guarded else \
            "relieved" if relieved else "unguarded"
    return sorted(out.values(), key=lambda row: row["place"].code)


def movements(user, as_of: datetime | None = None):
    return Movement.objects.visible_to(user).known_at(as_of).filter(
        removed=False).select_related("aircraft_type", "origin", "origin_place",
                                      "destination")


def plans(user):
    return WithdrawalPlan.objects.visible_to(user)


def approved_plan(as_of: datetime | None = None) -> WithdrawalPlan | None:
    """The plan in force at `as_of`: approved by then and not yet superseded."""
    qs = WithdrawalPlan.objects.exclude(approved_at=None)
    if as_of is None:
        return qs.filter(status=PlanStatus.APPROVED).first()
    return (qs.filter(approved_at__lte=as_of)
            .exclude(superseded_at__lte=as_of).order_by("-approved_at").first())


def _departed(moves: list[Movement], moment: datetime) -> tuple[Counter, dict[str, Counter]]:
    """Personnel and vehicles (by kind) of each unit that had left by `moment`."""
    people: Counter = Counter()
    vehicles: dict[str, Counter] = defaultdict(Counter)
    for m in moves:
        if m.actual_departure is None or m.actual_departure > moment:
            continue
        for item in m.manifest or []:
            people[item["unit"]] += int(item.get("personnel") or 0)
            vehicles[item["unit"]].update({k: int(n) for k, n in
                                           (item.get("vehicles") or {}).items()})
    return people, vehicles


def board(user, as_of: datetime | None = None) -> dict[str, Any]:
    """The force board for `user` at `as_of`: per contingent what is still in country, the
    sites still guarded, the handovers done and the gaps; and deviations from the plan."""
    moment = as_of or timezone.now()
    known = as_of  # None: what is known now
    moves = list(movements(user, known))
    # Units leave on movements the reader may not see (another area): count every
    # recorded movement of the units the reader sees.
    all_moves = list(Movement.objects.known_at(known).filter(removed=False))
    gone_people, gone_vehicles = _departed(all_moves, moment)
    visible_units = list(units(user).filter(arrived_at__lte=moment))
    fleet: dict[str, list[Vehicle]] = defaultdict(list)
    for v in Vehicle.objects.filter(unit__in=visible_units):
        fleet[v.unit_id].append(v)
    posts = list(guard_posts(user, known))
    relief_by_place: dict[int, Relief] = {}
    for r in reliefs(user, known).order_by("start"):
        relief_by_place.setdefault(r.place_id, r)
    gaps = check_force(as_of, user=user)
    rows: dict[int, dict[str, Any]] = {}
    for c in contingents(user):
        rows[c.pk] = {"contingent": c, "personnel": 0, "vehicles": 0, "units": [],
                      "sites_guarded": [], "handovers_done": [], "gaps": []}
    for u in visible_units:
        row = rows.get(u.contingent_id)
        if row is None:
            continue
        people = max(0, u.personnel - gone_people.get(u.code, 0))
        vehicles = sum(max(0, v.count - gone_vehicles.get(u.code, Counter()).get(v.kind, 0))
                       for v in fleet.get(u.pk, []))
        row["units"].append({"unit": u, "personnel": people, "vehicles": vehicles,
                             "gone": people == 0 and vehicles == 0})
        row["personnel"] += people
        row["vehicles"] += vehicles
    unit_rows = {u.pk: u for u in visible_units}
    for g in posts:
        unit = unit_rows.get(g.unit_id)
        if unit is None or unit.contingent_id not in rows or g.start > moment:
            continue
        row = rows[unit.contingent_id]
        relief = relief_by_place.get(g.place_id)
        if g.end is None or g.end > moment:
            row["sites_guarded"].append({"post": g, "relief": relief})
        else:
            row["handovers_done"].append({"post": g, "relief": relief})
    by_unit = {u.code: u.contingent_id for u in visible_units}
    for gap in gaps:
        contingent_id = by_unit.get(gap.unit_id)
        if contingent_id in rows:
            rows[contingent_id]["gaps"].append(gap_out(gap))
    plan = approved_plan(as_of)
    found = deviations(plan, moves, moment) if plan is not None else []
    readable = plan is not None and plans(user).filter(pk=plan.pk).exists()
    if plan is not None and not readable:
        found = _seen_deviations(found, plan, {u.code for u in units(user)})
    return {
        "as_of": moment,
        "contingents": list(rows.values()),
        "personnel": sum(r["personnel"] for r in rows.values()),
        "vehicles": sum(r["vehicles"] for r in rows.values()),
        "gaps": [gap_out(g) for g in gaps],
        # plans cover the whole force: a reader who does not see all of it is told that a
        # plan is approved, not which one, and sees only the deviations of its own units
        "plan": plan if readable else None,
        "plan_approved": plan is not None,
        "deviations": found,
        # flights over their aircraft's seats or allowable load (recorded all the same)
        "load_warnings": load_warnings(moves),
    }


def _seen_deviations(found: list[dict[str, Any]], plan: WithdrawalPlan, seen: set[str]
                     ) -> list[dict[str, Any]]:
    """The deviations about units in `seen` only: a planned sortie whose every unit the
    reader sees (its movements are already the reader's)."""
    sortie_units = {s.get("id"): {u.get("unit") for u in s.get("units") or []}
                    for s in plan.plan.get("sorties") or []}
    return [d for d in found
            if d["sortie"] is None or sortie_units.get(d["sortie"], set()) <= seen]


def _parse(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _plan_load(sortie: dict[str, Any]) -> dict[str, tuple[int, int]]:
    out = {}
    for load in sortie.get("units") or []:
        out[load["unit"]] = (int(load.get("personnel") or 0), len(load.get("vehicles") or ()))
    return out


def deviations(plan: WithdrawalPlan, moves: list[Movement], moment: datetime
               ) -> list[dict[str, Any]]:
    """How the recorded movements differ from `plan` by `moment`: departures late or
    early by more than the tolerance, planned sorties not flown, movements not in the
    plan, and manifests that differ from the planned loads."""
    out: list[dict[str, Any]] = []
    linked: dict[str, Movement] = {m.sortie: m for m in moves
                                   if m.plan_id == plan.pk and m.sortie}
    for sortie in plan.plan.get("sorties") or []:
        planned = _parse(sortie.get("depart"))
        move = linked.get(sortie.get("id"))
        if move is None or move.actual_departure is None:
            if planned is not None and planned + DEVIATION_TOLERANCE <= moment:
                out.append({"kind": DeviationKind.MISSING, "sortie": sortie.get("id"),
                            "movement": move.uid if move else None, "planned": planned,
                            "actual": None, "minutes": None})
            continue
        if move.actual_departure > moment:
            continue
        if planned is not None:
            delta = move.actual_departure - planned
            if abs(delta) > DEVIATION_TOLERANCE:
                out.append({"kind": DeviationKind.LATE if delta > timedelta(0)
                            else DeviationKind.EARLY, "sortie": sortie.get("id"),
                            "movement": move.uid, "planned": planned,
                            "actual": move.actual_departure,
                            "minutes": int(delta.total_seconds() // 60)})
        want = _plan_load(sortie)
        have = {i["unit"]: (int(i.get("personnel") or 0),
                            sum(int(n) for n in (i.get("vehicles") or {}).values()))
                for i in move.manifest or []}
        if want != have:
            out.append({"kind": DeviationKind.MANIFEST, "sortie": sortie.get("id"),
                        "movement": move.uid, "planned": planned,
                        "actual": move.actual_departure, "minutes": None,
                        "detail": {"plan": want, "actual": have}})
    planned_ids = {s.get("id") for s in plan.plan.get("sorties") or []}
    road = {r.get("unit") for r in plan.plan.get("road_moves") or []}
    for m in moves:
        if m.actual_departure is None or m.actual_departure > moment:
            continue
        in_plan = (m.plan_id == plan.pk and m.sortie in planned_ids) or (
            m.kind == "road" and {i["unit"] for i in m.manifest or []} <= road)
        if not in_plan:
            out.append({"kind": DeviationKind.EXTRA, "sortie": None, "movement": m.uid,
                        "planned": None, "actual": m.actual_departure, "minutes": None})
    names = {m.uid: m.label or m.uid for m in moves}
    for d in out:  # the call sign a reader knows the movement by; `movement` is its key
        d["movement_label"] = names.get(d["movement"]) if d["movement"] else None
    out.sort(key=lambda d: (d["actual"] or d["planned"] or moment))
    return out
