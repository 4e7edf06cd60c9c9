from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "sitroom.incidents"
    label = "incidents"
    verbose_name = _("Security situation")

    def ready(self):
        from sitroom.core import filestore
        from sitroom.core.choices import JOURNAL_KINDS

        from .choices import JOURNAL_KINDS as OURS
        from .documents import check_stored

        JOURNAL_KINDS.update(OURS)
        filestore.CHECKS.append(check_stored)
