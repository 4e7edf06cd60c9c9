"""Enumerations of the security situation."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class IncidentStatus(models.TextChoices):
    """reported -> verified -> closed, or discarded as false; merged into another."""

    REPORTED = "reported", _("Reported")
    VERIFIED = "verified", _("Verified")
    CLOSED = "closed", _("Closed")
    DISCARDED = "discarded", _("Discarded as false")
    MERGED = "merged", _("Merged into another report")


# Tags that qualify a reported fact, as the demo data and the importer write them: the time
# of day, or the place, is an estimate. The incident's page shows them beside the fact.
TIME_ESTIMATED_TAG = "time-estimated"
LOCATION_APPROXIMATE_TAG = "location-approximate"


# What a revision of an incident records (IncidentRevision.change): the status it was
# moved to (reported, verified, …, merged: the status's own label), or that it was edited,
# assigned, or took in a duplicate.
CHANGE_LABELS = dict(IncidentStatus.choices) | {
    "edited": _("Edited"),
    "assigned": _("Assigned"),
    "absorbed": _("A duplicate merged into it"),
    "document_added": _("Document added"),
    "document_withdrawn": _("Document withdrawn"),
}


# Which status may follow which. Reopening a closed incident is a verification again.
STATUS_FLOW = {
    IncidentStatus.REPORTED: {IncidentStatus.VERIFIED, IncidentStatus.DISCARDED,
                              IncidentStatus.CLOSED},
    IncidentStatus.VERIFIED: {IncidentStatus.CLOSED, IncidentStatus.DISCARDED},
    IncidentStatus.CLOSED: {IncidentStatus.VERIFIED},
    IncidentStatus.DISCARDED: {IncidentStatus.REPORTED},
    IncidentStatus.MERGED: set(),
}
OPEN_STATUSES = (IncidentStatus.REPORTED, IncidentStatus.VERIFIED)

# "Reopen" takes an incident back to where it was before it was closed or discarded: a
# closed incident to verified, a report discarded as false to reported.
REOPEN = "reopen"
REOPENED_AS = {IncidentStatus.CLOSED: IncidentStatus.VERIFIED,
               IncidentStatus.DISCARDED: IncidentStatus.REPORTED}
# The bulk actions of the list and the API, by name: a status, or REOPEN.
STATUS_ACTIONS = {"verify": IncidentStatus.VERIFIED, "close": IncidentStatus.CLOSED,
                  "discard": IncidentStatus.DISCARDED, "reopen": REOPEN}


class Severity(models.IntegerChoices):
    MINOR = 1, _("Minor")
    MODERATE = 2, _("Moderate")
    SERIOUS = 3, _("Serious")
    SEVERE = 4, _("Severe")
    CRITICAL = 5, _("Critical")


# How a severity and a status look wherever they are shown — the list's badges, the
# incident's page, the map's circles and its legend: (fill, ink that reads on the fill).
# The pages take them from here (templatetags/incident_palette.py), never a copy.
SEVERITY_COLOURS = {
    Severity.MINOR: ("#cfd8dc", "#1c2428"),
    Severity.MODERATE: ("#fff176", "#1c2428"),
    Severity.SERIOUS: ("#ffb74d", "#1c2428"),
    Severity.SEVERE: ("#e57373", "#1c2428"),
    Severity.CRITICAL: ("#b71c1c", "#ffffff"),
}
# (fill, ink, border); a discarded or merged report is also struck through (words stay).
STATUS_COLOURS = {
    IncidentStatus.REPORTED: ("#ffffff", "#1c2428", "#b26a00"),
    IncidentStatus.VERIFIED: ("#e8f5e9", "#2e7d32", "#2e7d32"),
    IncidentStatus.CLOSED: ("#eceff1", "#1c2428", "#b0bec5"),
    IncidentStatus.DISCARDED: ("#ffffff", "#5f6b71", "#b0bec5"),
    IncidentStatus.MERGED: ("#ffffff", "#5f6b71", "#b0bec5"),
}


class CasualtyCategory(models.TextChoices):
    KILLED = "killed", _("Killed")
    INJURED = "injured", _("Injured")
    DETAINED = "detained", _("Detained")
    MISSING = "missing", _("Missing")


class CasualtyGroup(models.TextChoices):
    ALL = "all", _("All persons")
    SECURITY = "security", _("Security personnel")
    CIVILIANS = "civilians", _("Civilians and others")


class PostureKind(models.TextChoices):
    """Measures and states in force in an area, each with its own dated history."""

    STATE_OF_EMERGENCY = "state_of_emergency", _("State of emergency")
    CURFEW = "curfew", _("Curfew")
    CTO_REGIME = "cto_regime", _("Counter-terrorist operation regime")
    THREAT_LEVEL = "threat_level", _("Terrorist threat level")
    LAW_AND_ORDER = "law_and_order", _("Law and order")


# The states each posture kind can be in. "off" ends a measure.
POSTURE_STATES = {
    PostureKind.STATE_OF_EMERGENCY: {"in_force": _("In force"), "off": _("Not in force")},
    PostureKind.CURFEW: {"in_force": _("In force"), "off": _("Not in force")},
    PostureKind.CTO_REGIME: {"in_force": _("In force"), "off": _("Not in force")},
    # Kazakhstan's scale of terrorist threat levels (2013): yellow, orange, red; and none.
    PostureKind.THREAT_LEVEL: {"off": _("No level set"), "yellow": _("Yellow (moderate)"),
                               "orange": _("Orange (high)"), "red": _("Red (critical)")},
    PostureKind.LAW_AND_ORDER: {"disorder": _("Disorder"), "stabilising": _("Stabilising"),
                                "restored": _("Order restored")},
}

JOURNAL_KINDS = {
    "incident": _("Incident"),
    "casualty_report": _("Casualty figures"),
    "posture": _("Area posture"),
}


# An incident reported through the API with an Idempotency-Key keeps the key as its
# external id under this prefix (with the user's id): a retry key, not another system's
# id, so exports give the incident's own id instead.
RETRY_KEY_PREFIX = "api:"
# A row imported from a file without an id column is kept under its content's digest
# under this prefix, so that importing the file again adds nothing.
CONTENT_KEY_PREFIX = "row:"
INTERNAL_KEY_PREFIXES = (RETRY_KEY_PREFIX, CONTENT_KEY_PREFIX)  # of one length


def is_source_id(external_id: str | None) -> bool:
    """Whether an external id is another system's id of the report (not one of ours)."""
    return bool(external_id) and not external_id.startswith(INTERNAL_KEY_PREFIXES)

# Files (CSV, XLSX) list tags, actors and sources in one cell, separated by this.
LIST_SEPARATOR = ";"
