"""Enumerations of the lifelines board."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    """FEMA lifeline colours. Each has a symbol and a text too: never colour alone."""

    GREEN = "green", _("Operating normally")
    YELLOW = "yellow", _("Disrupted or limited")
    RED = "red", _("Not operating")
    GREY = "grey", _("Unknown")


SYMBOLS = {Status.GREEN: "✔", Status.YELLOW: "▲", Status.RED: "✖", Status.GREY: "?"}
# For the "worst" roll-up: higher is worse. Unknown counts as better than any known
# disruption, so that one district without a report does not hide a red one.
SEVERITY = {Status.GREEN: 0, Status.GREY: 1, Status.YELLOW: 2, Status.RED: 3}


class Trend(models.TextChoices):
    IMPROVING = "improving", _("Improving")
    STABLE = "stable", _("Stable")
    WORSENING = "worsening", _("Worsening")
    UNKNOWN = "", _("Not stated")


class RollUp(models.TextChoices):
    """How an area's status is derived from the areas inside it."""

    WORST = "worst", _("the worst status of the areas inside it")
    MAJORITY = "majority", _("the status most of the areas inside it report (worst on a tie)")
