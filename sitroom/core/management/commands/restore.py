"""`sitroom restore BACKUP [--force]`: put a backup back, then verify it."""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils.translation import gettext as _

from sitroom.core.backup import BackupError, restore, restore_postgresql


class Command(BaseCommand):
    help = _("Restore a backup made by 'sitroom backup' (stop the server first). The "
             "database there before is moved aside, never deleted.")

    def add_arguments(self, parser):
        parser.add_argument("backup", type=Path)
        parser.add_argument("--force", action="store_true",
                            help=_("restore over an existing database (moved aside)"))

    def handle(self, *args, backup: Path, force: bool, **options):
        db = settings.DATABASES["default"]
        connection.close()
        try:
            if connection.vendor == "sqlite":
                aside = restore(backup, Path(db["NAME"]), force=force)
            else:
                aside = restore_postgresql(backup, db, force=force)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        if aside is not None:
            self.stdout.write(f"the database before the restore is kept as {aside}")
        self.stdout.write(f"restored from {backup}; verifying")
        # exits non-zero, naming the problem, if the restored journal or files are not intact
        call_command("journal", "verify", "--documents", stdout=self.stdout,
                     stderr=self.stderr)
