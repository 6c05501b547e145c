"""The survey as the public pages and ``response_submit`` need it — texts, dates, questions
and choices — read from the database once per process and survey version.

A customer's form is rendered and validated against the same few rows every time, so
re-reading the survey, its questions and its choices on every request (three queries) is
wasted work under load. ``survey_definition`` instead reads one value, the survey's
``updated_at``, and answers the definition cached under it (``survey_definition_at`` takes
the version from a query the caller makes anyway, as a personal link's page does with
``surveys.selectors.survey_respondent``). The version moves with every
change: ``Survey.save()`` sets it (``auto_now``), and every service that changes questions or
choices moves it in the same transaction (``surveys.services.survey_definition_changed``),
as do saves and deletes of questions and choices made anywhere else (the admin), through
the signal receivers below. A definition is an immutable dataclass, safe to share between
the threads of a process.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from surveys.answers import QuestionSpec
from surveys.models import CHOICE_KINDS, Choice, Question, Survey, SurveyStatus, pick_language, survey_status

CACHED_SURVEYS = 256  # definitions kept per process; beyond that the cache starts again


@dataclass(frozen=True)
class ChoiceDefinition:
    id: int
    label_en: str
    label_zh: str

    def label(self, language: str) -> str:
        return pick_language(self.label_en, self.label_zh, language)


@dataclass(frozen=True)
class QuestionDefinition:
    id: int
    kind: str
    text_en: str
    text_zh: str
    required: bool
    choices: tuple[ChoiceDefinition, ...] = ()

    def text(self, language: str) -> str:
        return pick_language(self.text_en, self.text_zh, language)

    @property
    def has_choices(self) -> bool:
        return self.kind in CHOICE_KINDS


@dataclass(frozen=True)
class SurveyDefinition:
    """A survey's public side at one version (``updated_at``), questions in order."""

    id: int
    version: object  # updated_at as the database driver returns it (compared, never read)
    title_en: str
    title_zh: str
    intro_en: str
    intro_zh: str
    thank_you_en: str
    thank_you_zh: str
    opens_at: dt.datetime | None
    closes_at: dt.datetime | None
    anonymous_enabled: bool
    public_token: str
    questions: tuple[QuestionDefinition, ...]

    @property
    def pk(self) -> int:
        return self.id

    def title(self, language: str) -> str:
        return pick_language(self.title_en, self.title_zh, language)

    def intro(self, language: str) -> str:
        return pick_language(self.intro_en, self.intro_zh, language)

    def thank_you(self, language: str) -> str:
        return pick_language(self.thank_you_en, self.thank_you_zh, language)

    def status_at(self, now: dt.datetime | None = None) -> SurveyStatus:
        return survey_status(self.opens_at, self.closes_at, now or timezone.now())

    @property
    def status(self) -> SurveyStatus:
        return self.status_at()

    @property
    def question_specs(self) -> list[QuestionSpec]:
        """What ``answers_validate`` needs, in question order."""
        return [
            QuestionSpec(id=q.id, kind=q.kind, required=q.required, choice_ids=tuple(c.id for c in q.choices))
            for q in self.questions
        ]

    @property
    def question_kinds(self) -> dict[int, str]:
        return {question.id: question.kind for question in self.questions}


_cache: dict[int, SurveyDefinition] = {}
_cache_lock = threading.Lock()


def _definition_load(survey_id: int, version: object) -> SurveyDefinition | None:
    """Read the survey, then its questions and choices in order (three queries), to be kept
    under ``version``, read before them: an edit committed in between has a newer version,
    so the next request reads again rather than keep a mix."""
    survey = Survey.objects.filter(pk=survey_id).first()
    if survey is None:
        return None
    choices: dict[int, list[ChoiceDefinition]] = {}
    for choice in Choice.objects.filter(question__survey_id=survey_id).order_by("position", "id"):
        choices.setdefault(choice.question_id, []).append(
            ChoiceDefinition(id=choice.pk, label_en=choice.label_en, label_zh=choice.label_zh)
        )
    questions = tuple(
        QuestionDefinition(
            id=question.pk,
            kind=question.kind,
            text_en=question.text_en,
            text_zh=question.text_zh,
            required=question.required,
            choices=tuple(choices.get(question.pk, ())),
        )
        for question in Question.objects.filter(survey_id=survey_id).order_by("position", "id")
    )
    return SurveyDefinition(
        id=survey.pk,
        version=version,
        title_en=survey.title_en,
        title_zh=survey.title_zh,
        intro_en=survey.intro_en,
        intro_zh=survey.intro_zh,
        thank_you_en=survey.thank_you_en,
        thank_you_zh=survey.thank_you_zh,
        opens_at=survey.opens_at,
        closes_at=survey.closes_at,
        anonymous_enabled=survey.anonymous_enabled,
        public_token=survey.public_token,
        questions=questions,
    )


def survey_definition(*, survey_id: int | None = None, public_token: str | None = None) -> SurveyDefinition | None:
    """The survey with this id (or anonymous-link token) as of now, None if there is none.
    One query (the version) when this process has read the survey at that version before."""
    column, value = ("id", survey_id) if public_token is None else ("public_token", public_token)
    with connection.cursor() as cursor:
        # Hand-written: this runs on every public request, and the ORM would take three
        # times as long as the database to build it.
        cursor.execute(f"SELECT id, updated_at FROM {Survey._meta.db_table} WHERE {column} = %s", [value])
        found = cursor.fetchone()
    if found is None:
        return None
    return survey_definition_at(survey_id=found[0], version=found[1])


def survey_definition_at(*, survey_id: int, version: object) -> SurveyDefinition | None:
    """The survey at ``version``, its ``updated_at`` as just read from the database (e.g.
    by ``surveys.selectors.survey_respondent``): from this process's cache, or read and
    kept. None if the survey is gone."""
    cached = _cache.get(survey_id)
    if cached is not None and cached.version == version:
        return cached
    definition = _definition_load(survey_id, version)
    if definition is not None:
        with _cache_lock:
            if len(_cache) >= CACHED_SURVEYS:
                _cache.clear()
            _cache[survey_id] = definition
    return definition


@receiver([post_save, post_delete], sender=Question, dispatch_uid="surveys.definition.question")
@receiver([post_save, post_delete], sender=Choice, dispatch_uid="surveys.definition.choice")
def _question_or_choice_changed(sender, instance, **kwargs) -> None:
    """A question or choice saved or deleted by any code path (the admin included) moves
    its survey's version, so no process keeps answering the old definition."""
    if sender is Question:
        survey_id = instance.survey_id
    else:
        survey_id = Question.objects.filter(pk=instance.question_id).values_list("survey_id", flat=True).first()
    if survey_id is not None:
        Survey.objects.filter(pk=survey_id).update(updated_at=timezone.now())
