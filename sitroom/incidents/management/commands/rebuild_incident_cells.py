"""`sitroom rebuild-incident-cells`: recount the map's per-cell counts from the incidents."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from sitroom.incidents.cells import rebuild


class Command(BaseCommand):
    help = _("Recount the incident map's grid-cell counts from the incidents themselves.")

    def handle(self, *args, **options):
        self.stdout.write(f"recounted {rebuild()} incident(s) into the map's grid cells")
