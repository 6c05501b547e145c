from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """Reports read every other app (the right-most layer); they own no tables."""

    name = "reports"
    verbose_name = _("Reports")
