"""The security situation: incidents and their history, casualty figures, area posture."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from sitroom.core import filestore
from sitroom.core.models import (
    Area,
    Organization,
    TranslatedName,
    VisibleQuerySet,
    time_ordered_uid,
)

from .choices import (
    CHANGE_LABELS,
    LOCATION_APPROXIMATE_TAG,
    TIME_ESTIMATED_TAG,
    CasualtyCategory,
    CasualtyGroup,
    IncidentStatus,
    PostureKind,
    Severity,
)


class IncidentType(TranslatedName):
    """Reference data: the ACLED event types, and their sub-types (with a parent)."""

    code = models.CharField(max_length=60, unique=True)
    parent = models.ForeignKey("self", models.PROTECT, null=True, blank=True,
                               related_name="subtypes")
    disorder_type = models.CharField(max_length=40, blank=True)
    cameo = models.CharField(_("CAMEO code"), max_length=8, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]
        verbose_name = _("incident type")


class Incident(models.Model):
    """Something that happened, somewhere, reported to the EOC.

    The row holds the current state; every change is also an `IncidentRevision` (the
    state as it was after that change), so the past is kept and the state "as of" any
    moment can be read back.
    """

    uid = models.UUIDField(default=time_ordered_uid, unique=True, editable=False)
    # No single-column index on `type` or `area`: the (type, occurred_at) and
    # (area, occurred_at) indexes serve their look-ups, and every index is paid for on
    # each insert (see docs/performance.md, section 3).
    type = models.ForeignKey(IncidentType, models.PROTECT, related_name="+",
                             verbose_name=_("type"), db_index=False)
    subtype = models.ForeignKey(IncidentType, models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("sub-type"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"))
    recorded_at = models.DateTimeField(_("recorded at"))
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    area = models.ForeignKey(Area, models.PROTECT, related_name="incidents",
                             verbose_name=_("area"), db_index=False)
    area_path = models.CharField(max_length=400)
    actors = models.JSONField(_("actors"), default=list, blank=True)
    fatalities = models.PositiveIntegerField(_("fatalities"), null=True, blank=True)
    injured = models.PositiveIntegerField(_("injured"), null=True, blank=True)
    sources = models.JSONField(_("sources"), default=list, blank=True)
    severity = models.PositiveSmallIntegerField(_("severity"), choices=Severity.choices,
                                                default=Severity.MODERATE)
    status = models.CharField(_("status"), max_length=10, choices=IncidentStatus.choices,
                              default=IncidentStatus.REPORTED)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True,
                                 blank=True, related_name="+", verbose_name=_("assigned to"))
    merged_into = models.ForeignKey("self", models.PROTECT, null=True, blank=True,
                                    related_name="merged", verbose_name=_("merged into"))
    estimate = models.BooleanField(_("figures are estimates"), default=False)
    reported_by = models.CharField(_("reported by"), max_length=200)
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                 blank=True, related_name="+")
    # A client-chosen key (Idempotency-Key, import row id) so that retries never duplicate.
    external_id = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField()

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            # The list's order (newest first, by id among equal times), and it covers the
            # country board's count of the last hours per area: one index for both.
            models.Index(fields=["occurred_at", "id", "status", "recorded_at", "area"],
                         name="incident_when"),
            models.Index(fields=["area", "occurred_at"], name="incident_area_occurred"),
            models.Index(fields=["status", "occurred_at"], name="incident_status_occurred"),
            models.Index(fields=["type", "occurred_at"], name="incident_type_occurred"),
            models.Index(fields=["lat", "lon"], name="incident_point"),
            models.Index(fields=["recorded_at"], name="incident_recorded"),
            # Only incidents changed since they were reported: an as-of read finds by it
            # the few changed after its moment (the others' rows are their state then),
            # and a new report costs no B-tree insert here.
            models.Index(fields=["updated_at"],
                         condition=models.Q(updated_at__gt=models.F("recorded_at")),
                         name="incident_changed"),
        ]
        constraints = [
            # Only keyed rows are indexed (see lifelines.StatusReport): an index full of
            # NULLs makes SQLite's statistics judge a key look-up to be a table scan.
            models.UniqueConstraint(fields=["external_id"],
                                    condition=models.Q(external_id__isnull=False),
                                    name="incident_unique_external_id"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def time_estimated(self) -> bool:
        """The time of day is an estimate (tagged so by the source or the importer)."""
        return TIME_ESTIMATED_TAG in (self.tags or [])

    @property
    def location_approximate(self) -> bool:
        """The point is an approximation of the place (tagged so by the source)."""
        return LOCATION_APPROXIMATE_TAG in (self.tags or [])

    @property
    def status_label(self) -> str:
        """The status shown: as of the moment asked for (`status_then`), else current."""
        return str(IncidentStatus(getattr(self, "status_then", None) or self.status).label)


class IncidentRevision(models.Model):
    """The state of an incident after one change; never updated, never deleted."""

    # Indexed by the (incident, number) key and the (incident, recorded_at) index.
    incident = models.ForeignKey(Incident, models.PROTECT, related_name="revisions",
                                 db_index=False)
    number = models.PositiveIntegerField()
    recorded_at = models.DateTimeField()
    actor_label = models.CharField(max_length=200)
    change = models.CharField(max_length=30)  # created, edited, verified, merged, …
    status = models.CharField(max_length=10, choices=IncidentStatus.choices)
    state = models.JSONField()
    journal_seq = models.BigIntegerField(null=True)

    class Meta:
        ordering = ["incident_id", "number"]
        constraints = [models.UniqueConstraint(fields=["incident", "number"],
                                               name="incident_revision_number")]
        indexes = [models.Index(fields=["incident", "recorded_at"], name="revision_asof")]

    def __str__(self) -> str:
        return f"{self.incident_id} r{self.number} {self.change}"

    @property
    def change_label(self) -> str:
        """The change in the reader's language (the code itself when unknown)."""
        return str(CHANGE_LABELS.get(self.change, self.change))


class IncidentDocument(models.Model):
    """A file attached to an incident report (a photo, a scan, a decree): the bytes are
    kept by their SHA-256 (core/filestore.py), never changed or removed; the row says what
    it is, who added it and when. Rows are never deleted: one attached by mistake is
    withdrawn (who, when, why, its journal entry), after which it is listed as withdrawn
    and its file is served only to incident managers."""

    uid = models.UUIDField(default=time_ordered_uid, unique=True, editable=False)
    # Indexed by the (incident, sha256) key.
    incident = models.ForeignKey(Incident, models.PROTECT, related_name="documents",
                                 db_index=False)
    name = models.CharField(_("file name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.BigIntegerField()
    content_type = models.CharField(max_length=120)
    added_at = models.DateTimeField()
    actor_label = models.CharField(max_length=200)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                 blank=True, related_name="+")
    journal_seq = models.BigIntegerField(null=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by_label = models.CharField(max_length=200, blank=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                     blank=True, related_name="+")
    withdrawal_reason = models.TextField(_("reason"), blank=True)
    withdrawal_seq = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [models.UniqueConstraint(fields=["incident", "sha256"],
                                               name="incident_document_once")]

    def __str__(self) -> str:
        return self.name

    def api_path(self, incident: Incident | None = None) -> str:
        """Where the API serves the file, through `incident` (the report whose page lists
        it: its own, or the one its report was merged into)."""
        return f"/api/v1/incidents/{(incident or self.incident).uid}/documents/{self.uid}"

    @property
    def is_image(self) -> bool:
        """Shown in the page (a thumbnail) exactly when it is served to be shown."""
        return self.content_type in filestore.SHOWN_INLINE


class CasualtyReport(models.Model):
    """One figure from one reporting body: "164 killed nationwide as of 9 January (MoH)".

    Figures evolve and disagree: every report is kept, and one body's figure never
    replaces another's.
    """

    area = models.ForeignKey(Area, models.PROTECT, related_name="casualty_reports",
                             verbose_name=_("area"))
    area_path = models.CharField(max_length=400, db_index=True)
    reporting_body = models.ForeignKey(Organization, models.PROTECT, related_name="+",
                                       verbose_name=_("reporting body"))
    category = models.CharField(_("category"), max_length=10, choices=CasualtyCategory.choices)
    group = models.CharField(_("group"), max_length=10, choices=CasualtyGroup.choices,
                             default=CasualtyGroup.ALL)
    count = models.PositiveIntegerField(_("count"))
    as_of = models.DateTimeField(_("figure as of"))
    recorded_at = models.DateTimeField(_("recorded at"))
    estimate = models.BooleanField(_("estimate"), default=False)
    source = models.TextField(_("source"), blank=True)
    note = models.TextField(_("note"), blank=True)
    actor_label = models.CharField(max_length=200)
    external_id = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001

    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["-as_of", "-id"]
        verbose_name = _("casualty figure")
        constraints = [models.UniqueConstraint(
            fields=["external_id"], condition=models.Q(external_id__isnull=False),
            name="casualty_unique_external_id")]

    def __str__(self) -> str:
        return f"{self.reporting_body_id}: {self.count} {self.category} ({self.as_of:%Y-%m-%d})"


class PostureChange(models.Model):
    """A change of a measure or state in an area: a state of emergency declared or lifted,
    a curfew set, the threat level raised, order restored. The posture at any moment is
    the latest change of each kind effective by then (and known by then)."""

    area = models.ForeignKey(Area, models.PROTECT, related_name="posture_changes",
                             verbose_name=_("area"))
    area_path = models.CharField(max_length=400, db_index=True)
    kind = models.CharField(_("measure"), max_length=20, choices=PostureKind.choices)
    state = models.CharField(_("state"), max_length=20)
    effective_at = models.DateTimeField(_("effective from"))
    recorded_at = models.DateTimeField(_("recorded at"))
    hours = models.CharField(_("hours"), max_length=40, blank=True,
                             help_text=_("for a curfew, e.g. 23:00-07:00"))
    decree = models.CharField(_("decree reference"), max_length=300, blank=True)
    source = models.TextField(_("source"), blank=True)
    note = models.TextField(_("note"), blank=True)
    estimate = models.BooleanField(_("date or facts are estimates"), default=False)
    actor_label = models.CharField(max_length=200)
    external_id = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001

    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["area_id", "kind", "effective_at", "id"]
        verbose_name = _("posture change")
        indexes = [models.Index(fields=["kind", "effective_at"], name="posture_kind_effective")]
        constraints = [models.UniqueConstraint(
            fields=["external_id"], condition=models.Q(external_id__isnull=False),
            name="posture_unique_external_id")]

    def __str__(self) -> str:
        return f"{self.area_id} {self.kind}={self.state} from {self.effective_at:%Y-%m-%d %H:%M}"


class IncidentCell(models.Model):
    """Running counts of incidents per grid cell, type and status, kept by the services.

    The country-wide map reads a few thousand of these rows instead of grouping millions
    of incidents. Rebuilt from the incidents by `sitroom rebuild-incident-cells`. A count
    per severity (not a sum) because a cell shows its highest severity, and a highest
    cannot be kept by adding and taking away: the highest level whose count is above
    nought is.
    """

    size = models.FloatField()  # cell edge in degrees: one of CELL_SIZES
    cx = models.IntegerField()
    cy = models.IntegerField()
    type = models.ForeignKey(IncidentType, models.CASCADE, related_name="+")
    status = models.CharField(max_length=10)
    n = models.IntegerField(default=0)
    sum_lat = models.FloatField(default=0)
    sum_lon = models.FloatField(default=0)
    n_minor = models.IntegerField(default=0)
    n_moderate = models.IntegerField(default=0)
    n_serious = models.IntegerField(default=0)
    n_severe = models.IntegerField(default=0)
    n_critical = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["size", "cx", "cy", "type", "status"],
                                               name="incident_cell_key")]

    def __str__(self) -> str:
        return f"{self.size}:{self.cx},{self.cy} {self.type_id}/{self.status}={self.n}"


# IncidentCell's count of each severity.
SEVERITY_COUNTS = {Severity.MINOR: "n_minor", Severity.MODERATE: "n_moderate",
                   Severity.SERIOUS: "n_serious", Severity.SEVERE: "n_severe",
                   Severity.CRITICAL: "n_critical"}
CELL_SIZES = (4.0, 1.0, 0.5, 0.25)
# A map request is answered from a kept grid up to this much coarser than it asked for.
CELL_COARSER = 1.5


class IncidentHour(models.Model):
    """Running counts of incidents per area, hour of occurrence and hour they became
    known (UTC, whole hours), kept by the services with the map's cells. The country
    board's "incidents in the last 24 hours" as of any moment reads a few thousand of
    these plus the incidents of its two partial hours, instead of counting tens of
    thousands of incidents. Discarded and merged incidents are not counted."""

    area = models.ForeignKey(Area, models.CASCADE, related_name="+")
    hour = models.DateTimeField()
    known = models.DateTimeField()
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hour", "known", "area"],
                                               name="incident_hour_key")]

    def __str__(self) -> str:
        return f"{self.area_id} {self.hour:%Y-%m-%d %H}h known {self.known:%H}h = {self.n}"
