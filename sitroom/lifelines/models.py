"""Lifelines: components as reference data; status reports per area and component."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from sitroom.core.models import Area, TranslatedName, VisibleQuerySet

from .choices import Status, Trend


class Lifeline(TranslatedName):
    """One of FEMA's Community Lifelines (Toolkit 2.1)."""

    code = models.CharField(max_length=40, unique=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]
        verbose_name = _("lifeline")


class Component(TranslatedName):
    """A service or facility whose status is reported: electricity, bakeries, metro…"""

    code = models.CharField(max_length=40, unique=True)
    lifeline = models.ForeignKey(Lifeline, models.PROTECT, related_name="components")
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)
    unit = models.CharField(_("counted in"), max_length=60, blank=True,
                            help_text=_("what a count means, e.g. shops, stations"))

    class Meta:
        ordering = ["position"]
        verbose_name = _("component")


class StatusReport(models.Model):
    """What someone reported about a component in an area at a moment. Never changed;
    a later report supersedes it on the board, and both stay in the history."""

    area = models.ForeignKey(Area, models.PROTECT, related_name="lifeline_reports",
                             verbose_name=_("area"))
    area_path = models.CharField(max_length=400)
    component = models.ForeignKey(Component, models.PROTECT, related_name="reports",
                                  verbose_name=_("component"))
    status = models.CharField(_("status"), max_length=6, choices=Status.choices)
    percent_operating = models.PositiveSmallIntegerField(_("percent operating"), null=True,
                                                         blank=True)
    count_operating = models.PositiveIntegerField(_("number operating"), null=True,
                                                  blank=True)
    count_total = models.PositiveIntegerField(_("number in all"), null=True, blank=True)
    trend = models.CharField(_("trend"), max_length=10, choices=Trend.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    source = models.TextField(_("source"), blank=True)
    estimate = models.BooleanField(_("estimate"), default=False)
    occurred_at = models.DateTimeField(_("status at"))
    recorded_at = models.DateTimeField(_("recorded at"))
    actor_label = models.CharField(max_length=200)
    external_id = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    journal_seq = models.BigIntegerField(null=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("status report")
        indexes = [
            # The board as of a moment: the newest report of each cell by then, read
            # from the index alone (it is in the probe's order and holds what the
            # roll-up needs: the status and when it was known).
            models.Index(fields=["area", "component", "occurred_at", "id", "recorded_at",
                                 "status"], name="lifeline_cell_asof"),
            models.Index(fields=["occurred_at"], name="lifeline_occurred"),
        ]
        # Only keyed reports are indexed: most reports carry no key, and an index full
        # of NULLs makes SQLite's statistics (after ANALYZE) judge a key look-up to be a
        # scan of the table.
        constraints = [models.UniqueConstraint(
            fields=["external_id"], condition=models.Q(external_id__isnull=False),
            name="lifeline_unique_external_id")]

    def __str__(self) -> str:
        return f"{self.area_id}/{self.component_id}={self.status} at {self.occurred_at:%Y-%m-%d}"


class CurrentStatus(models.Model):
    """The newest report of each cell, kept by the services, so the board "now" is one
    read; its known times keep the known periods (`KnownPeriod`) in step.

    Every batch moves thousands of these pointers, so the columns a move changes carry
    no index (the cell's unique index finds a pointer; a report is never deleted, and a
    component seldom): on PostgreSQL the move is then a heap-only update, written into
    free room the table keeps on each page (fillfactor 50, set by the migration), with no
    index entry written at all."""

    area = models.ForeignKey(Area, models.CASCADE, related_name="+", db_index=False)
    component = models.ForeignKey(Component, models.CASCADE, related_name="+",
                                  db_index=False)
    report = models.ForeignKey(StatusReport, models.CASCADE, related_name="+",
                               db_index=False)
    occurred_at = models.DateTimeField()
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.GREY)
    # When the report pointed to became known (the later of its occurred_at and
    # recorded_at): from then on it is the cell's state (see KnownPeriod).
    known_from = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["area", "component"],
                                               name="lifeline_current_cell")]

    def __str__(self) -> str:
        return f"{self.area_id}/{self.component_id} -> {self.report_id}"


# Upper bounds (hours) of the length classes of known periods; longer ones are class
# len(SPAN_HOURS), looked up without an upper bound (there are few).
SPAN_HOURS = (1, 4, 16, 64, 256, 1024)


def span_class(seconds: float) -> int:
    """The length class of a period that lasts this many seconds."""
    return next((i for i, h in enumerate(SPAN_HOURS) if seconds <= h * 3600),
                len(SPAN_HOURS))


class KnownPeriod(models.Model):
    """The time during which a report was its cell's state as known then, for each report
    that was so for a while and then stopped being so (the cell's newest report is so
    from its `known_from` on, with no end: that one is in CurrentStatus).

    A report is the state of its cell as of t exactly when it is known by t (`known_from`,
    the later of its occurred_at and recorded_at, is at most t) and no report that beats
    it (a later occurred_at, or the same and a higher id) is known by t (`known_until`,
    the earliest `known_from` of those, is after t). At any t one report of a cell at
    most does both, so the board as of t is one look-up of the periods holding t instead
    of a probe of the reports per cell. A period of at most L hours that holds t ends in
    (t, t + L]: each period has a length class (`SPAN_HOURS`), and the look-up is one
    bounded range scan per class of a B-tree on (class, known_until, …), which reads at
    most about four periods per cell more than it keeps. (A range index, GiST or SP-GiST,
    answers the look-up as fast but costs 100-150 µs for each period inserted into
    millions; a B-tree insert near the end of a class costs a few.) The services keep the
    periods with every report written; `services.rebuild_periods` computes them from the
    reports."""

    report = models.OneToOneField(StatusReport, models.CASCADE, primary_key=True,
                                  related_name="+")
    area = models.ForeignKey(Area, models.CASCADE, related_name="+", db_index=False)
    component = models.ForeignKey(Component, models.CASCADE, related_name="+",
                                  db_index=False)
    status = models.CharField(max_length=6, choices=Status.choices)
    occurred_at = models.DateTimeField()
    known_from = models.DateTimeField()
    known_until = models.DateTimeField()
    span = models.PositiveSmallIntegerField()  # length class: index into SPAN_HOURS

    class Meta:
        indexes = [
            # The board's look-up, answered from the index alone.
            models.Index(fields=["span", "known_until", "known_from", "area", "component",
                                 "status", "occurred_at", "report"],
                         name="lifeline_period_span"),
        ]

    def __str__(self) -> str:
        return f"{self.report_id}: {self.known_from:%Y-%m-%d %H:%M} to {self.known_until:%H:%M}"
