"""The stabilisation force: contributing states' contingents, their units and vehicles, the
sites they guard and the national units relieving them, airfields, aircraft types, the
movements that take the force home, and the withdrawal plans.

History. Reference-like rows (contingents, units, vehicles, airfields, aircraft types)
change rarely; they are updated in place and every change is journaled with its old and
new values. The records the as-of board is built from — guard posts, reliefs and
movements — are versioned rows: a change never overwrites a row, it closes it
(`superseded_at`) and adds the new version with the same `uid`. "As known at T" is then
`recorded_at <= T < superseded_at`, and "in force at T" is read from the row's own
times (guard from/to, relief from, actual departure).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sitroom.core.models import Area, Organization, Place, TranslatedName, in_language

from .choices import AirfieldRole, MovementKind, PlanStatus, SolverStatus


class ForceQuerySet(models.QuerySet):
    """`visible_to(user)`: rows whose area (reached through `SCOPE_PATH`) lies in the
    user's scope. Models without a `SCOPE_PATH` are reference data every role may read."""

    def visible_to(self, user):
        from .access import scope_q

        return self.filter(scope_q(user, getattr(self.model, "SCOPE_PATH", None)))

    def known_at(self, moment=None):
        """Versioned rows: the version current at `moment` (now when None)."""
        if moment is None:
            return self.filter(superseded_at__isnull=True)
        return self.filter(Q(superseded_at__isnull=True) | Q(superseded_at__gt=moment),
                           recorded_at__lte=moment)


class Contingent(TranslatedName):
    """One contributing state's contingent in the force; its name in three languages."""

    SCOPE_PATH = "area__path"

    code = models.CharField(_("code"), max_length=40, unique=True)
    state = models.CharField(_("state (ISO 3166 alpha-2)"), max_length=2)
    organization = models.ForeignKey(Organization, models.PROTECT, null=True, blank=True,
                                     related_name="contingents",
                                     verbose_name=_("contributing state"))
    area = models.ForeignKey(Area, models.PROTECT, related_name="contingents",
                             verbose_name=_("area of operation"))
    commander = models.CharField(_("commander"), max_length=200, blank=True)
    personnel_declared = models.PositiveIntegerField(_("personnel declared"), null=True,
                                                     blank=True)
    personnel_estimate = models.BooleanField(_("personnel figure is an estimate"),
                                             default=False)
    source = models.TextField(_("source"), blank=True)
    note = models.TextField(_("note"), blank=True)

    objects = ForceQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("contingent")


class Airfield(TranslatedName):
    """An airfield the force flies from (APOE, in country) or home to (APOD), named in
    English, Kazakh and Russian."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    icao = models.CharField(_("ICAO code"), max_length=4, blank=True)
    place = models.ForeignKey(Place, models.PROTECT, null=True, blank=True,
                              related_name="force_airfields", verbose_name=_("place"))
    country = models.CharField(_("country"), max_length=2, blank=True)
    lat = models.FloatField(_("latitude"))
    lon = models.FloatField(_("longitude"))
    role = models.CharField(_("role"), max_length=4, choices=AirfieldRole.choices)
    max_on_ground = models.PositiveSmallIntegerField(_("maximum aircraft on the ground"),
                                                     default=4)
    opens = models.TimeField(_("opens (local)"), null=True, blank=True)
    closes = models.TimeField(_("closes (local)"), null=True, blank=True)
    tz = models.CharField(_("time zone"), max_length=60, default="Asia/Almaty")
    estimate = models.BooleanField(_("figures are estimates"), default=False)
    source = models.TextField(_("source"), blank=True)
    note = models.TextField(_("note"), blank=True)

    objects = ForceQuerySet.as_manager()

    class Meta:
        ordering = ["role", "code"]
        verbose_name = _("airfield")



class AircraftType(TranslatedName):
    """Reference data for planning, each figure with its sources (airlift notes §4).
    `airframes_available` is how many the force may use for the withdrawal."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    acl_kg = models.PositiveIntegerField(_("allowable cabin load (kg)"))
    max_payload_kg = models.PositiveIntegerField(_("maximum payload (kg)"), null=True,
                                                 blank=True)
    floor_length_m = models.FloatField(_("cargo floor length (m)"))
    floor_width_m = models.FloatField(_("cargo floor width (m)"))
    height_m = models.FloatField(_("cargo hold height (m)"))
    seats = models.PositiveSmallIntegerField(_("seats beside vehicles"))
    troop_seats = models.PositiveSmallIntegerField(_("seats, troops only"), default=0)
    cruise_kmh = models.PositiveSmallIntegerField(_("cruise speed (km/h)"))
    turnaround_min = models.PositiveSmallIntegerField(_("turnaround (min)"))
    airframes_available = models.PositiveSmallIntegerField(_("airframes available"),
                                                           default=0)
    available_from = models.DateTimeField(_("available from"), null=True, blank=True)
    sources = models.JSONField(_("sources"), default=list, blank=True)
    note = models.TextField(_("note"), blank=True)
    estimate = models.BooleanField(_("planning figures are estimates"), default=True)

    objects = ForceQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("aircraft type")

    def __str__(self) -> str:
        return self.label()


class Unit(TranslatedName):
    """A unit of a contingent: what moves home as one, by air or by road; its name in
    three languages."""

    SCOPE_PATH = "contingent__area__path"

    code = models.CharField(_("code"), max_length=40, unique=True)
    contingent = models.ForeignKey(Contingent, models.PROTECT, related_name="units",
                                   verbose_name=_("contingent"))
    personnel = models.PositiveIntegerField(_("personnel"))
    estimate = models.BooleanField(_("personnel figure is an estimate"), default=False)
    arrived_at = models.DateTimeField(_("in country from"))
    departure_airfield = models.ForeignKey(Airfield, models.PROTECT, null=True, blank=True,
                                           related_name="+",
                                           verbose_name=_("departure airfield (APOE)"))
    home_airfield = models.ForeignKey(Airfield, models.PROTECT, null=True, blank=True,
                                      related_name="+", verbose_name=_("home airfield"))
    road_allowed = models.BooleanField(_("may leave by road"), default=False)
    road_min = models.PositiveIntegerField(_("road time home (min)"), default=0)
    source = models.TextField(_("source"), blank=True)
    note = models.TextField(_("note"), blank=True)

    objects = ForceQuerySet.as_manager()

    class Meta:
        ordering = ["contingent__code", "code"]
        verbose_name = _("unit")


class Vehicle(models.Model):
    """Vehicles of one kind in a unit, with the dimensions that decide what carries them."""

    SCOPE_PATH = "unit__contingent__area__path"

    unit = models.ForeignKey(Unit, models.CASCADE, related_name="vehicles",
                             verbose_name=_("unit"))
    kind = models.CharField(_("kind"), max_length=60)
    count = models.PositiveIntegerField(_("count"))
    weight_kg = models.PositiveIntegerField(_("weight (kg)"))
    length_m = models.FloatField(_("length (m)"))
    width_m = models.FloatField(_("width (m)"))
    height_m = models.FloatField(_("height (m)"))
    estimate = models.BooleanField(_("figures are estimates"), default=False)
    source = models.TextField(_("source"), blank=True)

    objects = ForceQuerySet.as_manager()

    class Meta:
        ordering = ["unit__code", "kind"]
        verbose_name = _("vehicles of a kind")
        constraints = [models.UniqueConstraint(fields=["unit", "kind"],
                                               name="forces_vehicle_unit_kind")]

    def __str__(self) -> str:
        return f"{self.unit_id}: {self.count} × {self.kind}"


class Versioned(models.Model):
    """A record kept as versions: see the module docstring."""

    uid = models.CharField(max_length=40, db_index=True)
    recorded_at = models.DateTimeField(_("recorded at"))
    superseded_at = models.DateTimeField(null=True, blank=True)
    actor_label = models.CharField(max_length=200)
    journal_seq = models.BigIntegerField(null=True)
    removed = models.BooleanField(default=False)  # the version that ends the record
    estimate = models.BooleanField(_("estimate"), default=False)
    source = models.TextField(_("source"), blank=True)
    note = models.TextField(_("note"), blank=True)

    objects = ForceQuerySet.as_manager()

    class Meta:
        abstract = True


class GuardPost(Versioned):
    """A unit guards a place from `start` until `end` (None: still guarding)."""

    SCOPE_PATH = "place__area__path"

    unit = models.ForeignKey(Unit, models.PROTECT, related_name="guard_posts",
                             verbose_name=_("unit"))
    place = models.ForeignKey(Place, models.PROTECT, related_name="guard_posts",
                              verbose_name=_("place"))
    start = models.DateTimeField(_("guards from"))
    end = models.DateTimeField(_("guards until"), null=True, blank=True)
    travel_min = models.PositiveIntegerField(_("road time to the airfield (min)"), default=60)
    overlap_min = models.PositiveIntegerField(_("required overlap (min)"), null=True,
                                              blank=True)

    class Meta:
        ordering = ["place__code", "start"]
        verbose_name = _("guard post")
        constraints = [models.UniqueConstraint(fields=["uid"],
                                               condition=Q(superseded_at__isnull=True),
                                               name="forces_guardpost_current")]

    def __str__(self) -> str:
        return f"{self.unit_id} guards {self.place_id}"


class Relief(Versioned):
    """A national unit takes over the guard of a place from `start`."""

    SCOPE_PATH = "place__area__path"

    place = models.ForeignKey(Place, models.PROTECT, related_name="force_reliefs",
                              verbose_name=_("place"))
    relieving_unit = models.CharField(_("relieving unit"), max_length=200)
    relieving_unit_kk = models.CharField(_("relieving unit (Kazakh)"), max_length=200,
                                         blank=True)
    relieving_unit_ru = models.CharField(_("relieving unit (Russian)"), max_length=200,
                                         blank=True)
    organization = models.ForeignKey(Organization, models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("organization"))
    start = models.DateTimeField(_("guards from"))

    class Meta:
        ordering = ["place__code", "start"]
        verbose_name = _("national relief")
        constraints = [models.UniqueConstraint(fields=["uid"],
                                               condition=Q(superseded_at__isnull=True),
                                               name="forces_relief_current")]

    def __str__(self) -> str:
        return f"{self.relieving_unit} at {self.place_id}"

    def relieving_label(self, language: str | None = None) -> str:
        """The relieving unit in the reader's language (English when not given)."""
        return in_language(self, "relieving_unit", language)


class Movement(Versioned):
    """A flight or a road convoy taking units (or parts of them) home.

    `manifest` is a list of {"unit": code, "personnel": n, "vehicles": {kind: count}}.
    `area` is where it starts (the departure airfield's or the site's area) and scopes it.
    """

    SCOPE_PATH = "area__path"

    kind = models.CharField(_("kind"), max_length=6, choices=MovementKind.choices)
    label = models.CharField(_("call sign or label"), max_length=100, blank=True)
    aircraft_type = models.ForeignKey(AircraftType, models.PROTECT, null=True, blank=True,
                                      related_name="+", verbose_name=_("aircraft type"))
    origin = models.ForeignKey(Airfield, models.PROTECT, null=True, blank=True,
                               related_name="+", verbose_name=_("origin airfield"))
    origin_place = models.ForeignKey(Place, models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("origin site"))
    destination = models.ForeignKey(Airfield, models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("destination"))
    destination_text = models.CharField(_("destination (text)"), max_length=200, blank=True)
    area = models.ForeignKey(Area, models.PROTECT, related_name="+", verbose_name=_("area"))
    planned_departure = models.DateTimeField(_("planned departure"), null=True, blank=True)
    planned_arrival = models.DateTimeField(_("planned arrival"), null=True, blank=True)
    actual_departure = models.DateTimeField(_("actual departure"), null=True, blank=True)
    actual_arrival = models.DateTimeField(_("actual arrival"), null=True, blank=True)
    manifest = models.JSONField(_("manifest"), default=list)
    plan = models.ForeignKey("WithdrawalPlan", models.SET_NULL, null=True, blank=True,
                             related_name="movements", verbose_name=_("plan"))
    sortie = models.CharField(_("plan sortie"), max_length=40, blank=True)
    time_estimated = models.BooleanField(_("times are estimates"), default=False)

    class Meta:
        ordering = ["actual_departure", "planned_departure", "uid"]
        verbose_name = _("movement")
        constraints = [models.UniqueConstraint(fields=["uid"],
                                               condition=Q(superseded_at__isnull=True),
                                               name="forces_movement_current")]

    def __str__(self) -> str:
        return self.label or self.uid

    @property
    def departure(self):
        return self.actual_departure or self.planned_departure

    def personnel(self) -> int:
        return sum(int(item.get("personnel") or 0) for item in self.manifest or [])

    def vehicles(self) -> int:
        return sum(int(n) for item in self.manifest or []
                   for n in (item.get("vehicles") or {}).values())


class WithdrawalPlan(models.Model):
    """A plan from the planner, stored as its JSON with the figures it is judged by."""

    SCOPE_PATH = "*"  # the whole force: read by users who see every area

    created_at = models.DateTimeField(_("created at"))
    created_by = models.CharField(_("created by"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=PlanStatus.choices,
                              default=PlanStatus.DRAFT)
    approved_by = models.CharField(_("approved by"), max_length=200, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)
    start = models.DateTimeField(_("plan start"), null=True, blank=True)
    closure = models.DateTimeField(_("closure (last unit home)"), null=True, blank=True)
    solver_status = models.CharField(_("solver status"), max_length=20, blank=True,
                                     choices=SolverStatus.choices)
    sorties = models.PositiveIntegerField(_("sorties"), default=0)
    ratio = models.FloatField(_("closure ÷ best bound"), null=True, blank=True)
    ratio_bound = models.CharField(_("binding closure bound"), max_length=40, blank=True)
    sortie_ratio = models.FloatField(_("sorties ÷ best bound"), null=True, blank=True)
    sortie_bound = models.CharField(_("binding sortie bound"), max_length=40, blank=True)
    seconds = models.FloatField(_("solve time (s)"), default=0)
    plan = models.JSONField(_("plan"))
    problem = models.JSONField(_("problem"), default=dict)
    note = models.TextField(_("note"), blank=True)
    journal_seq = models.BigIntegerField(null=True)

    objects = ForceQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("withdrawal plan")

    def __str__(self) -> str:
        return f"plan {self.pk} ({self.status})"


class PlannerRun(models.Model):
    """One run of the planner started from the web: its progress as it goes and the plan
    it stored. The solve runs in a thread of the server process (see `runs.py`); a Stop
    request is a flag here, so any process serving the page can set it."""

    SCOPE_PATH = "*"

    RUNNING, DONE, STOPPED, FAILED = "running", "done", "stopped", "failed"
    STATES = [(RUNNING, _("Running")), (DONE, _("Done")), (STOPPED, _("Stopped")),
              (FAILED, _("Failed"))]

    created_at = models.DateTimeField(_("started at"))
    created_by = models.CharField(_("started by"), max_length=200)
    state = models.CharField(_("state"), max_length=10, choices=STATES, default=RUNNING)
    start = models.DateTimeField(_("plan start"))
    time_limit_s = models.FloatField(_("time limit (s)"))
    elapsed_s = models.FloatField(_("elapsed (s)"), default=0)
    best_closure_min = models.IntegerField(_("best closure (min)"), null=True, blank=True)
    best_bound_min = models.IntegerField(_("best bound (min)"), null=True, blank=True)
    stop_requested = models.BooleanField(_("stop requested"), default=False)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    plan = models.ForeignKey(WithdrawalPlan, models.SET_NULL, null=True, blank=True,
                             related_name="runs", verbose_name=_("plan"))
    baseline = models.JSONField(_("first-fit-decreasing baseline"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    objects = ForceQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("planner run")

    def __str__(self) -> str:
        return f"run {self.pk} ({self.state})"

    @property
    def best_closure_at(self) -> datetime | None:
        """The best closure so far as a moment (it is kept in minutes from the start)."""
        if self.best_closure_min is None:
            return None
        return self.start + timedelta(minutes=self.best_closure_min)
