"""`sitroom load-lifeline-components`: load or update the lifelines reference data."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from sitroom.core.management.operator import operator
from sitroom.lifelines.services import load_components


class Command(BaseCommand):
    help = _("Load (or update) the lifelines and their components from the shipped data file.")

    def handle(self, *args, **options):
        n = load_components(actor=operator(None), source="cli")
        self.stdout.write(f"{n} lifeline(s) or component(s) added or changed")
