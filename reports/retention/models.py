"""The retention report's pre-aggregated tables: per customer and period with a placed order
(the segment filter reads it) and the cohort × period cells over everyone (the unfiltered
report reads them). Both are rebuilt from the orders by ``retention.refresh``; readers never
see a half-built state because a refresh commits once."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.models import Customer

PERIOD_CHOICES = [("month", _("Month")), ("week", _("Week"))]


class CustomerPeriodActivity(models.Model):
    """A customer's placed orders in one calendar month or ISO week (shop time zone), with
    their cohort (the period of their first placed order) and whether this period is the one
    in which their placed orders reached two (so repeat customers are counted once)."""

    # No FK constraint: the table is rebuilt in bulk; an erased customer's rows go with the
    # customer (Django's delete collector) and the cells catch up at the next refresh.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="+"
    )
    period = models.CharField(_("period"), max_length=5, choices=PERIOD_CHOICES)
    period_start = models.DateField(_("period start"))
    cohort_start = models.DateField(_("cohort start"))
    orders = models.PositiveIntegerField(_("orders"))
    repeat_reached = models.BooleanField(_("second order reached"))

    class Meta:
        verbose_name = _("customer period activity")
        verbose_name_plural = _("customer period activity")
        constraints = [
            models.UniqueConstraint(fields=["customer", "period", "period_start"], name="retention_activity_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.period} {self.period_start}"


class CohortCell(models.Model):
    """Customers of one cohort active in one period, and how many of them placed their second
    order in that period; over all customers."""

    period = models.CharField(_("period"), max_length=5, choices=PERIOD_CHOICES)
    cohort_start = models.DateField(_("cohort start"))
    period_start = models.DateField(_("period start"))
    customers = models.PositiveIntegerField(_("customers"))
    repeaters = models.PositiveIntegerField(_("repeat customers"))

    class Meta:
        verbose_name = _("cohort cell")
        verbose_name_plural = _("cohort cells")
        constraints = [
            models.UniqueConstraint(fields=["period", "period_start", "cohort_start"], name="retention_cell_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.cohort_start} → {self.period_start}"


class RetentionRefresh(models.Model):
    """One rebuild of the retention tables: when, how (full or only customers with new
    orders) and the order id watermark the next incremental rebuild starts from."""

    class Mode(models.TextChoices):
        FULL = "full", _("Full")
        INCREMENTAL = "incremental", _("Incremental")

    mode = models.CharField(_("mode"), max_length=12, choices=Mode.choices)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"))
    order_watermark = models.BigIntegerField(_("last order id included"))
    customers = models.PositiveIntegerField(_("customers rebuilt"))
    rows = models.PositiveIntegerField(_("rows written"))

    class Meta:
        verbose_name = _("retention refresh")
        verbose_name_plural = _("retention refreshes")
        ordering = ["-finished_at", "-pk"]
        get_latest_by = "finished_at"

    def __str__(self) -> str:
        return f"{self.mode} {self.finished_at:%Y-%m-%d %H:%M}"
