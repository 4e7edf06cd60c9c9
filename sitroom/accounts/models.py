"""Who may do what, and where: a role and a scope per user; API tokens."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from sitroom.core.models import Area, Organization

from .choices import Role


class Profile(models.Model):
    """A user's role and scope.

    With `all_areas` the user sees the whole country; otherwise only what lies in the
    subtree of one of `areas` or belongs to one of `organizations`.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="sitroom_profile"
    )
    role = models.CharField(_("role"), max_length=30, choices=Role.choices, default=Role.VIEWER)
    all_areas = models.BooleanField(_("sees all areas"), default=False)
    areas = models.ManyToManyField(Area, blank=True, related_name="+", verbose_name=_("areas"))
    organizations = models.ManyToManyField(
        Organization, blank=True, related_name="+", verbose_name=_("organizations")
    )
    organization = models.ForeignKey(
        Organization, models.SET_NULL, null=True, blank=True, related_name="members",
        verbose_name=_("own organization"),
    )

    class Meta:
        verbose_name = _("profile")

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class ApiToken(models.Model):
    """A revocable API token. Only its SHA-256 is stored; the secret is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")

    def __str__(self) -> str:
        return f"{self.user}/{self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None
