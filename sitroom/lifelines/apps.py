from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LifelinesConfig(AppConfig):
    name = "sitroom.lifelines"
    label = "lifelines"
    verbose_name = _("Lifelines and services")

    def ready(self):
        from sitroom.core.choices import JOURNAL_KINDS

        JOURNAL_KINDS["lifeline"] = _("Lifeline status")
