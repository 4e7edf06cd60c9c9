"""`sitroom user create|update NAME --role ROLE [--all-areas] [--area CODE ...]`: accounts
with a role and scope. `create` only makes new accounts; `update` only changes existing ones."""

import getpass
import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from sitroom.accounts.choices import Role
from sitroom.accounts.services import create_user, update_user
from sitroom.core.choices import JournalSource
from sitroom.core.errors import InvalidInput, NotAllowed
from sitroom.core.management.operator import add_as_argument, operator


class Command(BaseCommand):
    help = _("Create a user (the password comes from SITROOM_NEW_PASSWORD or a prompt), "
            "or change an existing user's role and scope.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        for name in ("create", "update"):
            p = sub.add_parser(name)
            p.add_argument("username")
            p.add_argument("--role", required=True, choices=Role.values)
            p.add_argument("--all-areas", action="store_true")
            p.add_argument("--area", action="append", default=[], help=_("area code (repeatable)"))
            p.add_argument("--organization", action="append", default=[])
            add_as_argument(p)

    def handle(self, *args, action, username, role, all_areas, area, organization,
               as_user=None, **options):
        actor = operator(as_user)
        exists = get_user_model().objects.filter(username=username).exists()
        # Checked before the password prompt, so that nobody types a password for nothing;
        # the services refuse the same cases for every other caller.
        if action == "create" and exists:
            raise CommandError(_(
                "user %(user)s already exists; nothing was changed. To change their role or "
                "scope: sitroom user update %(user)s --role ROLE …; to set a new password: "
                "sitroom changepassword %(user)s") % {"user": username})
        if action == "update" and not exists:
            raise CommandError(_(
                "no user named %(user)s; nothing was changed. To add one: "
                "sitroom user create %(user)s --role ROLE …") % {"user": username})
        scope = {"role": role, "all_areas": all_areas, "areas": area,
                 "organizations": organization, "actor": actor,
                 "source": JournalSource.CLI}
        try:
            if action == "create":
                password = os.environ.get("SITROOM_NEW_PASSWORD") or getpass.getpass(
                    _("Password: "))
                create_user(username, password=password, **scope)
                self.stdout.write(_("Created user %(user)s: %(role)s, %(scope)s.") % {
                    "user": username, "role": Role(role).label,
                    "scope": _scope_text(all_areas, area, organization)})
            else:
                _user, changes = update_user(username, **scope)
                self.stdout.write(_changes_text(username, changes, scope))
        except InvalidInput as exc:
            raise CommandError(exc.message()) from None
        except NotAllowed as exc:
            raise CommandError(str(exc)) from None


def _scope_text(all_areas: bool, areas: list[str], organizations: list[str]) -> str:
    """'all areas', 'areas KZ-ALA, KZ-MAN', 'no area'; then the organizations, if any."""
    if all_areas:
        text = _("all areas")
    elif areas:
        text = _("areas %(codes)s") % {"codes": ", ".join(sorted(set(areas)))}
    else:
        text = _("no area")
    if organizations:
        text += ", " + _("organizations %(codes)s") % {
            "codes": ", ".join(sorted(set(organizations)))}
    return text


def _changes_text(username: str, changes: dict, scope: dict) -> str:
    if not changes:
        return _("User %(user)s already has role %(role)s and scope %(scope)s; nothing "
                 "was changed.") % {
            "user": username, "role": Role(scope["role"]).label,
            "scope": _scope_text(scope["all_areas"], scope["areas"], scope["organizations"])}
    parts = []
    if "role" in changes:
        old, new = changes["role"]
        parts.append(_("role %(old)s → %(new)s") % {
            "old": Role(old).label if old in Role.values else "—", "new": Role(new).label})
    if changes.keys() & {"all_areas", "areas", "organizations"}:
        before = {key: changes.get(key, (scope[key], None))[0]
                  for key in ("all_areas", "areas", "organizations")}
        parts.append(_("scope %(old)s → %(new)s") % {
            "old": _scope_text(before["all_areas"], before["areas"], before["organizations"]),
            "new": _scope_text(scope["all_areas"], scope["areas"], scope["organizations"])})
    return _("Updated user %(user)s: %(changes)s; password unchanged.") % {
        "user": username, "changes": "; ".join(parts)}
