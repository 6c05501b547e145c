from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """Reports read every other app (the right-most layer); their own tables are
    pre-aggregated figures rebuilt by Celery and saved funnel definitions."""

    name = "reports"
    verbose_name = _("Reports")
