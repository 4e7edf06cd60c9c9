"""Enumerations of the core domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AreaLevel(models.TextChoices):
    COUNTRY = "country", _("Country")
    REGION = "region", _("Region")
    CITY = "city", _("City")
    DISTRICT = "district", _("District")


AREA_LEVEL_RANK = {
    AreaLevel.COUNTRY: 0, AreaLevel.REGION: 1, AreaLevel.CITY: 2, AreaLevel.DISTRICT: 3,
}


class PlaceKind(models.TextChoices):
    AIRPORT = "airport", _("Airport")
    AIRFIELD = "airfield", _("Airfield")
    POWER_PLANT = "power_plant", _("Power plant")
    GOVERNMENT_BUILDING = "government_building", _("Government building")
    POLICE_FACILITY = "police_facility", _("Police facility")
    MILITARY_FACILITY = "military_facility", _("Military facility")
    UTILITY = "utility", _("Utility")
    INDUSTRIAL = "industrial", _("Industrial site")
    DIPLOMATIC = "diplomatic", _("Diplomatic mission")
    OTHER = "other", _("Other")


class OrganizationKind(models.TextChoices):
    GOVERNMENT = "government", _("Government")
    AGENCY = "agency", _("Agency")
    COMMISSION = "commission", _("Commission")
    CONTRIBUTING_STATE = "contributing_state", _("Contributing state")
    MILITARY = "military", _("Military")
    UTILITY = "utility", _("Utility")
    BUSINESS = "business", _("Business")
    NGO = "ngo", _("NGO")
    INTERNATIONAL = "international", _("International organization")


class JournalSource(models.TextChoices):
    """The door an entry came through."""

    WEB = "web", _("Web")
    API = "api", _("API")
    CLI = "cli", _("Command line")
    IMPORT = "import", _("Import")
    SCENARIO = "scenario", _("Scenario loader")


# Sources whose entries may carry their own recorded_at: they replay what was learned
# earlier (a scenario, an archive import). Everything else is stamped by the server.
BACKDATABLE_SOURCES = {JournalSource.IMPORT, JournalSource.SCENARIO}


class JournalKind(models.TextChoices):
    """Kinds of journal entry the core knows; domain apps add theirs to JOURNAL_KINDS."""

    NOTE = "note", _("Note")
    EVENT = "event", _("Event")
    DECISION = "decision", _("Decision")
    STATEMENT = "statement", _("Statement")
    MOVEMENT = "movement", _("Movement")
    CASUALTIES = "casualties", _("Casualties")
    INFRASTRUCTURE = "infrastructure", _("Infrastructure")
    PLACE = "place", _("Place changed")
    ORGANIZATION = "organization", _("Organization changed")
    AREA = "area", _("Area changed")
    ACCESS = "access", _("Access and accounts")


JOURNAL_KINDS: dict[str, object] = dict(JournalKind.choices)
