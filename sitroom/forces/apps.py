from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ForcesConfig(AppConfig):
    name = "sitroom.forces"
    label = "forces"
    verbose_name = _("Stabilisation force")

    def ready(self):
        from sitroom.core.choices import JOURNAL_KINDS

        JOURNAL_KINDS["force"] = _("Stabilisation force")
