"""Every write about users and API tokens, journaled with its actor."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from sitroom.core.actors import Actor
from sitroom.core.errors import InvalidInput
from sitroom.core.i18n import described
from sitroom.core.models import Area, Organization
from sitroom.core.permissions import USERS_MANAGE, require
from sitroom.core.services import record_entry

from .choices import Role
from .models import ApiToken, Profile

TOKEN_PREFIX = "srt_"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def save_user(username: str, *, role: str, password: str | None = None,
              all_areas: bool = False, areas: list[str] = (), organizations: list[str] = (),
              actor: Actor | Any, source: str, check_password: bool = True):
    """Create a user, or update an existing one's role and scope (and password if given)."""
    actor = Actor.of(actor)
    require(actor, USERS_MANAGE)
    errors: dict[str, list[str]] = {}
    if not username or len(username) > 150:
        errors["username"] = [_("must be 1 to 150 characters long")]
    if role not in Role.values:
        errors["role"] = [_("must be one of: %(roles)s") % {"roles": ", ".join(Role.values)}]
    area_objs = list(Area.objects.filter(code__in=list(areas)))
    if missing := sorted(set(areas) - {a.code for a in area_objs}):
        errors["areas"] = [_("unknown area code(s): %(codes)s") % {"codes": ", ".join(missing)}]
    org_objs = list(Organization.objects.filter(code__in=list(organizations)))
    if missing := sorted(set(organizations) - {o.code for o in org_objs}):
        errors["organizations"] = [_("unknown organization code(s): %(codes)s")
                                   % {"codes": ", ".join(missing)}]
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if password is not None and check_password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            errors["password"] = list(exc.messages)
    if user is None and password is None:
        errors["password"] = [_("is required for a new user")]
    if errors:
        raise InvalidInput(errors)
    created = user is None
    if created:
        user = User.objects.create_user(username=username, password=password)
    elif password is not None:
        user.set_password(password)
        user.save(update_fields=["password"])
    profile, _c = Profile.objects.get_or_create(user=user)
    profile.role, profile.all_areas = role, all_areas
    profile.save()
    profile.areas.set(area_objs)
    profile.organizations.set(org_objs)
    user.__dict__.pop("_sitroom_scope", None)
    _journal_access(
        actor, source, ("accounts", "user", str(user.pk)),
        described(gettext_noop("User %(user)s created as %(role)s") if created
                  else gettext_noop("User %(user)s updated: %(role)s"),
                  user=username, role=role),
        {"username": username, "role": role, "all_areas": all_areas,
         "areas": sorted(areas), "organizations": sorted(organizations),
         "password_changed": password is not None})
    return user, created


@transaction.atomic
def create_token(user, name: str, *, actor: Actor | Any, source: str) -> tuple[ApiToken, str]:
    """A new token for `user`. The secret is returned once and never stored."""
    actor = Actor.of(actor)
    if actor.user is not None and actor.user != user:
        require(actor, USERS_MANAGE)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput({"name": [_("must be 1 to 100 characters long")]})
    if not user.is_active:
        raise InvalidInput({"user": [_("is not active")]})
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(user=user, name=name, prefix=prefix, digest=_digest(secret))
    _journal_access(
        actor, source, ("accounts", "apitoken", str(token.pk)),
        described(gettext_noop("API token %(name)s created for %(user)s"),
                  name=name, user=user.get_username()),
        {"user": user.get_username(), "token": name, "prefix": prefix})
    return token, secret


@transaction.atomic
def revoke_token(token: ApiToken, *, actor: Actor | Any, source: str) -> None:
    actor = Actor.of(actor)
    if actor.user is not None and actor.user != token.user:
        require(actor, USERS_MANAGE)
    if token.revoked_at is not None:
        return
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    _journal_access(
        actor, source, ("accounts", "apitoken", str(token.pk)),
        described(gettext_noop("API token %(name)s of %(user)s revoked"),
                  name=token.name, user=token.user.get_username()),
        {"user": token.user.get_username(), "token": token.name, "prefix": token.prefix})


def _journal_access(actor: Actor, source: str, subject: tuple[str, str, str],
                    text: dict[str, Any], payload: dict[str, Any]) -> None:
    """Journal an account change (no area: only those who see everything see these)."""
    record_entry(actor=actor, source=source, checked=True, kind="access",
                 summary=text["summary"], subject=subject,
                 payload=payload | {"i18n": text["i18n"]})


def authenticate_token(secret: str) -> ApiToken | None:
    """The active token with this secret, or None. Constant-time by digest lookup."""
    if not secret or not secret.startswith(TOKEN_PREFIX):
        return None
    token = (ApiToken.objects.select_related("user")
             .filter(digest=_digest(secret), revoked_at=None).first())
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def token_actor(token: ApiToken) -> Actor:
    return Actor(user=token.user, token_name=token.name)
