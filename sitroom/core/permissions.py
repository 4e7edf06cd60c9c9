"""Roles, actions and scopes: the one place that says who may see and do what.

Reads go through `Model.objects.visible_to(user)` (built from `scope_filter`); writes go
through services, which call `require(actor, action, area=..., organization=...)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sitroom.accounts.choices import Role

VIEW = "view"
JOURNAL_ADD = "journal.add"
PLACES_MANAGE = "places.manage"
ORGANIZATIONS_MANAGE = "organizations.manage"
AREAS_MANAGE = "areas.manage"
USERS_MANAGE = "users.manage"
INCIDENTS_REPORT = "incidents.report"      # report a new incident, edit one's reports
INCIDENTS_MANAGE = "incidents.manage"      # verify, close, discard, assign, merge
FIGURES_RECORD = "figures.record"          # casualty figures and area posture
LIFELINES_REPORT = "lifelines.report"      # report the status of services in an area
REFERENCE_MANAGE = "reference.manage"      # edit reference data (lifeline components, …)

# What each action is, for a refusal the reader understands.
ACTION_TEXT = {
    VIEW: gettext_lazy("see this"),
    JOURNAL_ADD: gettext_lazy("add to the journal"),
    PLACES_MANAGE: gettext_lazy("manage places"),
    ORGANIZATIONS_MANAGE: gettext_lazy("manage organizations"),
    AREAS_MANAGE: gettext_lazy("manage areas"),
    USERS_MANAGE: gettext_lazy("manage users"),
    INCIDENTS_REPORT: gettext_lazy("report incidents"),
    INCIDENTS_MANAGE: gettext_lazy("verify, close or assign incidents"),
    FIGURES_RECORD: gettext_lazy("record figures and area measures"),
    LIFELINES_REPORT: gettext_lazy("report the status of services"),
    REFERENCE_MANAGE: gettext_lazy("edit reference data"),
}

_CONTRIBUTORS = {VIEW, JOURNAL_ADD, INCIDENTS_REPORT, LIFELINES_REPORT}
ROLE_ACTIONS: dict[str, set[str]] = {
    Role.DIRECTOR: {VIEW, JOURNAL_ADD, PLACES_MANAGE, ORGANIZATIONS_MANAGE, AREAS_MANAGE,
                    USERS_MANAGE, INCIDENTS_REPORT, INCIDENTS_MANAGE, FIGURES_RECORD,
                    LIFELINES_REPORT, REFERENCE_MANAGE},
    Role.DUTY_OFFICER: {VIEW, JOURNAL_ADD, PLACES_MANAGE, ORGANIZATIONS_MANAGE,
                        INCIDENTS_REPORT, INCIDENTS_MANAGE, FIGURES_RECORD, LIFELINES_REPORT},
    Role.ANALYST: _CONTRIBUTORS | {INCIDENTS_MANAGE, FIGURES_RECORD},
    Role.LIAISON: set(_CONTRIBUTORS),
    Role.COMMISSION_MEMBER: set(_CONTRIBUTORS),
    Role.ASSISTANCE_OFFICER: set(_CONTRIBUTORS),
    Role.FIELD_REPORTER: set(_CONTRIBUTORS),
    Role.VIEWER: {VIEW},
}


@dataclass(frozen=True)
class Scope:
    """What a user may see: everything, or area subtrees and organizations."""

    role: str | None
    everything: bool = False
    area_paths: tuple[str, ...] = ()
    organization_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def empty(self) -> bool:
        return not self.everything and not self.area_paths and not self.organization_ids

    def covers(self, area_path: str | None, organization_id: int | None = None) -> bool:
        if self.everything:
            return True
        if organization_id is not None and organization_id in self.organization_ids:
            return True
        return bool(area_path) and any(area_path.startswith(p) for p in self.area_paths)

    @cached_property
    def ancestor_paths(self) -> tuple[str, ...]:
        """The areas above the user's areas ("KZ/" and "KZ/KZ-ALA/" for a district of
        Almaty): a measure declared there (state of emergency, curfew, …) is in force in
        the user's areas, and the board shows it to them."""
        out: set[str] = set()
        for path in self.area_paths:
            parts = path.rstrip("/").split("/")
            out.update("/".join(parts[:i]) + "/" for i in range(1, len(parts)))
        return tuple(sorted(out - set(self.area_paths)))

    def sees_entry(self, kind: str, area_path: str | None,
                   organization_id: int | None = None) -> bool:
        """May the user see this journal entry: one of their areas or organizations, or a
        measure declared over their areas (see `scope_filter`)."""
        return self.covers(area_path, organization_id) or (
            kind == MEASURE_ENTRY_KIND and area_path in self.ancestor_paths)


# Journal entries of this kind (posture: a state of emergency, curfew, counter-terrorist
# regime or law-and-order status declared for an area) are seen by the users of the areas
# below as well: the measure is in force over them, and their board shows it live.
MEASURE_ENTRY_KIND = "posture"


NO_SCOPE = Scope(role=None)


def scope_of(user) -> Scope:
    """The user's scope, computed once per user object."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NO_SCOPE
    cached = getattr(user, "_sitroom_scope", None)
    if cached is not None:
        return cached
    from sitroom.accounts.models import Profile

    profile = (
        Profile.objects.filter(user=user).prefetch_related("areas", "organizations").first()
    )
    if user.is_superuser:
        scope = Scope(role=Role.DIRECTOR, everything=True)
    elif profile is None:
        scope = NO_SCOPE
    else:
        scope = Scope(
            role=profile.role,
            everything=profile.all_areas,
            area_paths=tuple(sorted(a.path for a in profile.areas.all())),
            organization_ids=frozenset(o.pk for o in profile.organizations.all()),
        )
    user._sitroom_scope = scope
    return scope


# How each scoped model reaches its area path and organization.
_SCOPE_FIELDS = {
    "Area": ("path", None),
    "Place": ("area__path", "organization_id"),
    "Organization": ("area__path", "id"),
    "JournalEntry": ("area_path", "organization_id"),
    # Through the area's own path: the small area table is searched first, and the
    # incidents are then found by their indexed area id.
    "Incident": ("area__path", None),
    "CasualtyReport": ("area_path", None),
    "PostureChange": ("area_path", None),
    "StatusReport": ("area__path", None),
}


def scope_filter(user, model) -> Q:
    """A filter that keeps only the rows of `model` the user may see."""
    scope = scope_of(user)
    if scope.role is None or VIEW not in ROLE_ACTIONS.get(scope.role, set()):
        return Q(pk__in=[])
    if scope.everything:
        return Q()
    path_field, org_field = _SCOPE_FIELDS[model.__name__]
    q = Q(pk__in=[])
    for path in scope.area_paths:
        q |= Q(**{f"{path_field}__startswith": path})
    if org_field and scope.organization_ids:
        q |= Q(**{f"{org_field}__in": sorted(scope.organization_ids)})
    if model.__name__ == "JournalEntry" and scope.ancestor_paths:
        q |= Q(kind=MEASURE_ENTRY_KIND, area_path__in=scope.ancestor_paths)
    return q


def can(user, action: str, *, area=None, organization=None) -> bool:
    """May the user do `action` on something in `area` / of `organization`?"""
    scope = scope_of(user)
    if scope.role is None or action not in ROLE_ACTIONS.get(scope.role, set()):
        return False
    if area is None and organization is None:
        # Not tied to a place: only users who see everything may write it.
        return scope.everything
    return scope.covers(
        area.path if area is not None else None,
        organization.pk if organization is not None else None,
    )


def require(actor, action: str, *, area=None, organization=None) -> None:
    """Raise NotAllowed unless the actor may do it. System actors (CLI, jobs) may."""
    from .errors import NotAllowed

    if actor.user is None:
        return
    if not can(actor.user, action, area=area, organization=organization):
        what = ACTION_TEXT.get(action, action)
        if area is not None:
            raise NotAllowed(_("%(actor)s may not %(action)s in %(area)s")
                             % {"actor": actor.label, "action": what, "area": area.label()})
        raise NotAllowed(_("%(actor)s may not %(action)s") % {"actor": actor.label,
                                                              "action": what})
