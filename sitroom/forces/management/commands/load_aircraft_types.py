"""`sitroom load-aircraft-types`: load or update the aircraft types (reference data)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from sitroom.core.errors import InvalidInput, NotAllowed
from sitroom.core.management.operator import add_as_argument, operator
from sitroom.forces.services import load_aircraft_types


class Command(BaseCommand):
    help = _("Load (or update) the aircraft types with their sources from the shipped data "
            "file, or from --file. All or nothing; airframes available are kept.")

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=None,
                            help=_("a JSON file in the format of forces/data/aircraft_types.json"))
        add_as_argument(parser)

    def handle(self, *args, **options):
        try:
            n = load_aircraft_types(actor=operator(options.get("as_user")), source="cli",
                                    path=options["file"])
        except InvalidInput as exc:
            raise CommandError(exc.message()) from exc
        except NotAllowed as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{n} aircraft type(s) added or changed")
