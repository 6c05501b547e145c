"""A saved funnel: its ordered steps (``schema.py``), conversion window and default segment.
The date range is chosen each time the funnel is shown; results are computed on demand,
on PostgreSQL from per-customer event timelines (below) when no step has filters."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from reports.funnels.schema import WINDOW_UNITS, Step, steps_parse


class Funnel(models.Model):
    class WindowUnit(models.TextChoices):
        HOURS = "hours", _("hours")
        DAYS = "days", _("days")

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True, default="")
    steps = models.JSONField(_("steps"), help_text=_("2 to 8 steps: an event type and optional filters each."))
    window_value = models.PositiveIntegerField(_("conversion window"), default=7)
    window_unit = models.CharField(_("window unit"), max_length=8, choices=WindowUnit.choices,
                                   default=WindowUnit.DAYS)  # fmt: skip
    segment = models.ForeignKey("segments.Segment", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("segment"))  # fmt: skip
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("funnel")
        verbose_name_plural = _("funnels")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def parsed_steps(self) -> list[Step]:
        return steps_parse(self.steps)

    @property
    def window_seconds(self) -> int:
        return self.window_value * WINDOW_UNITS[self.window_unit]


class EventTimeline(models.Model):
    """Per customer, the sorted times of their events of each type: a compact copy of the
    event log that lets a funnel find "the first event of type T at or after moment m" with a
    binary search inside one row (``width_bucket``) instead of an index probe per customer.

    PostgreSQL only (arrays); refreshed by ``services.event_timelines_refresh`` (full, or only
    the customers with events newer than the last refresh). It is a cache: a funnel reads the
    customers with newer events from the event table itself, so results never lag behind.
    """

    customer = models.OneToOneField("customers.Customer", primary_key=True, on_delete=models.CASCADE,
                                    related_name="+")  # fmt: skip
    view = ArrayField(models.DateTimeField(), null=True)
    search = ArrayField(models.DateTimeField(), null=True)
    add_to_cart = ArrayField(models.DateTimeField(), null=True)
    favorite = ArrayField(models.DateTimeField(), null=True)
    purchase = ArrayField(models.DateTimeField(), null=True)
    review = ArrayField(models.DateTimeField(), null=True)
    page = ArrayField(models.DateTimeField(), null=True)

    class Meta:
        verbose_name = _("event timeline")
        verbose_name_plural = _("event timelines")

    def __str__(self) -> str:
        return f"timeline of {self.customer_id}"


class EventTimelineRefresh(models.Model):
    """One refresh of the timelines; the last finished one's ``max_event_id`` is the
    watermark: events with a higher id are not in the timelines yet."""

    class Mode(models.TextChoices):
        FULL = "full", _("Full")
        INCREMENTAL = "incremental", _("Incremental")

    mode = models.CharField(max_length=16, choices=Mode.choices)
    max_event_id = models.BigIntegerField()
    customers = models.BigIntegerField(default=0)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("event timeline refresh")
        verbose_name_plural = _("event timeline refreshes")
        indexes = [models.Index(fields=["finished_at"], name="timeline_refresh_finished_idx")]

    def __str__(self) -> str:
        return f"{self.mode} refresh up to event {self.max_event_id}"
