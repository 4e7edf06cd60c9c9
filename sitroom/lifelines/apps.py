from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class LifelinesConfig(AppConfig):
    name = "sitroom.lifelines"
    label = "lifelines"
    verbose_name = _("Lifelines and services")

    def ready(self):
        from sitroom.core.choices import JOURNAL_KINDS

        JOURNAL_KINDS["lifeline"] = _("Lifeline status")

        from .services import periods_after_migrate

        post_migrate.connect(periods_after_migrate, sender=self,
                             dispatch_uid="lifelines-periods-after-migrate")
