"""Who may see and change the force's records.

Force data is about places, so it is scoped like the rest of the platform by area: guard
posts and reliefs by their place's area, movements by the area they start from,
contingents (and their units and vehicles) by their area of operation. Airfields and
aircraft types are reference data any role may read. Withdrawal plans cover the whole
force: only users who see every area read them.

Writes: directors and duty officers record the force (within their scope); the force
headquarters' liaison officers also record who guards a site and who relieves it (guard
posts and national reliefs, within their scope), for they are the ones told; aircraft
types are reference data only directors edit; a plan is approved by a director. A write
names only records the writer may read: a movement's manifest lists units in the writer's
scope, and any other unit is "no unit", as one that does not exist.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from sitroom.accounts.choices import Role
from sitroom.core.errors import NotAllowed
from sitroom.core.permissions import ROLE_ACTIONS, VIEW, scope_of

WRITERS = {Role.DIRECTOR, Role.DUTY_OFFICER}
SITE_WRITERS = WRITERS | {Role.LIAISON}  # guard posts and national reliefs
APPROVERS = {Role.DIRECTOR}
EVERYTHING = "*"  # the SCOPE_PATH of records only users who see everything may read


def scope_q(user, path_field: str | None) -> Q:
    """A filter keeping the rows the user may see (see the module docstring)."""
    scope = scope_of(user)
    if scope.role is None or VIEW not in ROLE_ACTIONS.get(scope.role, set()):
        return Q(pk__in=[])
    if scope.everything or path_field is None:
        return Q()
    if path_field == EVERYTHING:
        return Q(pk__in=[])
    q = Q(pk__in=[])
    for path in scope.area_paths:
        q |= Q(**{f"{path_field}__startswith": path})
    return q


def may_write(user, area=None, roles=WRITERS) -> bool:
    scope = scope_of(user)
    if scope.role not in roles:
        return False
    if area is None:
        return scope.everything
    return scope.covers(area.path)


def require_write(actor, area=None, *, roles=WRITERS, what: str = "") -> None:
    """Raise NotAllowed unless the actor may change force records in `area` (None: records
    of the whole force). System actors (CLI, demo loader) may."""
    if actor.user is None:
        return
    if not may_write(actor.user, area, roles):
        raise NotAllowed(_("%(actor)s may not change %(what)s here")
                         % {"actor": actor.label, "what": what or _("force records")})
