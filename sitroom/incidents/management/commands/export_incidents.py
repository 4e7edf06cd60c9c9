"""`sitroom export-incidents --format csv|xlsx|geojson|kml [--as USER]`: incidents, to a
file: every incident, or with `--as` exactly those that user may see.

Exports are reads: like the web and API exports they are not journalled.
"""

from datetime import datetime, time, timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from sitroom.core.management.operator import add_as_reader_argument, reader
from sitroom.core.models import Area
from sitroom.incidents.choices import IncidentStatus
from sitroom.incidents.exchange import EXPORT_FORMATS, export_chunks
from sitroom.incidents.models import IncidentType
from sitroom.incidents.queries import IncidentFilter


def moment(text: str, *, end: bool = False) -> datetime:
    """ISO 8601; without an offset, in the deployment's zone; a date alone is its start
    (or, with `end`, its last moment)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(_("%(value)r is not an ISO 8601 date or date and time")
                           % {"value": text}) from None
    if len(text) == 10 and end:
        value = datetime.combine(value.date() + timedelta(days=1), time()) \
            - timedelta(microseconds=1)
    if value.tzinfo is None:
        value = timezone.make_aware(value, timezone.get_default_timezone())
    return value


class Command(BaseCommand):
    help = _("Export incidents as CSV or XLSX (with a HXL hashtag row), GeoJSON or KML. "
            "Times are ISO 8601 with the offset of the deployment's zone. Without --as it "
            "exports every incident of every area (the system sees everything); with "
            "--as USER, only what that user may see.")

    def add_arguments(self, parser):
        parser.add_argument("--format", required=True, choices=EXPORT_FORMATS)
        parser.add_argument("--no-hxl", action="store_true",
                            help=_("leave out the HXL hashtag row (CSV, XLSX)"))
        parser.add_argument("--area", metavar="CODE", help=_("only this area and those in it"))
        parser.add_argument("--since", help=_("occurred at or after (ISO 8601 date or time)"))
        parser.add_argument("--until", help=_("occurred at or before (ISO 8601 date or time)"))
        parser.add_argument("--as-of", help=_("each incident as it stood at this moment"))
        parser.add_argument("--type", metavar="CODE",
                            help=_("only this incident type (e.g. riots) or sub-type "
                                   "(e.g. riots.mob_violence)"))
        parser.add_argument("--status", metavar="STATUS[,STATUS]",
                            help=_("only these statuses: %(codes)s")
                            % {"codes": ", ".join(IncidentStatus.values)})
        parser.add_argument("--documents", choices=("with", "without"),
                            help=_("only incidents with documents, or only those without"))
        parser.add_argument("-o", "--output", metavar="FILE", help=_("default: standard output"))
        add_as_reader_argument(parser)

    def handle(self, *args, format, no_hxl, area, since, until, as_of, output, as_user=None,
               type=None, status=None, documents=None, **options):
        actor = reader(as_user)
        statuses = [s for s in (status or "").split(",") if s]
        if bad := [s for s in statuses if s not in IncidentStatus.values]:
            raise CommandError(_("--status: unknown status %(code)r; expected one of: "
                                 "%(codes)s") % {"code": bad[0],
                                                  "codes": ", ".join(IncidentStatus.values)})
        kind = IncidentType.objects.filter(code=type).first() if type else None
        if type and kind is None:
            raise CommandError(_("--type: unknown incident type %(code)r") % {"code": type})
        flt = IncidentFilter(
            since=moment(since) if since else None,
            until=moment(until, end=True) if until else None,
            as_of=moment(as_of) if as_of else None, statuses=statuses,
            type=kind.code if kind and kind.parent_id is None else None,
            subtype=kind.code if kind and kind.parent_id is not None else None,
            documents=None if documents is None else documents == "with")
        if area:
            flt.area = Area.objects.filter(code=area).first()
            if flt.area is None:
                raise CommandError(_("no area with code %(code)r") % {"code": area})
            if actor.user is not None and not Area.objects.visible_to(actor.user).filter(
                    pk=flt.area.pk).exists():
                raise CommandError(_("--area: %(user)s may not see %(code)s; nothing was "
                                     "exported") % {"user": as_user, "code": area})
        chunks = export_chunks(format, actor, flt, hxl=not no_hxl)
        if output is None:
            if format == "xlsx":
                raise CommandError(_("an XLSX workbook is binary: name a file with -o FILE"))
            for chunk in chunks:
                self.stdout.write(chunk, ending="")
            return
        path = Path(output)
        try:
            if format == "xlsx":
                with path.open("wb") as out:
                    for chunk in chunks:
                        out.write(chunk)
            else:
                with path.open("w", encoding="utf-8", newline="") as out:
                    for chunk in chunks:
                        out.write(chunk)
        except OSError as exc:
            raise CommandError(_("cannot write %(file)s: %(error)s")
                               % {"file": output, "error": exc.strerror}) from None
        self.stderr.write(_("written to %(file)s") % {"file": output})
