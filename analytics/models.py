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
