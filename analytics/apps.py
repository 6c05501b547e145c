from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"

    def ready(self) -> None:
        from analytics.recommendations.profile import recommended_products_panel
        from customers.profile_panels import profile_panel_register

        profile_panel_register(recommended_products_panel, order=30)
