"""The dashboard's pre-aggregated tables, refreshed by Celery (``reports.dashboard.services``).

- ``DailySales``: one row per day (in the shop's time zone) with at least one placed order:
  orders, revenue, buyers and new buyers. Refreshed incrementally (the last few days are
  recomputed) every few minutes and in full at night or on demand.
- ``DailySalesRefresh``: the log of those refreshes — when, how, in which time zone — so
  the page can say "as of" and an incremental run knows when it must become a full one.
- ``DashboardSnapshot``: the figures that need a pass over a large table (customers,
  active customers, repurchase rate, churn-risk histogram, recent campaigns, NPS and
  sentiment by month), computed together at ``as_of``. The page reads the newest row.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DailySales(models.Model):
    day = models.DateField(_("day"), primary_key=True, help_text=_("In the shop's time zone."))
    orders = models.BigIntegerField(_("orders"), default=0)
    revenue = models.DecimalField(_("revenue"), max_digits=18, decimal_places=2, default=0)
    buyers = models.BigIntegerField(_("buyers"), default=0, help_text=_("Customers with a placed order that day."))
    new_buyers = models.BigIntegerField(
        _("new buyers"), default=0, help_text=_("Customers whose first placed order ever was that day.")
    )

    class Meta:
        verbose_name = _("daily sales")
        verbose_name_plural = _("daily sales")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day}: {self.orders} orders"


class DailySalesRefresh(models.Model):
    class Mode(models.TextChoices):
        FULL = "full", _("Full")
        INCREMENTAL = "incremental", _("Incremental")

    mode = models.CharField(max_length=16, choices=Mode.choices)
    time_zone = models.CharField(max_length=64)
    from_day = models.DateField(null=True, blank=True, help_text=_("Incremental: the first day recomputed."))
    days = models.IntegerField(default=0, help_text=_("Day rows written."))
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()

    class Meta:
        verbose_name = _("daily sales refresh")
        verbose_name_plural = _("daily sales refreshes")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.mode} sales refresh at {self.started_at:%Y-%m-%d %H:%M}"


class DashboardSnapshot(models.Model):
    as_of = models.DateTimeField(_("as of"), help_text=_("The moment the figures describe."))
    seconds = models.FloatField(_("seconds to compute"), default=0)
    time_zone = models.CharField(max_length=64, help_text=_("Months of the trends are in this time zone."))
    customers = models.BigIntegerField(_("customers"), default=0)
    active_customers = models.BigIntegerField(
        _("active customers"), default=0, help_text=_("A placed order or any event in the 30 days before as_of.")
    )
    buyers = models.BigIntegerField(_("buyers"), default=0, help_text=_("Customers with at least one placed order."))
    repeat_buyers = models.BigIntegerField(_("repeat buyers"), default=0, help_text=_("Two or more placed orders."))
    churn_scored = models.BigIntegerField(_("customers with a churn risk"), default=0)
    churn_histogram = models.JSONField(_("churn-risk histogram"), default=list, blank=True)
    campaigns = models.JSONField(_("recent campaigns"), default=list, blank=True)
    nps_months = models.JSONField(_("NPS by month"), default=list, blank=True)
    sentiment_months = models.JSONField(_("review sentiment by month"), default=list, blank=True)

    class Meta:
        verbose_name = _("dashboard snapshot")
        verbose_name_plural = _("dashboard snapshots")
        ordering = ["-as_of", "-id"]
        indexes = [models.Index(fields=["-as_of", "-id"], name="dashboard_snapshot_asof_idx")]

    def __str__(self) -> str:
        return f"dashboard as of {self.as_of:%Y-%m-%d %H:%M}"
