"""`sitroom load-aircraft-types`: load or update the aircraft types (reference data)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sitroom.core.actors import Actor
from sitroom.core.errors import InvalidInput
from sitroom.forces.services import load_aircraft_types


class Command(BaseCommand):
    help = ("Load (or update) the aircraft types with their sources from the shipped data "
            "file, or from --file. All or nothing; airframes available are kept.")

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=None,
                            help="a JSON file in the format of forces/data/aircraft_types.json")

    def handle(self, *args, **options):
        try:
            n = load_aircraft_types(actor=Actor.system_actor("cli"), source="cli",
                                    path=options["file"])
        except InvalidInput as exc:
            raise CommandError(exc.message()) from exc
        self.stdout.write(f"{n} aircraft type(s) added or changed")
