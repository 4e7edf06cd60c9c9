"""Incident files: CSV/XLSX import (ours and ACLED's columns), HXL-tagged CSV/XLSX, GeoJSON
and KML exports, the commands and the API."""

import csv
import importlib.resources
import io
import json
from datetime import UTC, datetime

import hxl
import pytest
from asgiref.sync import async_to_sync
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import AsyncClient, Client
from django.urls import path
from lxml import etree
from ninja import NinjaAPI
from openpyxl import Workbook, load_workbook

from sitroom.api import errors as api_errors
from sitroom.api.auth import AUTH
from sitroom.core.actors import Actor
from sitroom.core.errors import InvalidInput, NotAllowed
from sitroom.core.models import JournalEntry
from sitroom.core.services import set_area_boundary
from sitroom.incidents import services
from sitroom.incidents.api_exchange import router
from sitroom.incidents.exchange import (
    export_chunks,
    import_incidents,
    parse_when,
    records,
)
from sitroom.incidents.models import Incident
from sitroom.incidents.queries import IncidentFilter

T = datetime.fromisoformat
CLI = Actor.system_actor("cli")
HEADER = ["id", "type", "subtype", "title", "description", "occurred_at", "lat", "lon",
          "area", "actors", "fatalities", "injured", "sources", "tags", "severity",
          "estimate"]
HXL_TAGS = ["#event+id", "#meta+id", "#event+type", "#event+subtype", "#description+title",
            "#description+notes", "#date+occurred", "#date+reported", "#geo+lat", "#geo+lon",
            "#country+code", "#adm1+code", "#loc+code", "#loc+name", "#group+name",
            "#affected+killed", "#affected+injured", "#severity", "#status",
            "#meta+estimate", "#meta+source", "#meta+tags"]

# The API under test: this router on its own, with the project's auth and problem details.
_api = NinjaAPI(auth=AUTH, urls_namespace="exchange-tests", docs_url=None)
api_errors.install(_api)
_api.add_router("/", router)
urlpatterns = [path("api/v1/", _api.urls)]


def row(**kw):
    values = {"id": "", "type": "riots", "subtype": "", "title": "Crowd at the akimat",
              "description": "", "occurred_at": "2022-01-05T10:00:00+06:00", "lat": "",
              "lon": "", "area": "KZ751110", "actors": "", "fatalities": "", "injured": "",
              "sources": "", "tags": "", "severity": "", "estimate": ""}
    values.update(kw)
    return [values[h] for h in HEADER]


def write_csv(tmp_path, rows, header=HEADER, name="incidents.csv", bom=True):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    file = tmp_path / name
    file.write_bytes(("\ufeff" if bom else "").encode() + out.getvalue().encode())
    return file


def report(world, who="duty", **kw):
    kw.setdefault("type", "riots")
    kw.setdefault("title", "Crowd storms the akimat")
    kw.setdefault("occurred_at", T("2022-01-05T10:00:00+06:00"))
    kw.setdefault("area", "KZ751110")
    return services.report_incident(actor=world.users[who], source="web", **kw)[0]


def export_text(fmt, actor, flt=None, **kw):
    return "".join(export_chunks(fmt, actor, flt, **kw))


def export_file(tmp_path, fmt, actor, flt=None, **kw):
    file = tmp_path / f"export.{fmt}"
    chunks = export_chunks(fmt, actor, flt, **kw)
    if fmt == "xlsx":
        file.write_bytes(b"".join(chunks))
    else:
        file.write_text("".join(chunks), encoding="utf-8", newline="")
    return file


@pytest.fixture
def exchange_api(settings):
    settings.ROOT_URLCONF = __name__


# --- Import ---------------------------------------------------------------------------------

def test_a_bad_row_writes_nothing_and_the_report_names_row_and_column(sec_world, tmp_path):
    file = write_csv(tmp_path, [
        row(title="Shots near the square"),
        row(occurred_at="5 Jan, evening"),
        row(area="ATLANTIS", fatalities="many"),
        row(subtype="protests.peaceful_protest", severity="9"),
        row(occurred_at="yesterday", severity="9", type=""),
    ])
    entries = JournalEntry.objects.count()
    result = import_incidents(file, actor=CLI, source="import")
    assert not result.written and result.created == 0
    problems = {(p.row, p.field) for p in result.problems}
    # Every problem of a row at once: what could not be read, and the rules of the cells
    # that could (row 4: the number and the unknown area; row 6: date, severity, type).
    assert problems == {(3, "occurred_at"), (4, "fatalities"), (4, "area"), (5, "subtype"),
                        (5, "severity"), (6, "occurred_at"), (6, "severity"), (6, "type")}
    assert "is not a date and time" in next(p.problem for p in result.problems if p.row == 3)
    assert "ATLANTIS" in next(p.problem for p in result.problems if p.field == "area")
    assert result.invalid_rows == 4 and "nothing imported" in result.lines()[-1]
    assert Incident.objects.count() == 0 and JournalEntry.objects.count() == entries


def test_skip_invalid_writes_the_good_rows_and_reimport_adds_nothing(sec_world, tmp_path):
    file = write_csv(tmp_path, [
        row(id="ext-1", title="Shots near the square", actors="Protesters; Police",
            sources="https://example.org/a;Vlast.kz", tags="akimat", fatalities="2",
            injured="10", severity="4", estimate="true", lat="43.25", lon="76.91"),
        row(id="ext-2", area="ATLANTIS"),
        row(id="ext-3", title="Looting on Abylai Khan avenue", type="strategic_developments",
            subtype="strategic_developments.looting", area="KZ-ALA"),
    ])
    result = import_incidents(file, actor=CLI, source="import", skip_invalid=True)
    assert result.written and (result.created, result.invalid_rows) == (2, 1)
    assert [(p.row, p.field) for p in result.problems] == [(3, "area")]
    inc = Incident.objects.get(external_id="ext-1")
    assert (inc.actors, inc.sources, inc.tags) == (
        ["Protesters", "Police"], ["https://example.org/a", "Vlast.kz"], ["akimat"])
    assert (inc.fatalities, inc.injured, inc.severity, inc.estimate) == (2, 10, 4, True)
    assert (inc.lat, inc.lon, inc.area.code, inc.reported_by) == (43.25, 76.91, "KZ751110",
                                                                  "system:cli")
    assert inc.occurred_at == T("2022-01-05T04:00:00+00:00")
    journal = JournalEntry.objects.filter(subject_id=str(inc.uid)).get()
    assert journal.source == "import"

    again = import_incidents(file, actor=CLI, source="import", skip_invalid=True)
    assert (again.created, again.existing, again.invalid_rows) == (0, 2, 1)
    assert Incident.objects.count() == 2


def test_the_services_own_checks_are_reported_by_row_across_batches(sec_world, tmp_path):
    file = write_csv(tmp_path, [
        row(), row(),
        row(title=""),
        row(),
        row(type="protests", subtype="riots.mob_violence", occurred_at="2099-01-01"),
        row(lat="43.2"),
    ])
    result = import_incidents(file, actor=CLI, source="import", batch_size=2)
    found = sorted((p.row, p.field) for p in result.problems)
    assert found == [(4, "title"), (6, "occurred_at"), (6, "subtype"), (7, "lon")]
    assert Incident.objects.count() == 0


def test_an_hxl_row_under_the_header_is_skipped_and_dates_alone_are_noon(sec_world, tmp_path):
    tags = ["#event+id", "#event+type", "#event+subtype", "#description+title",
            "#description", "#date+occurred", "#geo+lat", "#geo+lon", "#loc+code",
            "#group+name", "#affected+killed", "#affected+injured", "#meta+source",
            "#meta+tags", "#severity", "#meta+estimate"]
    file = write_csv(tmp_path, [tags, row(id="a", occurred_at="2022-01-06"),
                                row(id="b", occurred_at="07-01-2022", tags="curfew")])
    result = import_incidents(file, actor=CLI, source="import")
    assert result.written and result.created == 2, result.lines()
    assert any("HXL" in note for note in result.notes)
    a, b = Incident.objects.get(external_id="a"), Incident.objects.get(external_id="b")
    assert a.occurred_at == T("2022-01-06T12:00:00+06:00") and a.tags == ["time-estimated"]
    assert b.occurred_at == T("2022-01-07T12:00:00+06:00")
    assert b.tags == ["curfew", "time-estimated"]


def test_parse_when_reads_iso_and_acled_dates():
    assert parse_when("2022-01-05T14:30:00+06:00") == (T("2022-01-05T14:30:00+06:00"), False)
    assert parse_when("2022-01-05T08:30:00Z") == (T("2022-01-05T08:30:00+00:00"), False)
    assert parse_when("2022-01-05") == (T("2022-01-05T12:00:00+06:00"), True)
    assert parse_when("05-01-2022") == (T("2022-01-05T12:00:00+06:00"), True)
    assert parse_when("05 January 2022") == (T("2022-01-05T12:00:00+06:00"), True)
    assert parse_when(datetime(2022, 1, 5, 14, 30)) == (T("2022-01-05T14:30:00+06:00"), False)
    # A date and time without an offset, as a spreadsheet saves it: the deployment's zone.
    assert parse_when("2022-01-05 14:30") == (T("2022-01-05T14:30:00+06:00"), False)
    for bad, message in (("31-02-2022", "calendar"),
                         ("yesterday", "ISO 8601"), ("", "empty")):
        with pytest.raises(ValueError, match=message):
            parse_when(bad)


ACLED_COLUMNS = [
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type",
    "sub_event_type", "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2",
    "inter2", "interaction", "civilian_targeting", "iso", "region", "country", "admin1",
    "admin2", "admin3", "location", "latitude", "longitude", "geo_precision", "source",
    "source_scale", "notes", "fatalities", "tags", "timestamp"]


def acled(**kw):
    values = dict.fromkeys(ACLED_COLUMNS, "")
    values.update({"year": "2022", "time_precision": "1", "iso": "398",
                   "region": "Central Asia", "country": "Kazakhstan", "admin1": "Almaty",
                   "location": "Almaty", "geo_precision": "1", "timestamp": "1642000000"})
    values.update(kw)
    return [values[c] for c in ACLED_COLUMNS]


def _square(lon0, lat0, lon1, lat1):
    return {"type": "Polygon", "coordinates": [[[lon0, lat0], [lon1, lat0], [lon1, lat1],
                                                [lon0, lat1], [lon0, lat0]]]}


@pytest.fixture
def boundaries(sec_world):
    system = Actor.system_actor("tests")
    set_area_boundary(sec_world.areas["KZ-ALA"], _square(76.7, 43.1, 77.2, 43.45),
                      boundary_source="tests", actor=system, source="cli")
    set_area_boundary(sec_world.areas["KZ751110"], _square(76.85, 43.22, 76.95, 43.28),
                      boundary_source="tests", actor=system, source="cli")
    return sec_world


def test_an_acled_file_imports_with_its_own_column_names(boundaries, tmp_path):
    file = write_csv(tmp_path, header=ACLED_COLUMNS, rows=[
        acled(event_id_cnty="KAZ1001", event_date="05-01-2022", disorder_type="Demonstrations",
              event_type="Protests", sub_event_type="Peaceful protest",
              actor1="Protesters (Kazakhstan)", assoc_actor_1="Labor Group (Kazakhstan)",
              actor2="Police Forces of Kazakhstan (2019-)", latitude="43.2389",
              longitude="76.8897", source="Reuters; Vlast.kz", notes="Thousands gathered.",
              fatalities="0", tags="crowd size=thousands"),
        acled(event_id_cnty="KAZ1002", event_date="2022-01-06", event_type="Riots",
              sub_event_type="Mob violence", actor1="Rioters (Kazakhstan)",
              location="Almaty - Turksib", latitude="43.34", longitude="77.0",
              source="Azattyq", fatalities="3"),
    ])
    result = import_incidents(file, actor=CLI, source="import")
    assert result.written and result.created == 2, result.lines()
    protest = Incident.objects.get(external_id="KAZ1001")
    assert (protest.type.code, protest.subtype.code) == ("protests", "protests.peaceful_protest")
    assert protest.title == "Peaceful protest — Almaty"
    assert protest.description == "Thousands gathered."
    assert protest.actors == ["Protesters (Kazakhstan)", "Labor Group (Kazakhstan)",
                              "Police Forces of Kazakhstan (2019-)"]
    assert protest.sources == ["Reuters", "Vlast.kz"]
    assert protest.tags == ["crowd size=thousands", "time-estimated"]
    assert protest.occurred_at == T("2022-01-05T12:00:00+06:00")
    assert protest.area.code == "KZ751110"  # found from the point
    riot = Incident.objects.get(external_id="KAZ1002")
    assert (riot.subtype.code, riot.fatalities, riot.area.code) == (
        "riots.mob_violence", 3, "KZ-ALA")
    assert any("year" in n and "timestamp" in n for n in result.notes)
    assert import_incidents(file, actor=CLI, source="import").created == 0


def test_a_user_may_import_only_where_they_may_report(sec_world, tmp_path):
    file = write_csv(tmp_path, [row(id="in"), row(id="out", area="KZ-MAN")])
    result = import_incidents(file, actor=sec_world.users["reporter"], source="import",
                              skip_invalid=True)
    assert result.created == 1
    assert [(p.row, p.field) for p in result.problems] == [(3, "area")]
    with pytest.raises(NotAllowed):
        import_incidents(file, actor=sec_world.users["viewer"], source="import")


def test_files_that_cannot_be_read_are_refused_as_a_whole(sec_world, tmp_path):
    missing = write_csv(tmp_path, [["x"]], header=["title", "description"], name="m.csv")
    with pytest.raises(InvalidInput, match="has no column type, occurred_at"):
        import_incidents(missing, actor=CLI, source="import")
    huge = tmp_path / "h.csv"
    huge.write_text(",".join(HEADER) + "\n" + "x" * 200_000 + "\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"not a readable CSV file \(line 2: field larger"):
        import_incidents(huge, actor=CLI, source="import")
    not_xlsx = tmp_path / "n.xlsx"
    not_xlsx.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(InvalidInput, match="not an XLSX workbook"):
        import_incidents(not_xlsx, actor=CLI, source="import")


def test_a_semicolon_separated_file_without_bom_is_read(sec_world, tmp_path):
    file = tmp_path / "ru.csv"
    file.write_text("type;title;occurred_at;area;lat;lon;actors\n"
                    "riots;Беспорядки у акимата;05.01.2022;KZ751110;43,25;76,91;"
                    "\"Полиция;Протестующие\"\n", encoding="utf-8")
    result = import_incidents(file, actor=CLI, source="import")
    assert result.created == 1, result.lines()
    inc = Incident.objects.get()
    assert inc.title == "Беспорядки у акимата" and inc.actors == ["Полиция", "Протестующие"]
    assert (inc.lat, inc.lon) == (43.25, 76.91)


def test_the_import_command_prints_the_report_and_fails_without_skip_invalid(
        sec_world, tmp_path, capsys):
    file = write_csv(tmp_path, [row(id="c1"), row(id="c2", occurred_at="5th of January")])
    with pytest.raises(CommandError, match="nothing imported: 1 row"):
        call_command("import_incidents", str(file))
    out = capsys.readouterr().out
    assert "row 3, occurred_at: is not a date and time" in out
    assert Incident.objects.count() == 0
    call_command("import_incidents", str(file), "--skip-invalid")
    assert "1 incident(s) added" in capsys.readouterr().out
    with pytest.raises(CommandError, match="cannot be read"):
        call_command("import_incidents", str(tmp_path / "nope.csv"))


# --- Exports --------------------------------------------------------------------------------

@pytest.fixture
def incidents(sec_world):
    """Three incidents in Almaty (one without a point) and one in Mangystau."""
    a = report(sec_world, title="=HYPERLINK(\"http://evil\")", subtype="riots.mob_violence",
               description="Shots heard.\nCrowd dispersed.", lat=43.2389, lon=76.8897,
               actors=["Rioters", "Police"], fatalities=2, injured=11, severity=4,
               sources=["https://example.org/a"], tags=["akimat", "-curfew"], estimate=True)
    b = report(sec_world, title="Пожар в здании акимата", area="KZ-ALA",
               occurred_at=T("2022-01-05T18:30:00+06:00"))
    c = report(sec_world, title="Airport seized", type="battles", lat=43.35528, lon=77.04472,
               area="KZ751910", occurred_at=T("2022-01-05T16:00:00+06:00"))
    d = report(sec_world, title="Strike at Zhanaozen", type="protests", lat=43.34,
               lon=52.86, area="KZ-MAN", occurred_at=T("2022-01-02T09:00:00+06:00"))
    return {"a": a, "b": b, "c": c, "d": d}


def _csv_rows(text):
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_csv_export_has_header_hxl_row_offsets_and_formula_protection(incidents):
    text = export_text("csv", CLI)
    assert text.startswith("id,uid,type,") and "\r\n" in text
    rows = _csv_rows(text)
    assert rows[0][:7] == ["id", "uid", "type", "subtype", "title", "description",
                           "occurred_at"]
    assert rows[1] == HXL_TAGS
    by_title = {r[4]: dict(zip(rows[0], r, strict=True)) for r in rows[2:]}
    a = by_title["'=HYPERLINK(\"http://evil\")"]
    assert a["occurred_at"] == "2022-01-05T10:00:00+06:00"
    assert a["tags"] == "akimat; -curfew"
    assert (a["lat"], a["lon"], a["fatalities"], a["estimate"]) == ("43.2389", "76.8897", "2",
                                                                   "true")
    assert (a["country"], a["admin1"], a["area"], a["area_name"]) == (
        "KZ", "KZ-ALA", "KZ751110", "Almaly")
    assert a["id"] == str(incidents["a"].uid) and a["status"] == "reported"
    assert by_title["Пожар в здании акимата"]["lat"] == ""
    assert len(_csv_rows(export_text("csv", CLI, hxl=False))) == 5


def test_csv_and_xlsx_exports_read_back_with_libhxl(incidents, tmp_path):
    for fmt in ("csv", "xlsx"):
        file = export_file(tmp_path, fmt, CLI)
        data = hxl.data(str(file), hxl.InputOptions(allow_local=True))
        assert data.display_tags == HXL_TAGS
        assert data.headers[:3] == ["id", "uid", "type"]
        rows = list(data)
        assert len(rows) == 4
        killed = sorted(r.get("#affected+killed") for r in rows if r.get("#affected+killed"))
        assert [int(float(k)) for k in killed] == [2]
        assert {r.get("#loc+code") for r in rows} == {"KZ751110", "KZ-ALA", "KZ751910",
                                                      "KZ-MAN"}
        assert sorted(r.get("#date+occurred") for r in rows)[0] == "2022-01-02T09:00:00+06:00"
        problems = []
        hxl.schema(callback=problems.append).validate(
            hxl.data(str(file), hxl.InputOptions(allow_local=True)))
        errors = [p for p in problems if p.rule.severity == "error"]
        assert not errors, [(p.message, p.value) for p in errors]


def test_xlsx_round_trip(incidents, tmp_path):
    file = export_file(tmp_path, "xlsx", CLI)
    book = load_workbook(file, read_only=True)
    sheet_rows = list(book.worksheets[0].iter_rows(values_only=True))
    book.close()
    assert list(sheet_rows[1]) == HXL_TAGS
    by_title = {r[4]: dict(zip(sheet_rows[0], r, strict=False)) for r in sheet_rows[2:]}
    airport = by_title["Airport seized"]
    assert (airport["lat"], airport["severity"]) == (43.35528, 2)
    assert airport["occurred_at"] == "2022-01-05T16:00:00+06:00"
    assert by_title["'=HYPERLINK(\"http://evil\")"]["estimate"] is True

    # Importing the export again adds nothing: its ids are the incidents' own.
    again = import_incidents(file, actor=CLI, source="import")
    assert (again.written, again.created, again.existing) == (True, 0, 4)

    # Under new ids it makes faithful copies.
    book = load_workbook(file)
    sheet = book.worksheets[0]
    for number in range(3, sheet.max_row + 1):
        sheet.cell(number, 1).value = f"copy-{number}"
    book.save(file)
    copied = import_incidents(file, actor=CLI, source="import")
    assert copied.created == 4, copied.lines()
    fields = ["type_id", "subtype_id", "title", "description", "occurred_at", "lat", "lon",
              "area_id", "actors", "fatalities", "injured", "sources", "tags", "severity",
              "estimate"]
    for original in incidents.values():
        twin = Incident.objects.exclude(pk=original.pk).get(title=original.title)
        assert twin.external_id.startswith("copy-")
        for name in fields:
            assert getattr(twin, name) == getattr(original, name), name


def test_geojson_export_carries_coordinates_and_properties(incidents):
    data = json.loads(export_text("geojson", CLI))
    assert data["type"] == "FeatureCollection" and len(data["features"]) == 4
    by_title = {f["properties"]["title"]: f for f in data["features"]}
    airport = by_title["Airport seized"]
    assert airport["geometry"] == {"type": "Point", "coordinates": [77.04472, 43.35528]}
    assert airport["id"] == str(incidents["c"].uid)
    props = by_title["=HYPERLINK(\"http://evil\")"]["properties"]
    assert props["actors"] == ["Rioters", "Police"] and props["fatalities"] == 2
    assert props["subtype"] == "riots.mob_violence" and props["area"] == "KZ751110"
    assert props["occurred_at"] == "2022-01-05T10:00:00+06:00"
    assert by_title["Пожар в здании акимата"]["geometry"] is None


def _kml_schema():
    xsd = importlib.resources.files("pykml") / "schemas" / "ogckml22.xsd"
    return etree.XMLSchema(etree.parse(str(xsd)))


def test_database_formatted_exports_equal_the_python_formatted_ones(sec_world, incidents):
    """CSV and GeoJSON of the current state are written by the database (exchange.fast):
    the same bytes (CSV) and values (GeoJSON) as the general writers give, over awkward
    text, both UTC offsets of Almaty (+06:00 until March 2024, then +05:00), microseconds,
    coordinates with 17 significant digits, a user's scope and a filter, in Russian."""
    from django.utils import translation

    from sitroom.incidents.exchange.exporter import csv_chunks, geojson_chunks

    report(sec_world, title='a, "quoted" title', description="line one\r\nline two",
           external_id="=ext-1", occurred_at=T("2024-02-29T23:59:59.250001+06:00"),
           lat=43.25671234567891, lon=76.12345678901235, actors=["Ақсай", 'x "y", z'],
           sources=["+7 727", "a,b"], tags=["\ttab"], fatalities=0, injured=0)
    report(sec_world, title=" leading space", description="@mention\ttab", area="KZ-MAN",
           occurred_at=T("2024-03-01T00:30:00+05:00"), lat=43.0, lon=52.5, severity=5,
           external_id="plain-2")
    report(sec_world, title="-minus", description="\rcarriage", area="KZ-ALA",
           occurred_at=T("2021-12-31T23:59:59.000001+06:00"), tags=["Ы", "ы"])
    duty = Actor(user=sec_world.users["duty"])
    outsider = Actor(user=sec_world.users["outsider"])
    cases = [(CLI, None), (duty, None), (outsider, None),
             (CLI, IncidentFilter(area=None, statuses=["reported"], q="a"))]
    for language in ("en", "ru"):
        with translation.override(language):
            for actor, flt in cases:
                general = "".join(csv_chunks(records(actor, flt)))
                assert export_text("csv", actor, flt) == general
                assert export_text("csv", actor, flt, hxl=False) == "".join(
                    csv_chunks(records(actor, flt), hxl=False))
                assert json.loads(export_text("geojson", actor, flt)) == json.loads(
                    "".join(geojson_chunks(records(actor, flt))))
    text = export_text("csv", CLI)
    assert "2024-02-29T23:59:59.250001+06:00" in text and "2024-03-01T00:30:00+05:00" in text
    assert '"\'=ext-1"' not in text and "'=ext-1" in text and "43.25671234567891" in text
    assert "2021-12-31T23:59:59.000001+06:00" in text


def test_kml_export_validates_against_the_ogc_schema(incidents):
    text = export_text("kml", CLI)
    doc = etree.fromstring(text.encode())
    schema = _kml_schema()
    assert schema.validate(doc), schema.error_log
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    marks = doc.findall(".//k:Placemark", ns)
    assert len(marks) == 4
    airport = next(m for m in marks if m.findtext("k:name", namespaces=ns) == "Airport seized")
    assert airport.findtext("k:Point/k:coordinates", namespaces=ns) == "77.04472,43.35528"
    assert airport.findtext("k:TimeStamp/k:when", namespaces=ns) == "2022-01-05T16:00:00+06:00"


def test_exports_hold_only_what_the_user_may_see(sec_world, incidents):
    outsider = Actor(user=sec_world.users["outsider"])  # an analyst for Mangystau only
    assert [r["title"] for r in records(outsider)] == ["Strike at Zhanaozen"]
    assert [r[4] for r in _csv_rows(export_text("csv", outsider))[2:]] == [
        "Strike at Zhanaozen"]
    features = json.loads(export_text("geojson", outsider))["features"]
    assert [f["properties"]["area"] for f in features] == ["KZ-MAN"]
    assert export_text("kml", outsider).count("<Placemark") == 1
    reporter = Actor(user=sec_world.users["reporter"])  # Almaty only
    assert {r["area"] for r in records(reporter)} == {"KZ751110", "KZ-ALA", "KZ751910"}


def test_an_export_as_of_a_moment_gives_the_incidents_as_they_stood(sec_world, incidents):
    from django.utils import timezone

    before = timezone.now()
    duty = sec_world.users["duty"]
    duplicate = report(sec_world, title="Airport taken by armed men", type="battles",
                       area="KZ751910", fatalities=5, sources=["https://example.org/b"])
    services.merge(incidents["c"], duplicate, actor=duty, source="web")
    services.set_status([incidents["c"]], "verified", actor=duty, source="web")
    uid = str(incidents["c"].uid)
    now = {r["id"]: r for r in records(CLI)}[uid]
    assert (now["fatalities"], now["sources"], now["status"]) == (
        5, ["https://example.org/b"], "verified")
    then = {r["id"]: r for r in records(CLI, IncidentFilter(as_of=before))}
    assert (then[uid]["fatalities"], then[uid]["sources"], then[uid]["status"]) == (
        None, [], "reported")
    assert str(duplicate.uid) not in then  # not yet known


def test_the_export_command_writes_each_format(incidents, tmp_path, capsys):
    out = tmp_path / "a.geojson"
    call_command("export_incidents", "--format", "geojson", "--area", "KZ-ALA",
                 "--since", "2022-01-05", "--until", "2022-01-05", "-o", str(out))
    titles = {f["properties"]["title"] for f in json.loads(out.read_text())["features"]}
    assert titles == {"=HYPERLINK(\"http://evil\")", "Пожар в здании акимата",
                      "Airport seized"}
    call_command("export_incidents", "--format", "csv", "--no-hxl", "--area", "KZ-MAN")
    rows = _csv_rows(capsys.readouterr().out)
    assert rows[0][0] == "id" and [r[4] for r in rows[1:]] == ["Strike at Zhanaozen"]
    call_command("export_incidents", "--format", "xlsx", "-o", str(tmp_path / "a.xlsx"))
    assert load_workbook(tmp_path / "a.xlsx").worksheets[0].max_row == 6
    with pytest.raises(CommandError, match="no area with code 'XX'"):
        call_command("export_incidents", "--format", "kml", "--area", "XX")
    # The list's other filters: type or sub-type, statuses, documents.
    services.set_status([incidents["c"]], "verified", actor=CLI, source="cli")

    def titles(*options: str) -> list[str]:
        call_command("export_incidents", "--format", "csv", "--no-hxl", *options)
        return sorted(r[4] for r in _csv_rows(capsys.readouterr().out)[1:])

    assert titles("--type", "battles") == ["Airport seized"]
    assert titles("--type", "riots.mob_violence") == ["'=HYPERLINK(\"http://evil\")"]
    assert titles("--status", "verified") == ["Airport seized"]
    assert titles("--status", "reported,closed", "--area", "KZ-MAN") == [
        "Strike at Zhanaozen"]
    assert titles("--documents", "with") == []
    assert len(titles("--documents", "without")) == 4
    with pytest.raises(CommandError, match="--status: unknown status 'open'"):
        call_command("export_incidents", "--format", "csv", "--status", "open")
    with pytest.raises(CommandError, match="--type: unknown incident type 'riot'"):
        call_command("export_incidents", "--format", "csv", "--type", "riot")


# --- API ------------------------------------------------------------------------------------

def _get(token, url, **params):
    return Client().get(url, params, HTTP_AUTHORIZATION=f"Bearer {token}")


def _upload(token, content, name="incidents.csv", **form):
    upload = SimpleUploadedFile(name, content, content_type="text/csv")
    return Client().post("/api/v1/incidents/import", {"file": upload, **form},
                         HTTP_AUTHORIZATION=f"Bearer {token}")


def test_api_exports_stream_with_content_type_and_file_name(incidents, token_for,
                                                            exchange_api):
    token = token_for("duty")
    expected = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-",
                "geojson": "application/geo+json", "kml": "application/vnd.google-earth.kml"}
    for fmt, content_type in expected.items():
        r = _get(token, f"/api/v1/incidents/export.{fmt}")
        assert r.status_code == 200 and r.streaming
        assert r["Content-Type"].startswith(content_type)
        assert r["Content-Disposition"].startswith('attachment; filename="incidents-')
        assert r["Content-Disposition"].endswith(f'.{fmt}"')
    r = _get(token, "/api/v1/incidents/export.csv", area="KZ751910", hxl="false")
    rows = _csv_rows(b"".join(r.streaming_content).decode())
    assert [row[4] for row in rows[1:]] == ["Airport seized"]
    r = _get(token, "/api/v1/incidents/export.geojson", since="2022-01-05T17:00:00+06:00")
    titles = [f["properties"]["title"] for f in json.loads(b"".join(r.streaming_content))[
        "features"]]
    assert titles == ["Пожар в здании акимата"]
    assert _get(token, "/api/v1/incidents/export.pdf").status_code in (404, 422)
    r = _get(token, "/api/v1/incidents/export.csv", area="NOWHERE")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "area"


def test_api_export_shows_the_outsider_only_their_area(incidents, token_for, exchange_api):
    r = _get(token_for("outsider"), "/api/v1/incidents/export.kml")
    text = b"".join(r.streaming_content).decode()
    assert text.count("<Placemark") == 1 and "Zhanaozen" in text and "akimat" not in text


def test_under_asgi_an_export_is_pulled_chunk_by_chunk(incidents, token_for, exchange_api):
    token = token_for("duty")

    async def fetch():
        r = await AsyncClient().get("/api/v1/incidents/export.geojson",
                                    headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.is_async  # not read into memory first
        return b"".join([chunk async for chunk in r.streaming_content])

    assert len(json.loads(async_to_sync(fetch)())["features"]) == 4


def test_api_import_reports_rows_and_refuses_viewers(sec_world, token_for, exchange_api,
                                                     tmp_path, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 64  # the upload goes to a temporary file
    content = write_csv(tmp_path, [row(id="api-1"), row(id="api-2", severity="high")]
                        ).read_bytes()
    r = _upload(token_for("duty"), content)
    assert r.status_code == 422 and r["Content-Type"] == "application/problem+json"
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert errors["rows[3].severity"] == "must be 1 (minor) to 5 (critical)"
    assert "nothing imported" in errors["file"]
    assert Incident.objects.count() == 0

    r = _upload(token_for("duty"), content, skip_invalid="true")
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["created"], body["invalid_rows"], body["written"]) == (1, 1, True)
    assert body["problems"] == [{"row": 3, "field": "severity",
                                 "problem": "must be 1 (minor) to 5 (critical)"}]
    inc = Incident.objects.get(external_id="api-1")
    assert inc.reported_by == "duty (token test)"

    r = _upload(token_for("viewer"), content)
    assert r.status_code == 403 and Incident.objects.count() == 1
    r = Client().post("/api/v1/incidents/import", {"file": SimpleUploadedFile("a.csv", content)})
    assert r.status_code == 401


def test_api_import_reads_an_xlsx_upload(sec_world, token_for, exchange_api):
    book = Workbook()
    sheet = book.active
    sheet.append(["type", "title", "occurred_at", "area", "fatalities"])
    sheet.append(["Riots", "Crowd at the akimat", datetime(2022, 1, 5, 10, 0), "KZ751110", 3])
    out = io.BytesIO()
    book.save(out)
    r = _upload(token_for("reporter"), out.getvalue(), name="from-excel.xlsx")
    assert r.status_code == 200, r.content
    inc = Incident.objects.get()
    assert (inc.type.code, inc.fatalities) == ("riots", 3)
    assert inc.occurred_at == datetime(2022, 1, 5, 4, 0, tzinfo=UTC)


def test_the_openapi_document_describes_the_exchange_endpoints(exchange_api):
    schema = _api.get_openapi_schema()
    assert "/api/v1/incidents/export.{fmt}" in schema["paths"]
    assert "multipart/form-data" in json.dumps(schema["paths"]["/api/v1/incidents/import"])


def test_a_russian_excel_csv_imports_with_what_was_assumed_said(sec_world, tmp_path):
    """Excel on a Russian or Kazakh Windows saves CSV in Windows-1251, separated by ';',
    with times without an offset: read as such, and the report says so."""
    text = ("id;type;title;occurred_at;area;fatalities\r\n"
            "x1;riots;Беспорядки у акимата;05.01.2022 16:00;KZ751110;2\r\n"
            "x2;riots;Поджог машин;2022-01-05 18:30;KZ751110;\r\n")
    file = tmp_path / "excel.csv"
    file.write_bytes(text.encode("cp1251"))
    result = import_incidents(file, actor=CLI, source="import")
    assert result.written and result.created == 2, result.lines()
    assert any("Windows-1251" in n for n in result.notes)
    assert any("2 row(s) gave a date and time without an offset" in n for n in result.notes)
    times = dict(Incident.objects.values_list("title", "occurred_at"))
    assert times["Поджог машин"] == T("2022-01-05T18:30:00+06:00")
    assert times["Беспорядки у акимата"] == T("2022-01-05T16:00:00+06:00")


def test_an_incident_with_a_source_id_is_exported_with_its_uid_too(sec_world, tmp_path,
                                                                   token_for):
    """An incident imported under another system's id was exported under that id only:
    nothing in the files matched the id the API gives. Now a uid column (HXL #meta+id) and
    a uid property carry our own id, by both the database's and the general writers, and
    importing the export again still adds nothing."""
    from sitroom.incidents.exchange.exporter import csv_chunks, geojson_chunks, xlsx_chunks

    imported = import_incidents(write_csv(tmp_path, [row(id="ACLED-KAZ1001")]), actor=CLI,
                                source="import")
    assert imported.created == 1
    ours = report(sec_world, title="Reported on the web")
    api = {i["title"]: i["id"] for i in _get(token_for("duty"), "/api/v1/incidents").json()[
        "items"]}
    source_uid = api["Crowd at the akimat"]
    assert source_uid == str(Incident.objects.get(external_id="ACLED-KAZ1001").uid)

    for text in (export_text("csv", CLI), "".join(csv_chunks(records(CLI)))):
        rows = _csv_rows(text)
        assert rows[1][:2] == ["#event+id", "#meta+id"]
        by_title = {r[4]: dict(zip(rows[0], r, strict=True)) for r in rows[2:]}
        assert (by_title["Crowd at the akimat"]["id"], by_title["Crowd at the akimat"]["uid"]
                ) == ("ACLED-KAZ1001", source_uid)
        assert by_title["Reported on the web"]["id"] == by_title["Reported on the web"][
            "uid"] == api["Reported on the web"] == str(ours.uid)
    for text in (export_text("geojson", CLI), "".join(geojson_chunks(records(CLI)))):
        props = {f["properties"]["title"]: f["properties"]
                 for f in json.loads(text)["features"]}
        assert (props["Crowd at the akimat"]["id"], props["Crowd at the akimat"]["uid"]) == (
            "ACLED-KAZ1001", source_uid)
        assert props["Reported on the web"]["uid"] == str(ours.uid)
    xlsx = tmp_path / "export.xlsx"
    xlsx.write_bytes(b"".join(xlsx_chunks(records(CLI))))
    sheet = list(load_workbook(xlsx, read_only=True).worksheets[0].iter_rows(values_only=True))
    assert sheet[0][:2] == ("id", "uid") and sheet[1][:2] == ("#event+id", "#meta+id")
    assert {r[4]: (r[0], r[1]) for r in sheet[2:]}["Crowd at the akimat"] == (
        "ACLED-KAZ1001", source_uid)

    # Importing our own export adds nothing, as CSV and as XLSX; nor does a row whose id
    # was cleared but whose uid is ours.
    for file in (export_file(tmp_path, "csv", CLI), xlsx):
        again = import_incidents(file, actor=CLI, source="import")
        assert (again.written, again.created, again.existing) == (True, 0, 2), again.lines()
        assert not any("uid" in note for note in again.notes)  # a column it reads
    header = ["id", "uid", "type", "title", "occurred_at", "area"]
    cleared = write_csv(tmp_path, [["", source_uid, "riots", "Crowd at the akimat",
                                    "2022-01-05T10:00:00+06:00", "KZ751110"]], header=header,
                        name="cleared.csv")
    again = import_incidents(cleared, actor=CLI, source="import")
    assert (again.created, again.existing) == (0, 1)
    assert Incident.objects.count() == 2

    # A uid that is not one is refused, naming the column.
    bad = write_csv(tmp_path, [["", "12345", "riots", "Crowd", "2022-01-05T10:00:00+06:00",
                                "KZ751110"]], header=header, name="bad.csv")
    refused = import_incidents(bad, actor=CLI, source="import")
    assert not refused.written
    assert any("uid" in line and "36 characters" in line for line in refused.lines())


def test_the_import_command_names_the_person_who_imports(sec_world, tmp_path, capsys):
    """`import-incidents` journaled every import as 'system:cli', naming nobody. With `--as`
    it acts as that user, within their rights and scope; without it, the journal names the
    operating-system login that ran it."""
    import getpass

    good = write_csv(tmp_path, [row(id="a1")], name="good.csv")
    mixed = write_csv(tmp_path, [row(id="m1"), row(id="m2", area="KZ-MAN")], name="mixed.csv")

    # a field reporter of Almaty: the Mangystau row is refused, by row and column; nothing
    # is written
    with pytest.raises(CommandError, match="nothing imported: 1 row"):
        call_command("import_incidents", str(mixed), "--as", "reporter")
    assert "row 3, area: no area with code 'KZ-MAN'" in capsys.readouterr().out
    # a viewer may not report at all
    with pytest.raises(CommandError, match="nothing imported: viewer may not report"):
        call_command("import_incidents", str(good), "--as", "viewer")
    with pytest.raises(CommandError, match="--as: no user named 'ghost'"):
        call_command("import_incidents", str(good), "--as", "ghost")
    assert Incident.objects.count() == 0

    call_command("import_incidents", str(good), "--as", "reporter")
    incident = Incident.objects.get()
    reporter = sec_world.users["reporter"]
    assert (incident.reported_by, incident.reporter) == ("reporter", reporter)
    entry = JournalEntry.objects.get(subject_id=str(incident.uid))
    assert (entry.actor_label, entry.actor, entry.source) == ("reporter", reporter, "import")

    call_command("import_incidents", str(mixed))  # the system: every area
    others = Incident.objects.exclude(pk=incident.pk)
    assert others.count() == 2
    entries = JournalEntry.objects.filter(subject_id__in=[str(i.uid) for i in others])
    assert {e.actor_label for e in entries} == {f"system:cli:{getpass.getuser()}"}


def test_the_export_command_exports_what_the_named_user_may_see(sec_world, incidents,
                                                                tmp_path, capsys):
    """`export-incidents` read as the system, with every area. With `--as` it exports
    exactly what that user may see; an unknown user, or an area outside their scope, is
    refused and no file is written. Without `--as` it still exports everything, and says
    so in its help."""
    out = tmp_path / "mangystau.csv"
    call_command("export_incidents", "--format", "csv", "--as", "outsider", "-o", str(out))
    titles = [r[4] for r in _csv_rows(out.read_text(encoding="utf-8"))[2:]]
    assert titles == ["Strike at Zhanaozen"]  # no Almaty incident
    call_command("export_incidents", "--format", "kml", "--as", "outsider")
    assert capsys.readouterr().out.count("<Placemark") == 1
    call_command("export_incidents", "--format", "geojson", "--as", "reporter",
                 "--as-of", "2030-01-01")
    features = json.loads(capsys.readouterr().out)["features"]
    assert sorted(f["properties"]["title"] for f in features) == [
        "=HYPERLINK(\"http://evil\")", "Airport seized", "Пожар в здании акимата"]

    refused = tmp_path / "refused.csv"
    with pytest.raises(CommandError, match="--as: no user named 'ghost'; nothing was exported"):
        call_command("export_incidents", "--format", "csv", "--as", "ghost", "-o", str(refused))
    with pytest.raises(CommandError, match="--area: outsider may not see KZ-ALA"):
        call_command("export_incidents", "--format", "csv", "--as", "outsider",
                     "--area", "KZ-ALA", "-o", str(refused))
    assert not refused.exists()

    call_command("export_incidents", "--format", "csv")  # the system: every area
    assert len(_csv_rows(capsys.readouterr().out)[2:]) == 4
    with pytest.raises(SystemExit):
        call_command("export_incidents", "--help")
    assert "exports every incident of every area" in " ".join(capsys.readouterr().out.split())


def test_exports_are_not_journalled(sec_world, incidents, capsys):
    """An export is a read: like a page or an API export it writes nothing to the journal
    (so there is no entry to name the user; the operator's --as only scopes the read)."""
    before = JournalEntry.objects.count()
    call_command("export_incidents", "--format", "csv", "--as", "outsider")
    call_command("export_incidents", "--format", "csv")
    assert JournalEntry.objects.count() == before


def _counts():
    from sitroom.incidents.models import IncidentCell, IncidentHour

    kept = {(c.size, c.cx, c.cy, c.type_id, c.status): (
        c.n, round(c.sum_lat, 6), round(c.sum_lon, 6), c.n_minor, c.n_moderate, c.n_serious,
        c.n_severe, c.n_critical) for c in IncidentCell.objects.all() if c.n}
    hours = {(h.hour, h.known, h.area_id): h.n for h in IncidentHour.objects.all() if h.n}
    return kept, hours


def test_a_large_import_is_written_in_time_order_with_its_history_and_counts(sec_world,
                                                                            tmp_path):
    """More rows than get a journal entry each, in batches of 7: every incident has its
    revision as the service writes it, the map's and board's counts are what a recount
    gives, ids follow the time, and an id reused across batches is the same report or
    refused."""
    from sitroom.incidents import cells
    from sitroom.incidents.models import IncidentRevision

    services.report_incident(actor=CLI, source="api", type="riots", title="Before the file",
                             area="KZ-MAN", external_id="old-1")
    rows = []
    for i in range(60):
        point = {"lat": f"{43.25 + i / 1000:.4f}", "lon": f"{76.91 + i / 997:.5f}"} \
            if i % 3 else {}
        rows.append(row(id=f"big-{i}", title=f"Report {i}", severity=str(1 + i % 5),
                        occurred_at=f"2022-01-{5 + (i * 7) % 9:02d}T{i % 24:02d}:"
                                    f"{i % 60:02d}:00.{i:06d}+06:00",
                        tags="a; b" if i % 2 else "", fatalities=str(i % 4), **point))
    rows[4] = row(id="big-4", title="Report 4", occurred_at="2022-01-06T09:30:00+06:00",
                  lat="43.25654123456789", lon="76.91234567890123")  # 16 and 17 digits
    rows.append(rows[3])  # row 5 again, in a later batch: the same report
    file = write_csv(tmp_path, rows)
    result = import_incidents(file, actor=CLI, source="import", batch_size=7)
    assert result.written and (result.created, result.existing) == (60, 1), result.lines()

    new = list(Incident.objects.exclude(external_id="old-1").select_related(
        "type", "subtype", "area").order_by("pk"))
    assert len(new) == 60
    assert [i.occurred_at for i in new] == sorted(i.occurred_at for i in new)
    entry = JournalEntry.objects.get(payload__change="imported")
    assert entry.payload["count"] == 60 and entry.source == "import"
    for inc in new:
        revision = IncidentRevision.objects.get(incident=inc)
        expected = services.snapshot(inc)
        state = dict(revision.state)
        assert T(state.pop("occurred_at")) == T(expected.pop("occurred_at")) == inc.occurred_at
        assert state == expected
        assert (revision.number, revision.change, revision.journal_seq, revision.actor_label,
                revision.recorded_at) == (1, "reported", entry.seq, "system:cli",
                                          inc.recorded_at)
    assert Incident.objects.get(external_id="big-7").severity == 3
    exact = Incident.objects.get(external_id="big-4")
    assert (exact.lat, exact.lon) == (43.25654123456789, 76.91234567890123)
    assert IncidentRevision.objects.get(incident=exact).state["lat"] == 43.25654123456789

    kept = _counts()
    cells.rebuild()
    assert kept == _counts() and kept[0] and kept[1]

    other = write_csv(tmp_path, [*rows[:8], row(id="big-2", title="Another event")],
                      name="again.csv")
    again = import_incidents(other, actor=CLI, source="import", batch_size=3)
    assert not again.written and [(p.row, p.field) for p in again.problems] == [(10, "id")]
    assert Incident.objects.count() == 61
