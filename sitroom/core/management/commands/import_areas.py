"""`sitroom import-areas FILE`: attach boundary polygons from any GeoJSON to areas."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from sitroom.core.choices import AreaLevel, JournalSource
from sitroom.core.errors import InvalidInput
from sitroom.core.geo import import_areas
from sitroom.core.management.operator import operator


class Command(BaseCommand):
    help = _("Load boundaries from a GeoJSON FeatureCollection, matching features to areas by a "
            "code property or a name property. All or nothing.")

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--code-property", help=_("feature property holding the area code"))
        parser.add_argument("--name-property", default="name",
                            help=_("feature property holding the area name (default: name)"))
        parser.add_argument("--create", choices=AreaLevel.values, metavar="LEVEL",
                            help=_("create areas of this level for features that match none"))
        parser.add_argument("--parent", help=_("parent area code for --create"))

    def handle(self, *args, file, code_property, name_property, create, parent, **options):
        try:
            report = import_areas(file, code_property=code_property, name_property=name_property,
                                  actor=operator(None), source=JournalSource.CLI,
                                  create_level=create, create_parent=parent)
        except InvalidInput as exc:
            raise CommandError(_("nothing imported: %(problems)s")
                               % {"problems": exc.message()}) from None
        for line in report.lines():
            self.stdout.write(line)
