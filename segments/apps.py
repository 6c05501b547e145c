from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SegmentsConfig(AppConfig):
    name = "segments"
    verbose_name = _("Segments")

    def ready(self) -> None:
        from customers.profile_panels import profile_panel_register
        from segments.predictions_profile import customer_predictions_panel
        from segments.profile import customer_features_panel

        profile_panel_register(customer_features_panel, order=10)
        profile_panel_register(customer_predictions_panel, order=20)
