"""Segment data: the per-customer feature table and the log of its refreshes.

``CustomerFeatures`` is the one table that segment rules, models and reports read; it is
written only by the set-based refresh in ``segments.features`` (see docs/segments.md for
every column's definition and window semantics).
"""

from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, EventType
from jobs.models import Job
from segments.clustering.errors import ClusteringError
from segments.rfm import RfmSegment

FEATURE_WINDOWS = (7, 30, 90)
ORDER_WINDOWS = (30, 90, 365)


class RfmSegmentChoice(models.TextChoices):
    CHAMPIONS = RfmSegment.CHAMPIONS.value, _("Champions")
    LOYAL = RfmSegment.LOYAL.value, _("Loyal")
    POTENTIAL_LOYALIST = RfmSegment.POTENTIAL_LOYALIST.value, _("Potential Loyalist")
    NEW = RfmSegment.NEW.value, _("New")
    PROMISING = RfmSegment.PROMISING.value, _("Promising")
    NEED_ATTENTION = RfmSegment.NEED_ATTENTION.value, _("Need Attention")
    ABOUT_TO_SLEEP = RfmSegment.ABOUT_TO_SLEEP.value, _("About to Sleep")
    AT_RISK = RfmSegment.AT_RISK.value, _("At Risk")
    CANT_LOSE_THEM = RfmSegment.CANT_LOSE_THEM.value, _("Can't Lose Them")
    HIBERNATING = RfmSegment.HIBERNATING.value, _("Hibernating")
    LOST = RfmSegment.LOST.value, _("Lost")
    NONE = "", _("No orders")


class NpsGroup(models.TextChoices):
    """The customer's latest NPS answer, grouped (9–10, 7–8, 0–6); written by surveys."""

    PROMOTER = "promoter", _("Promoter")
    PASSIVE = "passive", _("Passive")
    DETRACTOR = "detractor", _("Detractor")


class ConsumptionTier(models.TextChoices):
    HIGH = "high", _("High")
    MID = "mid", _("Mid")
    LOW = "low", _("Low")
    NONE = "", _("No orders")


def _event_count_fields() -> dict[str, models.Field]:
    return {
        f"{event_type}_count_{days}d": models.IntegerField(
            format_lazy(_("{type} events, last {days} days"), type=label, days=days), default=0
        )
        for event_type, label in EventType.choices
        for days in FEATURE_WINDOWS
    }


def _order_window_fields() -> dict[str, models.Field]:
    fields: dict[str, models.Field] = {}
    for days in ORDER_WINDOWS:
        fields[f"frequency_{days}d"] = models.IntegerField(
            format_lazy(_("orders, last {days} days"), days=days), default=0
        )
        fields[f"monetary_{days}d"] = models.DecimalField(
            format_lazy(_("spend, last {days} days"), days=days), max_digits=16, decimal_places=2, default=0
        )
    return fields


class CustomerFeaturesBase(models.Model):
    """Columns written by the refresh; the generated window columns are added below so
    their names and the SQL in segments.features come from the same constants."""

    customer = models.OneToOneField(Customer, primary_key=True, on_delete=models.CASCADE, related_name="features")
    as_of = models.DateTimeField(_("as of"), help_text=_("Reference time the windows end at."))
    computed_at = models.DateTimeField(_("computed at"))

    recency_days = models.IntegerField(_("days since last order"), null=True, blank=True)
    frequency = models.IntegerField(_("orders"), default=0)
    monetary = models.DecimalField(_("spend"), max_digits=16, decimal_places=2, default=0)
    avg_order_value = models.DecimalField(
        _("average order value"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    first_order_at = models.DateTimeField(_("first order"), null=True, blank=True)
    last_order_at = models.DateTimeField(_("last order"), null=True, blank=True)
    favourite_category = models.CharField(_("favourite category"), max_length=100, blank=True, default="")
    favourite_brand = models.CharField(_("favourite brand"), max_length=100, blank=True, default="")
    review_count = models.IntegerField(_("reviews"), default=0)
    avg_rating = models.FloatField(_("average rating"), null=True, blank=True)
    coupon_order_share = models.FloatField(_("share of orders with a coupon"), null=True, blank=True)
    interest_categories = models.JSONField(_("interest categories"), default=list, blank=True)

    r_score = models.PositiveSmallIntegerField(_("R score"), null=True, blank=True)
    f_score = models.PositiveSmallIntegerField(_("F score"), null=True, blank=True)
    m_score = models.PositiveSmallIntegerField(_("M score"), null=True, blank=True)
    rfm_segment = models.CharField(
        _("RFM segment"), max_length=32, choices=RfmSegmentChoice.choices, blank=True, default="", db_default=""
    )
    consumption_tier = models.CharField(
        _("consumption tier"), max_length=8, choices=ConsumptionTier.choices, blank=True, default="", db_default=""
    )

    # Filled by later model runs (churn, CLV, clustering, surveys, sentiment).
    churn_risk = models.FloatField(_("churn risk"), null=True, blank=True)
    clv = models.DecimalField(_("customer lifetime value"), max_digits=16, decimal_places=2, null=True, blank=True)
    probability_alive = models.FloatField(_("probability alive"), null=True, blank=True)
    expected_purchases = models.FloatField(_("expected purchases"), null=True, blank=True)
    cluster = models.IntegerField(_("cluster"), null=True, blank=True)
    nps_group = models.CharField(_("NPS group"), max_length=16, choices=NpsGroup.choices, null=True, blank=True)
    csat = models.FloatField(_("CSAT rating"), null=True, blank=True, help_text=_("The latest CSAT answer (1–5)."))
    sentiment = models.FloatField(_("sentiment"), null=True, blank=True)
    recommended_category = models.CharField(
        _("recommended category"), max_length=100, blank=True, default="", db_default=""
    )

    class Meta:
        abstract = True


for _name, _field in {**_order_window_fields(), **_event_count_fields()}.items():
    CustomerFeaturesBase.add_to_class(_name, _field)


class CustomerFeatures(CustomerFeaturesBase):
    class Meta:
        verbose_name = _("customer features")
        verbose_name_plural = _("customer features")
        indexes = [
            models.Index(fields=["rfm_segment"], name="features_rfm_segment_idx"),
            models.Index(fields=["consumption_tier"], name="features_tier_idx"),
            models.Index(fields=["recency_days"], name="features_recency_idx"),
            models.Index(fields=["monetary"], name="features_monetary_idx"),
        ]

    def __str__(self) -> str:
        return f"features of customer {self.customer_id}"


class FeatureRefresh(models.Model):
    """One refresh run: its reference time, the score thresholds its ranges use and the
    id watermarks the next incremental run starts from."""

    class Mode(models.TextChoices):
        FULL = "full", _("Full")
        INCREMENTAL = "incremental", _("Incremental")

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    mode = models.CharField(max_length=16, choices=Mode.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    as_of = models.DateTimeField()
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    range_size = models.IntegerField()
    since = models.DateTimeField(null=True, blank=True, help_text=_("Incremental: the previous run's start."))
    max_order_id = models.BigIntegerField(default=0)
    max_event_id = models.BigIntegerField(default=0)
    max_review_id = models.BigIntegerField(default=0)
    since_order_id = models.BigIntegerField(default=0)
    since_event_id = models.BigIntegerField(default=0)
    since_review_id = models.BigIntegerField(default=0)
    thresholds = models.JSONField(default=dict, blank=True)
    customers_refreshed = models.BigIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["status", "-started_at"], name="feature_refresh_status_idx")]

    def __str__(self) -> str:
        return f"{self.mode} refresh as of {self.as_of:%Y-%m-%d %H:%M}"


class FeatureRefreshRange(models.Model):
    """A customer-id range [low, high) of one refresh; ``finished_at`` makes a range
    task that runs twice count once, and tells when the last range is done."""

    refresh = models.ForeignKey(FeatureRefresh, on_delete=models.CASCADE, related_name="ranges")
    low = models.BigIntegerField()
    high = models.BigIntegerField()
    customers = models.BigIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["refresh", "low"], name="feature_range_refresh_low_uniq")]

    def __str__(self) -> str:
        return f"[{self.low}, {self.high})"


class Segment(models.Model):
    """A saved audience. Dynamic segments are re-evaluated from their rule; static ones
    keep the members they were frozen with or uploaded with."""

    class Kind(models.TextChoices):
        DYNAMIC = "dynamic", _("Dynamic")
        STATIC = "static", _("Static")

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True, default="")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.DYNAMIC)
    rule = models.JSONField(_("rule"), null=True, blank=True)
    size = models.BigIntegerField(_("members"), default=0)
    refreshed_at = models.DateTimeField(_("refreshed at"), null=True, blank=True)
    created_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SegmentMembership(models.Model):
    """One stay of a customer in a segment: current members have no ``left_at``, so the
    rows are also the history of who entered and left, and when."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="memberships")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="segment_memberships")
    entered_at = models.DateTimeField(_("entered"))
    left_at = models.DateTimeField(_("left"), null=True, blank=True)

    class Meta:
        constraints = [
            # At most one open stay per customer and segment.
            models.UniqueConstraint(
                fields=["segment", "customer"], condition=models.Q(left_at__isnull=True), name="membership_open_uniq"
            )
        ]
        indexes = [models.Index(fields=["customer", "segment"], name="membership_customer_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} in {self.segment_id}"


class SegmentSizeSnapshot(models.Model):
    """The segment's size after each refresh: the size-over-time chart."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="size_snapshots")
    at = models.DateTimeField()
    size = models.BigIntegerField()
    entered = models.BigIntegerField(default=0)
    left = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["at"]
        indexes = [models.Index(fields=["segment", "at"], name="segment_size_at_idx")]

    def __str__(self) -> str:
        return f"{self.segment_id} @ {self.at:%Y-%m-%d %H:%M}: {self.size}"


class ClusteringRun(models.Model):
    """One clustering of customers on chosen features (k-means or Ward), with everything
    needed to describe its clusters and to place new customers in them without refitting:
    the scaler (log flags, NULL fills, means, standard deviations) and the centroids in the
    standardised space. Cluster numbers are 1..k, largest first.

    The *applied* run (at most one) is the latest successful k-means run over all
    customers: ``CustomerFeatures.cluster`` holds its cluster numbers, and new customers are
    placed in its clusters after a feature refresh. See docs/segments.md, "Clustering".
    """

    class Algorithm(models.TextChoices):
        KMEANS = "kmeans", _("k-means")
        WARD = "ward", _("Hierarchical (Ward)")

    class Scope(models.TextChoices):
        ALL = "all", _("All customers")
        SEGMENT = "segment", _("Members of a segment")
        SAMPLE = "sample", _("A random sample")

    Status = Job.Status

    algorithm = models.CharField(_("algorithm"), max_length=16, choices=Algorithm.choices)
    features = models.JSONField(_("features"), help_text=_("CustomerFeatures columns, in the order chosen."))
    k_requested = models.PositiveSmallIntegerField(
        _("clusters requested"), null=True, blank=True, help_text=_("Empty: chosen by silhouette.")
    )
    k_used = models.PositiveSmallIntegerField(_("clusters"), null=True, blank=True)
    silhouette_scores = models.JSONField(
        _("silhouette by k"), default=dict, blank=True, help_text=_("Only when k was chosen automatically.")
    )
    silhouette = models.FloatField(_("silhouette"), null=True, blank=True)
    scope = models.CharField(_("scope"), max_length=16, choices=Scope.choices, default=Scope.ALL)
    segment = models.ForeignKey(
        "segments.Segment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("segment"),
    )
    sample_size = models.PositiveIntegerField(_("sample size"), null=True, blank=True)
    include_non_buyers = models.BooleanField(_("include customers without orders"), default=False)
    seed = models.IntegerField(_("random seed"), default=0)
    customers = models.BigIntegerField(_("customers clustered"), default=0)
    scaler = models.JSONField(_("scaler"), default=dict, blank=True)
    centroids = models.JSONField(_("centroids"), default=list, blank=True)
    profiles = models.JSONField(_("cluster profiles"), default=list, blank=True)
    timings = models.JSONField(_("timings (seconds)"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    error = models.JSONField(_("error"), default=dict, blank=True)
    applied = models.BooleanField(_("applied"), default=False)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("clustering run")
        verbose_name_plural = _("clustering runs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["applied"], condition=models.Q(applied=True), name="clustering_one_applied")
        ]

    def __str__(self) -> str:
        return f"{self.get_algorithm_display()} #{self.pk}"

    @property
    def sizes(self) -> list[int]:
        return [profile["size"] for profile in self.profiles]

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def error_message(self) -> str:
        """Why the run failed, in the reader's language when the reason is a known refusal."""
        if self.error.get("code"):
            return ClusteringError.from_dict(self.error).message
        return self.error.get("message", "")


class ClusterMember(models.Model):
    """The cluster each customer of a run was fitted into (for every run, applied or not):
    "save cluster 2 as a segment" reads these rows, and the applied run's labels are
    copied from them into ``CustomerFeatures.cluster``. Deleting a run deletes its rows."""

    pk = models.CompositePrimaryKey("run", "customer")
    run = models.ForeignKey(ClusteringRun, on_delete=models.CASCADE, related_name="members", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    cluster = models.PositiveSmallIntegerField()

    class Meta:
        verbose_name = _("cluster member")
        verbose_name_plural = _("cluster members")

    def __str__(self) -> str:
        return f"{self.customer_id} in cluster {self.cluster} of run {self.run_id}"
