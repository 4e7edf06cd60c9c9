"""`sitroom backup DIR`: the database and every stored document, into a new folder."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from sitroom.core.backup import BackupError, make_backup


class Command(BaseCommand):
    help = _("Back up the database and the stored documents into a new folder under DIR, "
             "while the server runs.")

    def add_arguments(self, parser):
        parser.add_argument("dir", type=Path)

    def handle(self, *args, dir: Path, **options):
        try:
            folder, m = make_backup(dir)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"backup written: {folder}\n"
            f"  database ({m.database}): {m.database_file}, sha256 {m.database_sha256}\n"
            f"  journal: {m.journal_entries} entries, last hash {m.journal_head}\n"
            f"  documents: {m.documents} files, {m.document_bytes} bytes")
