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


def _checked_access(username: str, role: str, areas: list[str],
                    organizations: list[str]) -> tuple[dict[str, list[str]], list, list]:
    """Problems with a user name, role and scope, and the scope's areas and organizations."""
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
    return errors, area_objs, org_objs


def access_of(user) -> dict[str, Any]:
    """A user's role and scope: role, all_areas, and the codes of areas and organizations."""
    profile = Profile.objects.filter(user=user).first()
    if profile is None:
        return {"role": None, "all_areas": False, "areas": [], "organizations": []}
    return {"role": profile.role, "all_areas": profile.all_areas,
            "areas": sorted(profile.areas.values_list("code", flat=True)),
            "organizations": sorted(profile.organizations.values_list("code", flat=True))}


def _set_access(user, role: str, all_areas: bool, area_objs: list, org_objs: list) -> None:
    profile, _c = Profile.objects.get_or_create(user=user)
    profile.role, profile.all_areas = role, all_areas
    profile.save()
    profile.areas.set(area_objs)
    profile.organizations.set(org_objs)
    user.__dict__.pop("_sitroom_scope", None)


@transaction.atomic
def create_user(username: str, *, role: str, password: str, all_areas: bool = False,
                areas: list[str] = (), organizations: list[str] = (),
                actor: Actor | Any, source: str, check_password: bool = True):
    """A new account with a role and scope. A name already taken is refused, whoever asks:
    changing an account is `update_user`'s work, so a re-typed `create` never replaces
    someone's password, role or scope."""
    actor = Actor.of(actor)
    require(actor, USERS_MANAGE)
    errors, area_objs, org_objs = _checked_access(username, role, areas, organizations)
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        errors["username"] = [_("a user named %(user)s already exists") % {"user": username}]
    if not password:
        errors["password"] = [_("is required for a new user")]
    elif check_password:
        try:
            validate_password(password)
        except ValidationError as exc:
            errors["password"] = list(exc.messages)
    if errors:
        raise InvalidInput(errors)
    user = User.objects.create_user(username=username, password=password)
    _set_access(user, role, all_areas, area_objs, org_objs)
    _journal_access(
        actor, source, ("accounts", "user", str(user.pk)),
        described(gettext_noop("User %(user)s created as %(role)s"), user=username,
                  role=Role(role).label),
        {"username": username, "role": role, "all_areas": all_areas,
         "areas": sorted(areas), "organizations": sorted(organizations),
         "password_changed": True})
    return user


@transaction.atomic
def update_user(username: str, *, role: str, all_areas: bool = False, areas: list[str] = (),
                organizations: list[str] = (), actor: Actor | Any, source: str):
    """Give an existing account this role and scope; its password is kept (Django's
    `changepassword` sets a new one). An unknown name is refused: accounts are made by
    `create_user`.

    Returns the user and what changed, {field: (before, after)} over role, all_areas,
    areas and organizations; nothing is written or journaled when nothing changes."""
    actor = Actor.of(actor)
    require(actor, USERS_MANAGE)
    errors, area_objs, org_objs = _checked_access(username, role, areas, organizations)
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        errors["username"] = [_("no user named %(user)s") % {"user": username}]
    if errors:
        raise InvalidInput(errors)
    before = access_of(user)
    after = {"role": role, "all_areas": all_areas, "areas": sorted(set(areas)),
             "organizations": sorted(set(organizations))}
    changes: dict[str, tuple[Any, Any]] = {
        key: (before[key], after[key]) for key in after if before[key] != after[key]}
    if not changes:
        return user, changes
    _set_access(user, role, all_areas, area_objs, org_objs)
    _journal_access(
        actor, source, ("accounts", "user", str(user.pk)),
        described(gettext_noop("User %(user)s updated: %(role)s"), user=username,
                  role=Role(role).label),
        after | {"username": username, "password_changed": False,
                 "was": {key: old for key, (old, _new) in changes.items()}})
    return user, changes


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


TOKEN_REFERENCE_MIN = 4


def find_token(reference: str) -> ApiToken:
    """The token someone means by `reference`: its prefix as `token list` shows it, the
    start of the token as printed (`srt_c52cf508`, or a shorter start of at least
    TOKEN_REFERENCE_MIN characters after `srt_`), or the whole token, matched by its digest
    as at sign-in. A start that fits several tokens is refused, naming them."""
    text = (reference or "").strip()
    rest = text.removeprefix(TOKEN_PREFIX)
    if text.startswith(TOKEN_PREFIX) and "_" in rest:
        token = ApiToken.objects.select_related("user").filter(digest=_digest(text)).first()
        if token is None:
            raise InvalidInput({"token": [_("no token has this secret")]})
        return token
    start = rest.lower()
    if len(start) < TOKEN_REFERENCE_MIN:
        raise InvalidInput({"prefix": [
            _("give at least %(count)d characters of the prefix (as `token list` shows "
              "it), not %(reference)r") % {"count": TOKEN_REFERENCE_MIN, "reference": text}]})
    tokens = ApiToken.objects.select_related("user").order_by("prefix")
    exact = tokens.filter(prefix=start).first()
    if exact is not None:
        return exact
    candidates = list(tokens.filter(prefix__startswith=start)[:11])
    if not candidates:
        raise InvalidInput({"prefix": [_("no token %(reference)r") % {"reference": text}]})
    if len(candidates) > 1:
        names = ", ".join(f"{t.prefix} ({t.user.get_username()}/{t.name})"
                          for t in candidates[:10])
        raise InvalidInput({"prefix": [
            _("%(reference)r fits more than one token: %(tokens)s; give more of the prefix")
            % {"reference": text, "tokens": names + (", …" if len(candidates) > 10 else "")}]})
    return candidates[0]


@transaction.atomic
def revoke_token(token: ApiToken, *, actor: Actor | Any, source: str) -> None:
    """Revoke `token` (nothing happens if it already is)."""
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


def bearer_token(request) -> tuple[bool, ApiToken | None]:
    """Whether the request sends `Authorization: Bearer …`, and the active token it names
    (None when the token is unknown, revoked or of an inactive user).

    For the doors outside the ninja API (live stream, OGC API) that take a token as well as
    the browser session: a request that sends a token is judged by it alone.
    """
    scheme, _sep, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False, None
    return True, authenticate_token(secret.strip())


def token_actor(token: ApiToken) -> Actor:
    return Actor(user=token.user, token_name=token.name)
