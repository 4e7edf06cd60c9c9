"""Enumerations of the stabilisation force."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AirfieldRole(models.TextChoices):
    APOE = "apoe", _("Port of embarkation (in country)")
    APOD = "apod", _("Port of debarkation (home)")


class MovementKind(models.TextChoices):
    FLIGHT = "flight", _("Flight")
    ROAD = "road", _("Road convoy")


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")
    SUPERSEDED = "superseded", _("Superseded")


class SolverStatus(models.TextChoices):
    OPTIMAL = "optimal", _("optimal")
    FEASIBLE = "feasible", _("feasible")
    STOPPED = "stopped", _("stopped")
    INFEASIBLE = "infeasible", _("infeasible")


class GapKind(models.TextChoices):
    OVERLAP = "overlap", _("Relief overlap too short")
    UNGUARDED = "unguarded", _("Site left unguarded")
    BOARDING = "boarding", _("Unit boards before its sites are released")


class DeviationKind(models.TextChoices):
    LATE = "late", _("Departed late")
    EARLY = "early", _("Departed early")
    MISSING = "missing", _("Planned sortie not flown")
    EXTRA = "extra", _("Movement not in the plan")
    MANIFEST = "manifest", _("Manifest differs from the plan")
