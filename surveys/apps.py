from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = _("Surveys")

    def ready(self) -> None:
        from customers.profile_panels import profile_panel_register
        from surveys import definitions  # noqa: F401  (its signal receivers move survey versions)
        from surveys.profile import customer_surveys_panel

        profile_panel_register(customer_surveys_panel, order=40)
