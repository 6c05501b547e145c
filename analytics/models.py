"""Tables of the analytics app: sentiment model versions and the scored texts.

``SentimentModel`` holds one version of the sentiment scorer with the figures measured
when it was made. The fitted scikit-learn pipeline is stored in the row itself
(``pipeline`` BinaryField, zlib-compressed pickle, a few MB at most): every web and Celery
process on every machine reads the same database, so no shared file storage is needed,
and a database backup or restore keeps the model and its figures together. Only Precis
writes this column (unpickling runs code, so it must never be filled from outside).

``ScoredText`` holds one row per scored text (review, survey answer, transcript) with the
customer, product and category copied in, so "sentiment per product / category per month"
and "per aspect" are one GROUP BY. The five aspects are columns, not JSON, for the same
reason: ``AVG(aspect_price)`` works on SQLite and PostgreSQL alike.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from analytics.sentiment.model import ASPECTS
from jobs.models import Job


class SentimentModel(models.Model):
    class Kind(models.TextChoices):
        TRAINED = "trained", _("Trained on the shop's rated reviews")
        LEXICON = "lexicon", _("Shipped lexicon (fallback)")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    trained_at = models.DateTimeField(_("trained at"), auto_now_add=True)
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    active = models.BooleanField(_("active"), default=False)
    rated_reviews = models.IntegerField(_("rated reviews"), default=0, help_text=_("Reviews rated ≥ 4 or ≤ 2."))
    train_count = models.IntegerField(_("training texts"), default=0)
    test_count = models.IntegerField(_("held-out texts"), default=0)
    held_out_accuracy = models.FloatField(_("held-out accuracy"), null=True, blank=True)
    external_accuracy = models.FloatField(_("accuracy on the external set"), null=True, blank=True)
    metrics = models.JSONField(_("metrics"), default=dict, blank=True)
    pipeline = models.BinaryField(_("fitted pipeline"), null=True, blank=True, editable=False)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("sentiment model")
        verbose_name_plural = _("sentiment models")
        ordering = ["-trained_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["active"], condition=models.Q(active=True), name="sentiment_one_active")
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind}"


class SourceKind(models.TextChoices):
    REVIEW = "review", _("Review")
    SURVEY_ANSWER = "survey_answer", _("Survey answer")
    TRANSCRIPT = "transcript", _("Customer-service transcript")


class Sentiment(models.TextChoices):
    POSITIVE = "positive", _("Positive")
    NEUTRAL = "neutral", _("Neutral")
    NEGATIVE = "negative", _("Negative")


class ScoredText(models.Model):
    source = models.CharField(_("source"), max_length=16, choices=SourceKind.choices)
    source_id = models.BigIntegerField(_("source id"))
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    sku = models.CharField(_("SKU"), max_length=64, blank=True, default="")
    category = models.CharField(_("category"), max_length=100, blank=True, default="")
    created_at = models.DateTimeField(_("written at"))
    language = models.CharField(_("language"), max_length=8, blank=True, default="")
    label = models.CharField(_("sentiment"), max_length=8, choices=Sentiment.choices)
    score = models.FloatField(_("score"))
    aspect_quality = models.FloatField(_("quality"), null=True, blank=True)
    aspect_logistics = models.FloatField(_("logistics"), null=True, blank=True)
    aspect_service = models.FloatField(_("service"), null=True, blank=True)
    aspect_price = models.FloatField(_("price"), null=True, blank=True)
    aspect_packaging = models.FloatField(_("packaging"), null=True, blank=True)
    model = models.ForeignKey(SentimentModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    scored_at = models.DateTimeField(_("scored at"))

    class Meta:
        verbose_name = _("scored text")
        verbose_name_plural = _("scored texts")
        constraints = [models.UniqueConstraint(fields=["source", "source_id"], name="scoredtext_source_uniq")]
        indexes = [
            models.Index(fields=["customer", "created_at"], name="scoredtext_customer_idx"),
            models.Index(fields=["category", "created_at"], name="scoredtext_category_idx"),
            models.Index(fields=["sku", "created_at"], name="scoredtext_sku_idx"),
            models.Index(fields=["created_at"], name="scoredtext_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.source_id} {self.label}"

    @property
    def aspects(self) -> dict[str, float]:
        return {a: v for a in ASPECTS if (v := getattr(self, f"aspect_{a}")) is not None}


ASPECT_COLUMNS = {aspect: f"aspect_{aspect}" for aspect in ASPECTS}


class ModelRun(models.Model):
    """What every queued model fit shares: its state (the job vocabulary), who started it,
    when, and the job that shows its progress."""

    Status = Job.Status

    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        abstract = True


class ChurnModel(ModelRun):
    """One training of the churn models: the four candidates' figures on the time split and
    the fitted pipeline of the one in use (the best by ROC AUC unless a marketer picked
    another). Scoring reads the active version."""

    horizon_days = models.PositiveIntegerField(_("horizon (days)"), default=90)
    train_cutoff = models.DateTimeField(_("training cutoff"), null=True, blank=True)
    test_cutoff = models.DateTimeField(_("test cutoff"), null=True, blank=True)
    evaluations = models.JSONField(_("figures per model"), default=list, blank=True)
    baseline = models.JSONField(_("recency-only baseline"), default=dict, blank=True)
    chosen = models.CharField(_("model in use"), max_length=32, blank=True, default="")
    pipelines = models.BinaryField(_("fitted pipelines"), null=True, blank=True, editable=False)
    active = models.BooleanField(_("active"), default=False)
    error = models.TextField(_("error"), blank=True, default="")
    timings = models.JSONField(_("timings (seconds)"), default=dict, blank=True)

    class Meta:
        verbose_name = _("churn model")
        verbose_name_plural = _("churn models")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["active"], condition=models.Q(active=True), name="churn_one_active")
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.chosen or self.status}"

    def evaluation(self, name: str) -> dict | None:
        return next((row for row in self.evaluations if row["name"] == name), None)


class ClvFit(models.Model):
    """One BG/NBD + Gamma-Gamma fit: parameters, the holdout check when asked for, and the
    scoring it fed into the feature table."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    calibration_end = models.DateTimeField(_("calibration end"))
    holdout_end = models.DateTimeField(_("holdout end"), null=True, blank=True)
    time_unit = models.CharField(_("time unit"), max_length=8, default="week")
    customers = models.PositiveIntegerField(_("customers"), default=0)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    holdout = models.JSONField(_("holdout check"), default=dict, blank=True)
    scored = models.PositiveIntegerField(_("customers scored"), default=0)
    error = models.TextField(_("error"), blank=True, default="")

    class Meta:
        verbose_name = _("CLV fit")
        verbose_name_plural = _("CLV fits")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.calibration_end:%Y-%m-%d}"


class ChurnAlert(models.Model):
    """A valuable customer whose churn risk crossed the alert threshold at a scoring (the
    daily early-warning list); enrolment into a retention campaign is recorded here."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day"))
    risk = models.FloatField(_("churn risk"))
    previous_risk = models.FloatField(_("previous churn risk"), null=True, blank=True)
    monetary = models.FloatField(_("all-time spend"), default=0)
    model = models.ForeignKey(ChurnModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    enrolled_in = models.CharField(_("enrolled in"), max_length=100, blank=True, default="")
    enrolled_at = models.DateTimeField(_("enrolled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("churn alert")
        verbose_name_plural = _("churn alerts")
        constraints = [models.UniqueConstraint(fields=["customer", "day"], name="churn_alert_once_a_day")]
        indexes = [models.Index(fields=["day", "risk"], name="churn_alert_day_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.day} {self.risk:.2f}"


class RecommendationRun(ModelRun):
    """One fit of the recommender: item-item similarity, the association rules and every
    customer's top-N, with the time-split figures (CF against the popularity baseline).
    Campaign templates and the profile read the active run's rows."""

    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    figures = models.JSONField(_("evaluation figures"), default=dict, blank=True)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    timings = models.JSONField(_("timings (seconds)"), default=dict, blank=True)
    active = models.BooleanField(_("active"), default=False)
    error = models.TextField(_("error"), blank=True, default="")

    class Meta:
        verbose_name = _("recommendation run")
        verbose_name_plural = _("recommendation runs")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=models.Q(active=True), name="recommendation_one_active"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.status}"


class RecommendationSource(models.TextChoices):
    SIMILAR = "similar", _("Similar to what the customer liked")
    POPULAR = "popular", _("Popular")


class ProductRecommendation(models.Model):
    """One of a customer's top-N products in one run (rank 1 = best).

    Every fit writes a row per customer and rank (10M at 1M customers). Checking a database
    foreign key per row made that write six times slower, so only ``customer`` keeps its
    constraint (erasing or truncating customers must take these rows along); ``run`` and
    ``product`` are checked by the fit that writes them and cascaded by the ORM."""

    run = models.ForeignKey(
        RecommendationRun, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+", db_index=False)
    # No index: product deletions are rare and every refit writes millions of rows.
    product = models.ForeignKey(
        "customers.Product", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    rank = models.PositiveSmallIntegerField(_("rank"))
    score = models.FloatField(_("score"))
    source = models.CharField(_("reason"), max_length=8, choices=RecommendationSource.choices)

    class Meta:
        verbose_name = _("product recommendation")
        verbose_name_plural = _("product recommendations")
        constraints = [
            models.UniqueConstraint(fields=["customer", "run", "rank"], name="recommendation_customer_run_rank_uniq")
        ]
        indexes = [models.Index(fields=["run"], name="recommendation_run_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} #{self.rank}: {self.product_id}"


class ProductAssociation(models.Model):
    """An association rule "baskets with the antecedent also hold the consequent" of one run
    (FP-growth over orders). ``antecedent`` is the first antecedent product; rules with one
    antecedent product are what "frequently bought together" shows."""

    run = models.ForeignKey(RecommendationRun, on_delete=models.CASCADE, related_name="+", db_index=False)
    antecedent = models.ForeignKey("customers.Product", on_delete=models.CASCADE, related_name="+")
    antecedent_items = models.JSONField(_("antecedent products"), default=list)
    antecedent_size = models.PositiveSmallIntegerField(_("antecedent size"), default=1)
    consequent = models.ForeignKey("customers.Product", on_delete=models.CASCADE, related_name="+", db_index=False)
    baskets = models.PositiveIntegerField(_("baskets"))
    support = models.FloatField(_("support"))
    confidence = models.FloatField(_("confidence"))
    lift = models.FloatField(_("lift"))

    class Meta:
        verbose_name = _("product association")
        verbose_name_plural = _("product associations")
        indexes = [models.Index(fields=["run", "-lift"], name="association_run_lift_idx")]

    def __str__(self) -> str:
        return f"{self.antecedent_items} -> {self.consequent_id}"


class BehaviourPaths(models.Model):
    """One computation of the behaviour-sequence Markov model: event-type transitions per
    session (START and EXIT included), the most common opening paths and the exits. The
    matrices are small (a dozen states), so they are JSON."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    gap_minutes = models.PositiveIntegerField(_("session gap (minutes)"), default=30)
    path_steps = models.PositiveSmallIntegerField(_("path steps"), default=4)
    since = models.DateTimeField(_("events since"), null=True, blank=True)
    events = models.BigIntegerField(_("events"), default=0)
    sessions = models.BigIntegerField(_("sessions"), default=0)
    states = models.JSONField(_("states"), default=list, blank=True)
    transitions = models.JSONField(_("transition counts"), default=list, blank=True)
    paths = models.JSONField(_("most common paths"), default=list, blank=True)
    seconds = models.FloatField(_("seconds"), default=0)

    class Meta:
        verbose_name = _("behaviour paths")
        verbose_name_plural = _("behaviour paths")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.sessions} sessions"
