"""`sitroom user create NAME --role ROLE [--area CODE ...]`: accounts with a role and scope."""

import getpass
import os

from django.core.management.base import BaseCommand, CommandError

from sitroom.accounts.choices import Role
from sitroom.accounts.services import save_user
from sitroom.core.actors import Actor
from sitroom.core.choices import JournalSource
from sitroom.core.errors import InvalidInput


class Command(BaseCommand):
    help = ("Create or update a user. The password comes from SITROOM_NEW_PASSWORD or a prompt.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        for name in ("create", "update"):
            p = sub.add_parser(name)
            p.add_argument("username")
            p.add_argument("--role", required=True, choices=Role.values)
            p.add_argument("--all-areas", action="store_true")
            p.add_argument("--area", action="append", default=[], help="area code (repeatable)")
            p.add_argument("--organization", action="append", default=[])

    def handle(self, *args, action, username, role, all_areas, area, organization, **options):
        password = None
        if action == "create":
            password = os.environ.get("SITROOM_NEW_PASSWORD") or getpass.getpass("Password: ")
        try:
            save_user(username, role=role, password=password, all_areas=all_areas, areas=area,
                      organizations=organization, actor=Actor.system_actor("cli"),
                      source=JournalSource.CLI)
        except InvalidInput as exc:
            raise CommandError(exc.message()) from None
        self.stdout.write(f"{action}d user {username} ({role})")
