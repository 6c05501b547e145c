"""Surveys: the questions marketers build, and the responses customers give.

A survey has ordered questions (NPS 0–10, CSAT 1–5, single choice, multiple choice, free
text), each with an English and a Chinese text; choice questions have ordered choices,
also in both languages. A response belongs to a customer (personalised link, at most one
per customer and survey: a second submit updates it) or to nobody (anonymous link, made
unique by the one-time nonce of the form it came from). See docs/surveys.md.
"""

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer


def public_token_new() -> str:
    """The random part of a survey's anonymous link (not guessable, not a database id)."""
    return secrets.token_urlsafe(12)


def pick_language(english: str, chinese: str, language: str) -> str:
    """The text in ``language`` ("zh…" → Chinese, else English), or the other one when that
    one is empty."""
    if language.startswith("zh"):
        return chinese or english
    return english or chinese


class SurveyStatus(models.TextChoices):
    NOT_OPEN = "not_open", _("Not open yet")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


def survey_status(opens_at, closes_at, now) -> SurveyStatus:
    """Not open before ``opens_at``, closed from ``closes_at`` on (either may be None)."""
    if opens_at and now < opens_at:
        return SurveyStatus.NOT_OPEN
    if closes_at and now >= closes_at:
        return SurveyStatus.CLOSED
    return SurveyStatus.OPEN


class Survey(models.Model):
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True, default="")
    title_zh = models.CharField(_("title (Chinese)"), max_length=200, blank=True, default="")
    intro_en = models.TextField(_("introduction (English)"), blank=True, default="")
    intro_zh = models.TextField(_("introduction (Chinese)"), blank=True, default="")
    thank_you_en = models.TextField(_("thank-you message (English)"), blank=True, default="")
    thank_you_zh = models.TextField(_("thank-you message (Chinese)"), blank=True, default="")
    opens_at = models.DateTimeField(_("opens"), null=True, blank=True, help_text=_("Empty: open now."))
    closes_at = models.DateTimeField(_("closes"), null=True, blank=True, help_text=_("Empty: never closes."))
    anonymous_enabled = models.BooleanField(
        _("anonymous link enabled"), default=True, help_text=_("Off: only personalised links accept answers.")
    )
    public_token = models.CharField(_("anonymous link token"), max_length=32, unique=True, default=public_token_new)
    created_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title_en or self.title_zh or f"#{self.pk}"

    def title(self, language: str) -> str:
        return pick_language(self.title_en, self.title_zh, language)

    def intro(self, language: str) -> str:
        return pick_language(self.intro_en, self.intro_zh, language)

    def thank_you(self, language: str) -> str:
        return pick_language(self.thank_you_en, self.thank_you_zh, language)

    def status_at(self, now=None) -> SurveyStatus:
        return survey_status(self.opens_at, self.closes_at, now or timezone.now())

    @property
    def status(self) -> SurveyStatus:
        return self.status_at()


class QuestionKind(models.TextChoices):
    NPS = "nps", _("NPS (0–10)")
    CSAT = "csat", _("Satisfaction rating (1–5)")
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    TEXT = "text", _("Free text")


CHOICE_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE)


class Question(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    kind = models.CharField(_("type"), max_length=16, choices=QuestionKind.choices)
    text_en = models.TextField(_("question (English)"), blank=True, default="")
    text_zh = models.TextField(_("question (Chinese)"), blank=True, default="")
    required = models.BooleanField(_("required"), default=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["survey", "position"], name="survey_question_position_idx")]

    def __str__(self) -> str:
        return self.text_en or self.text_zh or f"#{self.pk}"

    def text(self, language: str) -> str:
        return pick_language(self.text_en, self.text_zh, language)

    @property
    def has_choices(self) -> bool:
        return self.kind in CHOICE_KINDS


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    label_en = models.CharField(_("label (English)"), max_length=200, blank=True, default="")
    label_zh = models.CharField(_("label (Chinese)"), max_length=200, blank=True, default="")
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("choice")
        verbose_name_plural = _("choices")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.label_en or self.label_zh or f"#{self.pk}"

    def label(self, language: str) -> str:
        return pick_language(self.label_en, self.label_zh, language)


class ResponseChannel(models.TextChoices):
    PERSONAL = "personal", _("Personalised link")
    ANONYMOUS = "anonymous", _("Anonymous link")
    API = "api", _("API")


class Response(models.Model):
    """One customer's (or one anonymous visitor's) answers to a survey.

    ``(survey, customer)`` is unique — NULL customers (anonymous responses) never collide —
    so a personalised response is upserted, never duplicated. ``nonce`` is the one-time
    value of the anonymous form it came from, unique so a double post makes one response.
    """

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="survey_responses"
    )
    nonce = models.CharField(max_length=64, null=True, blank=True, unique=True)
    channel = models.CharField(_("channel"), max_length=16, choices=ResponseChannel.choices)
    language = models.CharField(_("language"), max_length=16, blank=True, default="")
    submitted_at = models.DateTimeField(_("first submitted"))
    updated_at = models.DateTimeField(_("last submitted"))

    class Meta:
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "customer"], name="survey_response_one_per_customer"),
        ]
        indexes = [
            models.Index(fields=["survey", "submitted_at"], name="survey_response_submitted_idx"),
            models.Index(fields=["customer", "-updated_at"], name="survey_response_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"response {self.pk} to survey {self.survey_id}"


class SentimentLabel(models.TextChoices):
    """The labels of analytics.sentiment, translated for the pages."""

    POSITIVE = "positive", _("positive")
    NEUTRAL = "neutral", _("neutral")
    NEGATIVE = "negative", _("negative")


class Answer(models.Model):
    """The answer to one question: ``number`` for NPS and CSAT, ``choices`` for choice
    questions, ``text`` (with its sentiment) for free text."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    number = models.SmallIntegerField(_("rating"), null=True, blank=True)
    choices = models.ManyToManyField(Choice, blank=True, related_name="answers", verbose_name=_("choices"))
    text = models.TextField(_("text"), blank=True, default="")
    sentiment_label = models.CharField(
        _("sentiment"), max_length=16, choices=SentimentLabel.choices, blank=True, default=""
    )
    sentiment_score = models.FloatField(_("sentiment score"), null=True, blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [models.UniqueConstraint(fields=["response", "question"], name="survey_answer_one_per_question")]
        indexes = [models.Index(fields=["question", "number"], name="survey_answer_question_idx")]

    def __str__(self) -> str:
        return f"answer to question {self.question_id}"
