"""`sitroom import-incidents FILE`: incidents from a CSV or XLSX file (ours or ACLED's)."""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from sitroom.core.choices import JournalSource
from sitroom.core.errors import InvalidInput, NotAllowed
from sitroom.core.management.operator import add_as_argument, operator
from sitroom.incidents.exchange import IMPORT_FORMATS, import_incidents


class Command(BaseCommand):
    help = _("Import incidents from a CSV or XLSX file whose first row names the columns "
            "(as in the CSV export, or ACLED's). Every row is checked; nothing is written "
            "if a row has a problem, unless --skip-invalid. Re-importing adds nothing.")

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--skip-invalid", action="store_true",
                            help=_("write the good rows and report the others"))
        parser.add_argument("--format", choices=IMPORT_FORMATS,
                            help=_("default: from the file name (or its content)"))
        add_as_argument(parser)

    def handle(self, *args, file, skip_invalid, format, as_user=None, **options):
        actor = operator(as_user)
        show_progress = self.stderr.isatty()

        def progress(rows: int) -> None:
            if show_progress:
                self.stderr.write("\r" + _("%(n)d row(s) read") % {"n": rows}, ending="")

        try:
            report = import_incidents(file, actor=actor,
                                      source=JournalSource.IMPORT, fmt=format,
                                      skip_invalid=skip_invalid, progress=progress)
        except InvalidInput as exc:
            raise CommandError(_("nothing imported: %(problem)s")
                               % {"problem": exc.message()}) from None
        except NotAllowed as exc:
            raise CommandError(_("nothing imported: %(problem)s")
                               % {"problem": exc}) from None
        finally:
            if show_progress:
                self.stderr.write("")
        for line in report.lines():
            self.stdout.write(line)
        if not report.written:
            raise CommandError(_("nothing imported: %(n)d row(s) have problems")
                               % {"n": report.invalid_rows})
        sys.stdout.flush()
