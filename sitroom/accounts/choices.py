"""Roles of the people who use an EOC."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    DIRECTOR = "director", _("Director")
    DUTY_OFFICER = "duty_officer", _("Duty officer")
    ANALYST = "analyst", _("Analyst")
    LIAISON = "liaison", _("Agency liaison")
    COMMISSION_MEMBER = "commission_member", _("Commission member")
    ASSISTANCE_OFFICER = "assistance_officer", _("Assistance officer")
    FIELD_REPORTER = "field_reporter", _("Field reporter")
    VIEWER = "viewer", _("Viewer")
