"""`sitroom journal verify [--documents]`: check the journal's hash chain end to end, and
with --documents every stored document against what the journal recorded of it."""

import sys

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from sitroom.core import filestore
from sitroom.core.journal import Break, verify


class Command(BaseCommand):
    help = _("Journal maintenance. 'verify' exits non-zero at the first tampered entry.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        verify_parser = sub.add_parser("verify", help=_("verify the hash chain"))
        verify_parser.add_argument(
            "--documents", action="store_true",
            help=_("also check every stored document against the digest recorded for it"))

    def handle(self, *args, action, documents=False, **options):
        checked = 0
        for item in verify():
            if isinstance(item, Break):
                self.stderr.write(f"journal verify FAILED after {checked} good entries: "
                                  f"{item.problem}")
                sys.exit(1)
            checked = item
        self.stdout.write(f"journal verified: {checked} entries, chain intact")
        if documents:
            problems = [line for check in filestore.CHECKS for line in check()]
            for line in problems:
                self.stderr.write(f"document check FAILED: {line}")
            if problems:
                sys.exit(1)
            self.stdout.write("documents verified: every stored file matches its digest")
