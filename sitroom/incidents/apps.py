from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "sitroom.incidents"
    label = "incidents"
    verbose_name = _("Security situation")

    def ready(self):
        from sitroom.core.choices import JOURNAL_KINDS

        from .choices import JOURNAL_KINDS as OURS

        JOURNAL_KINDS.update(OURS)
