"""`sitroom journal verify`: check the journal's hash chain end to end."""

import sys

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from sitroom.core.journal import Break, verify


class Command(BaseCommand):
    help = _("Journal maintenance. 'verify' exits non-zero at the first tampered entry.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help=_("verify the hash chain"))

    def handle(self, *args, action, **options):
        checked = 0
        for item in verify():
            if isinstance(item, Break):
                self.stderr.write(f"journal verify FAILED after {checked} good entries: "
                                  f"{item.problem}")
                sys.exit(1)
            checked = item
        self.stdout.write(f"journal verified: {checked} entries, chain intact")
