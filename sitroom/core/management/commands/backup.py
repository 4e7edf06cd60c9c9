"""`sitroom backup DIR`: the database and every stored document, into a new folder."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from sitroom.core.backup import BackupError, make_backup, prune


class Command(BaseCommand):
    help = _("Back up the database and the stored documents into a new folder under DIR, "
             "while the server runs.")

    def add_arguments(self, parser):
        parser.add_argument("dir", type=Path)
        parser.add_argument(
            "--keep", type=int, metavar="N",
            help=_("after the backup, remove the oldest backups in DIR beyond the newest N "
                   "(only the folders a backup made)"))

    def handle(self, *args, dir: Path, keep: int | None = None, **options):
        if keep is not None and keep < 1:
            raise CommandError(_("--keep: give at least 1 (the backup just made)"))
        try:
            folder, m = make_backup(dir)
            removed = prune(dir, keep) if keep is not None else []
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"backup written: {folder}\n"
            f"  database ({m.database}): {m.database_file}, sha256 {m.database_sha256}\n"
            f"  journal: {m.journal_entries} entries, last hash {m.journal_head}\n"
            f"  documents: {m.documents} files, {m.document_bytes} bytes")
        for old in removed:
            self.stdout.write(f"removed older backup: {old}")
