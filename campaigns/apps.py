from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self) -> None:
        from analytics.churn.alerts import churn_enrollment_register
        from campaigns.coupons import receivers  # noqa: F401  (connects the signal receivers)
        from campaigns.sending.triggers import retention_enroll, retention_targets
        from campaigns.tracking import receivers as tracking_receivers  # noqa: F401

        churn_enrollment_register(targets=retention_targets, handler=retention_enroll)

        from campaigns.tiers.profile import customer_tier_panel
        from customers.profile_panels import profile_panel_register

        profile_panel_register(customer_tier_panel, order=50)
