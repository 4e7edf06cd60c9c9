"""The core domain: areas, places, organizations and the journal."""

from __future__ import annotations

import uuid

import uuid6
from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from .choices import AreaLevel, JournalSource, OrganizationKind, PlaceKind


def time_ordered_uid() -> uuid.UUID:
    """A UUID of version 7 (RFC 9562): its first 48 bits are the creation time in
    milliseconds and the other 74 are random. A new row's uid sorts after the older ones,
    so it goes to the end of the uid index instead of a random page of it: one cached page
    per insert rather than one read from anywhere in a table of millions."""
    return uuid.UUID(int=uuid6.uuid7().int)


def as_uid(value: object) -> uuid.UUID | None:
    """`value` read as a UUID (a row's uid as a client sends it), None when it is not one."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def in_language(obj, field: str, language: str | None = None) -> str:
    """`obj.<field>_<language>` (e.g. name_ru) for the reader's language, else the English
    `obj.<field>`."""
    language = (language or translation.get_language() or "en")[:2]
    return getattr(obj, f"{field}_{language}", "") or getattr(obj, field)


class TranslatedName(models.Model):
    """A name kept in English, Kazakh and Russian; shown in the reader's language."""

    name = models.CharField(_("name (English)"), max_length=200)
    name_kk = models.CharField(_("name (Kazakh)"), max_length=200, blank=True)
    name_ru = models.CharField(_("name (Russian)"), max_length=200, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.label()

    def label(self, language: str | None = None) -> str:
        return in_language(self, "name", language)


class VisibleQuerySet(models.QuerySet):
    """Every read of a scoped model starts here: `Model.objects.visible_to(user)`."""

    def visible_to(self, user):
        from .permissions import scope_filter

        return self.filter(scope_filter(user, self.model))


class Area(TranslatedName):
    """An administrative unit: country > region > city > district.

    `path` is the chain of codes from the country down ("KZ/KZ-ALA/KZ751110/"), so a
    subtree is one indexed prefix query on either database.
    """

    code = models.CharField(_("code"), max_length=40, unique=True)
    level = models.CharField(_("level"), max_length=10, choices=AreaLevel.choices)
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children",
        verbose_name=_("parent"),
    )
    path = models.CharField(max_length=400, db_index=True, editable=False)
    lat = models.FloatField(_("latitude"))
    lon = models.FloatField(_("longitude"))
    centroid_estimated = models.BooleanField(_("centroid is an estimate"), default=False)
    population = models.BigIntegerField(_("population"), null=True, blank=True)
    boundary = models.JSONField(_("boundary (GeoJSON geometry)"), null=True, blank=True)
    boundary_source = models.CharField(_("boundary source"), max_length=300, blank=True)
    source = models.TextField(_("source"), blank=True)
    note = models.TextField(_("note"), blank=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = _("area")
        verbose_name_plural = _("areas")

    def subtree_q(self, prefix: str = "") -> models.Q:
        """Matches rows whose area lies in this area's subtree (itself included)."""
        return models.Q(**{f"{prefix}path__startswith": self.path})


class Organization(TranslatedName):
    """An agency, commission, contributing state, utility, business or NGO."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=OrganizationKind.choices)
    country = models.CharField(_("country"), max_length=2, blank=True)
    area = models.ForeignKey(
        Area, models.PROTECT, null=True, blank=True, related_name="organizations",
        verbose_name=_("area"),
    )
    source = models.TextField(_("source"), blank=True)
    note = models.TextField(_("note"), blank=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")


class Place(TranslatedName):
    """A named site with a point: a facility, building or airfield."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=30, choices=PlaceKind.choices)
    lat = models.FloatField(_("latitude"))
    lon = models.FloatField(_("longitude"))
    area = models.ForeignKey(
        Area, models.PROTECT, related_name="places", verbose_name=_("area")
    )
    organization = models.ForeignKey(
        Organization, models.PROTECT, null=True, blank=True, related_name="places",
        verbose_name=_("organization"),
    )
    details = models.TextField(_("details"), blank=True)
    source = models.TextField(_("source"), blank=True)
    estimate = models.BooleanField(_("location or facts are estimates"), default=False)
    note = models.TextField(_("note"), blank=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["lat", "lon"])]
        verbose_name = _("place")
        verbose_name_plural = _("places")


class JournalEntry(models.Model):
    """One thing that happened, as the EOC learned it. Append-only.

    `occurred_at` is when it happened in the world, `recorded_at` when the EOC learned
    it; both are kept because late reports are normal in a crisis. `seq` is the order of
    recording, without gaps; `hash` chains each entry to the one before it so that an
    edit, deletion or out-of-order insertion is found by `sitroom journal verify`.
    """

    seq = models.BigIntegerField(primary_key=True)
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    recorded_at = models.DateTimeField(_("recorded at"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("actor"), max_length=200)
    source = models.CharField(_("source"), max_length=10, choices=JournalSource.choices)
    area = models.ForeignKey(
        Area, models.PROTECT, null=True, blank=True, related_name="journal_entries",
        verbose_name=_("area"),
    )
    area_path = models.CharField(max_length=400, blank=True, db_index=True)
    place = models.ForeignKey(
        Place, models.PROTECT, null=True, blank=True, related_name="journal_entries",
        verbose_name=_("place"),
    )
    organization = models.ForeignKey(
        Organization, models.PROTECT, null=True, blank=True, related_name="journal_entries",
        verbose_name=_("organization"),
    )
    subject_app = models.CharField(max_length=40, blank=True)
    subject_model = models.CharField(max_length=60, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    kind = models.CharField(_("kind"), max_length=40, db_index=True)
    summary = models.TextField(_("summary"))
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    # NULL, not "": many entries have none, and the unique constraint must ignore them.
    external_id = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    estimate = models.BooleanField(_("estimate"), default=False)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-seq"]
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        indexes = [
            models.Index(fields=["occurred_at", "seq"], name="journal_occurred_seq"),
            models.Index(fields=["area_path", "occurred_at"], name="journal_area_occurred"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="journal_unique_external_id"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.summary[:60]}"

    @property
    def display_summary(self) -> str:
        """The summary in the reader's language when the system wrote it."""
        from .i18n import render

        return render(self.summary, self.payload)

    @property
    def kind_label(self) -> str:
        from .choices import JOURNAL_KINDS

        return str(JOURNAL_KINDS.get(self.kind, self.kind))

    @property
    def sources(self) -> list[str]:
        value = (self.payload or {}).get("sources") or []
        return [str(s) for s in value]
