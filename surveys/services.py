"""Writes of the surveys app: building surveys, taking responses, and copying each
customer's latest NPS group and CSAT rating into the feature table segment rules read."""

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, CharField, F, FloatField, Max, Min, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Cast
from django.utils import timezone

from accounts.services import audit_record
from analytics.sentiment.services import ActiveModel
from customers.models import Customer
from segments.models import CustomerFeatures
from segments.services import features_rows_create_missing
from surveys.answers import CleanAnswer, RawAnswers, answers_validate
from surveys.definitions import SurveyDefinition, survey_definition
from surveys.errors import SurveyError, SurveyErrorCode
from surveys.models import (
    CHOICE_KINDS,
    Answer,
    Choice,
    Question,
    QuestionKind,
    Response,
    ResponseChannel,
    Survey,
    SurveyStatus,
)
from surveys.prepared import prepared_cursor
from surveys.scoring import PASSIVE_MIN, PROMOTER_MIN, nps_group

logger = logging.getLogger(__name__)

SURVEY_FIELDS = (
    "title_en",
    "title_zh",
    "intro_en",
    "intro_zh",
    "thank_you_en",
    "thank_you_zh",
    "opens_at",
    "closes_at",
    "anonymous_enabled",
)


# --- building -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChoiceInput:
    label_en: str = ""
    label_zh: str = ""
    id: int | None = None


@dataclass(frozen=True)
class QuestionInput:
    kind: str
    text_en: str = ""
    text_zh: str = ""
    required: bool = True
    choices: Sequence[ChoiceInput] = field(default_factory=tuple)
    id: int | None = None


def survey_definition_changed(*, survey_id: int) -> None:
    """Move the survey's version (``updated_at``) after a change to its questions or
    choices, so every process reads the survey definition again (surveys.definitions).
    Call it inside the transaction that makes the change."""
    Survey.objects.filter(pk=survey_id).update(updated_at=timezone.now())


def _check_dates(opens_at: dt.datetime | None, closes_at: dt.datetime | None) -> None:
    if opens_at and closes_at and closes_at <= opens_at:
        raise SurveyError(SurveyErrorCode.CLOSES_BEFORE_OPENS, field="closes_at")


def _check_question(question: QuestionInput, index: int) -> None:
    if question.kind not in QuestionKind.values:
        raise SurveyError(SurveyErrorCode.UNKNOWN_QUESTION_TYPE, field=f"questions[{index}].type", type=question.kind)
    if not (question.text_en.strip() or question.text_zh.strip()):
        raise SurveyError(SurveyErrorCode.QUESTION_TEXT_NEEDED, field=f"questions[{index}].text_en")
    labelled = [c for c in question.choices if c.label_en.strip() or c.label_zh.strip()]
    if question.kind in CHOICE_KINDS and len(labelled) < 2:
        raise SurveyError(SurveyErrorCode.CHOICES_NEEDED, field=f"questions[{index}].choices")


def _choices_write(question: Question, choices: Sequence[ChoiceInput]) -> None:
    """Make the question's choices exactly ``choices`` in this order (kept by id, so
    answers that picked a kept choice stay attached)."""
    if question.kind not in CHOICE_KINDS:
        question.choices.all().delete()
        return
    keep = {c.id for c in choices if c.id is not None}
    question.choices.exclude(pk__in=keep).delete()
    existing = {choice.pk: choice for choice in question.choices.all()}
    for position, choice in enumerate(c for c in choices if c.label_en.strip() or c.label_zh.strip()):
        row = existing.get(choice.id) if choice.id is not None else None
        if row is None:
            Choice.objects.create(
                question=question, label_en=choice.label_en.strip(), label_zh=choice.label_zh.strip(), position=position
            )
        else:
            Choice.objects.filter(pk=row.pk).update(
                label_en=choice.label_en.strip(), label_zh=choice.label_zh.strip(), position=position
            )


@transaction.atomic
def survey_questions_replace(*, survey: Survey, questions: Sequence[QuestionInput], user=None) -> Survey:
    """Make the survey's questions exactly ``questions``, in this order: a question with the
    id of an existing one is updated (its answers stay), others are created, and questions
    left out are deleted with their answers. A question with answers keeps its type."""
    for index, question in enumerate(questions):
        _check_question(question, index)
    keep = {q.id for q in questions if q.id is not None}
    survey.questions.exclude(pk__in=keep).delete()
    existing = {question.pk: question for question in survey.questions.all()}
    for position, question in enumerate(questions):
        row = existing.get(question.id) if question.id is not None else None
        if row is None:
            row = Question.objects.create(
                survey=survey,
                kind=question.kind,
                text_en=question.text_en.strip(),
                text_zh=question.text_zh.strip(),
                required=question.required,
                position=position,
            )
        else:
            if row.kind != question.kind and row.answers.exists():
                raise SurveyError(SurveyErrorCode.HAS_RESPONSES, field=f"questions[{position}].type")
            row.kind, row.text_en, row.text_zh = question.kind, question.text_en.strip(), question.text_zh.strip()
            row.required, row.position = question.required, position
            row.save()
        _choices_write(row, question.choices)
    survey_definition_changed(survey_id=survey.pk)
    audit_record(actor=user, action="survey.questions", target_type="survey", target_id=survey.pk)
    return survey


@transaction.atomic
def survey_create(
    *,
    title_en: str = "",
    title_zh: str = "",
    intro_en: str = "",
    intro_zh: str = "",
    thank_you_en: str = "",
    thank_you_zh: str = "",
    opens_at: dt.datetime | None = None,
    closes_at: dt.datetime | None = None,
    anonymous_enabled: bool = True,
    questions: Sequence[QuestionInput] = (),
    user=None,
) -> Survey:
    """A new survey with its questions (in the order given)."""
    _check_dates(opens_at, closes_at)
    survey = Survey.objects.create(
        title_en=title_en.strip(),
        title_zh=title_zh.strip(),
        intro_en=intro_en,
        intro_zh=intro_zh,
        thank_you_en=thank_you_en,
        thank_you_zh=thank_you_zh,
        opens_at=opens_at,
        closes_at=closes_at,
        anonymous_enabled=anonymous_enabled,
        created_by=user,
    )
    if questions:
        survey_questions_replace(survey=survey, questions=questions)
    audit_record(actor=user, action="survey.create", target_type="survey", target_id=survey.pk)
    return survey


def survey_update(*, survey: Survey, user=None, **changes) -> Survey:
    """Change the survey's own fields (titles, texts, dates, anonymous link on/off)."""
    unknown = set(changes) - set(SURVEY_FIELDS)
    if unknown:
        raise TypeError(f"survey_update() got unknown fields {sorted(unknown)}")
    opens_at = changes.get("opens_at", survey.opens_at)
    closes_at = changes.get("closes_at", survey.closes_at)
    _check_dates(opens_at, closes_at)
    for name, value in changes.items():
        setattr(survey, name, value.strip() if name.startswith("title") and isinstance(value, str) else value)
    survey.save()
    audit_record(actor=user, action="survey.update", target_type="survey", target_id=survey.pk)
    return survey


def survey_delete(*, survey: Survey, user=None) -> None:
    audit_record(actor=user, action="survey.delete", target_type="survey", target_id=survey.pk)
    survey.delete()


def _next_position(rows) -> int:
    return (rows.aggregate(top=Max("position"))["top"] or 0) + 1


def question_add(
    *,
    survey: Survey,
    kind: str,
    text_en: str = "",
    text_zh: str = "",
    required: bool = True,
    choices: Sequence[ChoiceInput] = (),
) -> Question:
    """Append a question. In the builder a choice question starts with two empty options
    to fill in; the text may be written after adding."""
    if kind not in QuestionKind.values:
        raise SurveyError(SurveyErrorCode.UNKNOWN_QUESTION_TYPE, field="kind", type=kind)
    with transaction.atomic():
        question = Question.objects.create(
            survey=survey,
            kind=kind,
            text_en=text_en.strip(),
            text_zh=text_zh.strip(),
            required=required,
            position=_next_position(survey.questions),
        )
        if kind in CHOICE_KINDS:
            for position, choice in enumerate(choices or (ChoiceInput(), ChoiceInput())):
                Choice.objects.create(
                    question=question,
                    label_en=choice.label_en.strip(),
                    label_zh=choice.label_zh.strip(),
                    position=position,
                )
        survey_definition_changed(survey_id=survey.pk)
    return question


def question_update(
    *,
    question: Question,
    text_en: str,
    text_zh: str,
    required: bool,
    choice_labels: dict[int, tuple[str, str]] | None = None,
) -> Question:
    """Save the question's texts, its required flag and (by choice id) its option labels."""
    with transaction.atomic():
        question.text_en, question.text_zh, question.required = text_en.strip(), text_zh.strip(), required
        question.save(update_fields=["text_en", "text_zh", "required"])
        for choice_id, (label_en, label_zh) in (choice_labels or {}).items():
            question.choices.filter(pk=choice_id).update(label_en=label_en.strip(), label_zh=label_zh.strip())
        survey_definition_changed(survey_id=question.survey_id)
    return question


@transaction.atomic
def question_delete(*, question: Question) -> None:
    question.delete()
    survey_definition_changed(survey_id=question.survey_id)


def _swap(rows: list, index: int, offset: int) -> None:
    """Move rows[index] by offset (−1 up, +1 down) and renumber the positions 0..n−1."""
    target = index + offset
    if 0 <= target < len(rows):
        rows[index], rows[target] = rows[target], rows[index]
    for position, row in enumerate(rows):
        if row.position != position:
            type(row).objects.filter(pk=row.pk).update(position=position)


@transaction.atomic
def question_move(*, question: Question, offset: int) -> None:
    """Move a question up (offset −1) or down (+1) among the survey's questions."""
    rows = list(Question.objects.select_for_update().filter(survey_id=question.survey_id).order_by("position", "id"))
    _swap(rows, [row.pk for row in rows].index(question.pk), offset)
    survey_definition_changed(survey_id=question.survey_id)


@transaction.atomic
def choice_add(*, question: Question, label_en: str = "", label_zh: str = "") -> Choice:
    choice = Choice.objects.create(
        question=question,
        label_en=label_en.strip(),
        label_zh=label_zh.strip(),
        position=_next_position(question.choices),
    )
    survey_definition_changed(survey_id=question.survey_id)
    return choice


@transaction.atomic
def choice_delete(*, choice: Choice) -> None:
    survey_id = choice.question.survey_id
    choice.delete()
    survey_definition_changed(survey_id=survey_id)


@transaction.atomic
def choice_move(*, choice: Choice, offset: int) -> None:
    rows = list(Choice.objects.select_for_update().filter(question_id=choice.question_id).order_by("position", "id"))
    _swap(rows, [row.pk for row in rows].index(choice.pk), offset)
    survey_definition_changed(survey_id=choice.question.survey_id)


# --- responses ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmitResult:
    response_id: int
    created: bool  # False: a personalised response was updated, or an anonymous double post
    duplicate: bool = False  # an anonymous form posted a second time: nothing was written


def _text_sentiments(texts: list[str], active: ActiveModel | None = None) -> list[tuple[str, float | None]]:
    """(label, score) per text from analytics.sentiment (``active``: the active model as the
    caller read it, else looked up). A customer's answers are never lost to the scorer: if
    it fails, the texts are stored unscored (``answers_sentiment_fill`` scores them later)
    and the error is logged."""
    if not texts:
        return []
    try:
        from analytics.sentiment.services import texts_score

        return [(score.label, score.score) for score in texts_score(texts, active=active)]
    except Exception:
        logger.exception("survey texts stored without sentiment: scoring failed")
        return [("", None)] * len(texts)


def answers_sentiment_fill(*, batch_size: int = 2000) -> int:
    """Score free-text answers stored without sentiment (scorer down or replaced), a batch
    at a time: one scorer call and one bulk UPDATE per batch. Returns the answers scored."""
    scored = 0
    last_id = 0
    while True:
        batch = list(
            Answer.objects.filter(pk__gt=last_id, sentiment_label="", question__kind=QuestionKind.TEXT)
            .exclude(text="")
            .order_by("pk")
            .only("pk", "text")[:batch_size]
        )
        if not batch:
            return scored
        last_id = batch[-1].pk
        for answer, (label, score) in zip(batch, _text_sentiments([a.text for a in batch]), strict=True):
            answer.sentiment_label, answer.sentiment_score = label, score
        filled = [answer for answer in batch if answer.sentiment_label]
        Answer.objects.bulk_update(filled, ["sentiment_label", "sentiment_score"], batch_size=500)
        scored += len(filled)


def _survey_open(survey: SurveyDefinition, now: dt.datetime) -> None:
    status = survey.status_at(now)
    if status == SurveyStatus.NOT_OPEN:
        raise SurveyError(SurveyErrorCode.SURVEY_NOT_OPEN)
    if status == SurveyStatus.CLOSED:
        raise SurveyError(SurveyErrorCode.SURVEY_CLOSED)


def _response_upsert(
    *, survey_id: int, customer_id: int, channel: str, language: str, now: dt.datetime
) -> tuple[int, bool]:
    """The customer's response row, inserted or (second submit) updated by one statement,
    ``INSERT … ON CONFLICT (survey_id, customer_id) DO UPDATE … RETURNING``: its id, and
    whether it is new (``submitted_at`` still equals ``updated_at``). The statement leaves
    the row locked until the transaction ends (a new row by its insert, an existing one by
    the update), so two concurrent submits of one link queue here, never insert twice."""
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Response._meta.db_table} "
            "(survey_id, customer_id, channel, language, submitted_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (survey_id, customer_id) DO UPDATE SET channel = excluded.channel, "
            "language = excluded.language, updated_at = excluded.updated_at "
            "RETURNING id, submitted_at = updated_at",
            [survey_id, customer_id, channel, language, stamp, stamp],
        )
        response_id, created = cursor.fetchone()
    return response_id, bool(created)


def _answers_delete(response_id: int) -> None:
    """Delete a response's answers and their choice links, two statements and no reads
    (the caller holds the response row lock)."""
    answers, picked = Answer._meta.db_table, Answer.choices.through._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {picked} WHERE answer_id IN (SELECT id FROM {answers} WHERE response_id = %s)", [response_id]
        )
        cursor.execute(f"DELETE FROM {answers} WHERE response_id = %s", [response_id])


def _answer_rows(
    answers: list[CleanAnswer], sentiments: list[tuple[str, float | None]]
) -> list[tuple[int, int | None, str, str, float | None]]:
    """(question, number, text, sentiment label, sentiment score) per answer; ``sentiments``
    holds one (label, score) per answer with a text, in order."""
    scored = iter(sentiments)
    rows = []
    for answer in answers:
        label, score = next(scored) if answer.text else ("", None)
        rows.append((answer.question_id, answer.number, answer.text, label, score))
    return rows


def _answers_write(
    response_id: int, answers: list[CleanAnswer], sentiments: list[tuple[str, float | None]], *, replace: bool
) -> None:
    """Store the response's answers and their choice links, first deleting the answers it
    had when ``replace`` (the caller holds the response row lock). On PostgreSQL one
    statement (the choice links inserted from the answers' ``RETURNING``), elsewhere two."""
    if replace:
        _answers_delete(response_id)
    rows = _answer_rows(answers, sentiments)
    if connection.vendor == "postgresql":
        _answers_insert_postgres(response_id, rows, answers)
        return
    created = Answer.objects.bulk_create(
        [
            Answer(
                response_id=response_id,
                question_id=question_id,
                number=number,
                text=text,
                sentiment_label=label,
                sentiment_score=score,
            )
            for question_id, number, text, label, score in rows
        ]
    )
    picked = Answer.choices.through
    links = [
        picked(answer_id=row.pk, choice_id=choice_id)
        for row, answer in zip(created, answers, strict=True)
        for choice_id in answer.choice_ids
    ]
    if links:
        picked.objects.bulk_create(links)


def _answers_ctes_postgres(answers: list[CleanAnswer], rows: list[tuple]) -> tuple[str, list]:
    """SQL and parameters of two data-modifying CTEs, ``stored`` (the answers of the
    response the CTE ``response`` returns; one per question, the unique constraint) and
    ``picked`` (their choice links, joined to ``stored``'s ``RETURNING`` on the question),
    so that the answers and their links take one round trip."""
    answer_table, picked_table = Answer._meta.db_table, Answer.choices.through._meta.db_table
    links = [(answer.question_id, choice_id) for answer in answers for choice_id in answer.choice_ids]
    columns = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
    sql = (
        f"stored AS (INSERT INTO {answer_table} "
        "(response_id, question_id, number, text, sentiment_label, sentiment_score) "
        "SELECT response.id, x.question_id, x.number, x.text, x.label, x.score FROM response, "
        "unnest(%s::bigint[], %s::smallint[], %s::text[], %s::varchar[], %s::float8[]) "
        "AS x(question_id, number, text, label, score) RETURNING id, question_id), "
        f"picked AS (INSERT INTO {picked_table} (answer_id, choice_id) "
        "SELECT stored.id, link.choice_id FROM stored "
        "JOIN unnest(%s::bigint[], %s::bigint[]) AS link(question_id, choice_id) "
        "ON link.question_id = stored.question_id)"
    )
    params = [*(list(column) for column in columns), [q for q, _ in links], [c for _, c in links]]
    return sql, params


def _answers_insert_postgres(response_id: int, rows: list[tuple], answers: list[CleanAnswer]) -> None:
    """The answers of an existing response and their choice links in one statement."""
    ctes, params = _answers_ctes_postgres(answers, rows)
    with connection.cursor() as cursor:
        cursor.execute(f"WITH response AS (SELECT %s::bigint AS id), {ctes} SELECT 1", [response_id, *params])


def _first_response_insert_postgres(
    *,
    survey: SurveyDefinition,
    customer_id: int,
    channel: str,
    language: str,
    now: dt.datetime,
    answers: list[CleanAnswer],
    sentiments: list[tuple[str, float | None]],
) -> int | None:
    """A customer's first response to a survey — the response row, its answers, their choice
    links and the customer's NPS group and CSAT — in one statement (data-modifying CTEs, one
    round trip and no transaction of its own to open and commit), the id of the new response.
    None, with nothing written, when the customer has answered before (the response insert
    hits the unique constraint and ``ON CONFLICT DO NOTHING`` leaves the rest without a
    row to hang on): the caller then replaces the answers under the row lock."""
    ctes, answer_params = _answers_ctes_postgres(answers, _answer_rows(answers, sentiments))
    stamp = connection.ops.adapt_datetimefield_value(now)
    features = _survey_features_values(_first_ratings(survey=survey, answers=answers))
    params: list = [survey.id, customer_id, channel, language, stamp, stamp, *answer_params]
    features_update = "SELECT 1 WHERE false"
    if features:
        features_update = (
            f"UPDATE {CustomerFeatures._meta.db_table} SET nps_group = coalesce(%s, nps_group), "
            "csat = coalesce(%s::float8, csat) WHERE customer_id = %s AND EXISTS (SELECT FROM response) RETURNING 1"
        )
        params += [features.get("nps_group"), features.get("csat"), customer_id]
    with prepared_cursor() as cursor:
        cursor.execute(
            f"WITH response AS (INSERT INTO {Response._meta.db_table} "
            "(survey_id, customer_id, channel, language, submitted_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (survey_id, customer_id) DO NOTHING RETURNING id), "
            f"{ctes}, features AS ({features_update}) "
            "SELECT (SELECT id FROM response), (SELECT count(*) FROM features)",
            params,
        )  # fmt: skip
        response_id, features_updated = cursor.fetchone()
    if response_id is not None and features and not features_updated:
        survey_features_write(customer_ids=[customer_id])  # no feature row yet: created and filled
    return response_id


def response_submit(
    *,
    survey: Survey | SurveyDefinition,
    raw: RawAnswers,
    channel: str,
    customer: Customer | None = None,
    customer_id: int | None = None,
    nonce: str | None = None,
    language: str = "",
    now: dt.datetime | None = None,
    sentiment_model: ActiveModel | None = None,
) -> SubmitResult:
    """Validate and store one submission.

    Personalised (``customer`` or ``customer_id`` given): one response per customer and
    survey — a second submit replaces the answers of the first, in one transaction, also
    when two arrive at once. On PostgreSQL a first submit is one statement
    (``_first_response_insert_postgres``); only a customer who answered before takes the
    transaction with the row lock. Anonymous (``nonce`` given): the nonce is unique, so the same
    form posted twice stores one response (the second post changes nothing and reports
    ``duplicate``). Raises SurveyError when the survey is not open (or anonymous answers
    are off) and AnswersInvalid naming each question at fault. Free-text answers are scored
    for sentiment before the transaction; the customer's NPS group and CSAT rating are
    written into the feature table inside it.

    ``survey`` may be the model or its cached definition (``surveys.definitions``, what the
    public pages hold); with the model the definition is looked up by its id (one query).
    ``sentiment_model``: the active sentiment model as the caller read it (a personal link's
    respondent query), else it is looked up when there is a text to score."""
    now = now or timezone.now()
    definition = survey if isinstance(survey, SurveyDefinition) else survey_definition(survey_id=survey.pk)
    if definition is None:
        raise Survey.DoesNotExist(f"survey {survey.pk} was deleted")
    _survey_open(definition, now)
    if channel == ResponseChannel.ANONYMOUS and not definition.anonymous_enabled:
        raise SurveyError(SurveyErrorCode.ANONYMOUS_DISABLED)
    answers = answers_validate(definition.question_specs, raw)
    sentiments = _text_sentiments([answer.text for answer in answers if answer.text], sentiment_model)
    if customer is not None:
        customer_id = customer.pk
    if customer_id is not None and connection.vendor == "postgresql":
        response_id = _first_response_insert_postgres(
            survey=definition, customer_id=customer_id, channel=channel, language=language, now=now,
            answers=answers, sentiments=sentiments,
        )  # fmt: skip
        if response_id is not None:
            return SubmitResult(response_id=response_id, created=True)
    with transaction.atomic():
        if customer_id is not None:
            response_id, created = _response_upsert(
                survey_id=definition.id, customer_id=customer_id, channel=channel, language=language, now=now
            )
        else:
            try:
                with transaction.atomic():
                    response_id = Response.objects.create(
                        survey_id=definition.id,
                        nonce=nonce,
                        channel=channel,
                        language=language,
                        submitted_at=now,
                        updated_at=now,
                    ).pk
            except IntegrityError:
                if nonce is None:
                    raise
                duplicate = Response.objects.filter(nonce=nonce).values_list("pk", flat=True).get()
                return SubmitResult(response_id=duplicate, created=False, duplicate=True)
            created = True
        _answers_write(response_id, answers, sentiments, replace=not created)
        if customer_id is not None:
            _survey_features_set(customer_id=customer_id, survey=definition, answers=answers, replaced=not created)
    return SubmitResult(response_id=response_id, created=created)


# --- the customer's survey features -------------------------------------------------------


RATING_KINDS = (QuestionKind.NPS, QuestionKind.CSAT)


def _survey_features_set(
    *, customer_id: int, survey: SurveyDefinition, answers: list[CleanAnswer], replaced: bool
) -> None:
    """Write the NPS group and CSAT rating of the response just stored into the customer's
    feature row: one ``UPDATE`` by primary key with the values in hand. The response is the
    customer's latest (``updated_at`` is now), so its first NPS and first CSAT answer (the
    answers come in question order) are what ``survey_features_write`` would compute, and a
    kind it does not answer keeps the value of the customer's earlier responses. Two cases
    fall back to that full computation for the customer: a replaced response that no longer
    answers a rating kind its survey asks (the value it held may now come from another
    response, or from none), and a customer without a feature row (created first)."""
    latest = _first_ratings(survey=survey, answers=answers)
    asked = {kind for kind in survey.question_kinds.values() if kind in RATING_KINDS}
    if replaced and asked - set(latest):
        survey_features_write(customer_ids=[customer_id])
        return
    values = _survey_features_values(latest)
    if values and not CustomerFeatures.objects.filter(customer_id=customer_id).update(**values):
        survey_features_write(customer_ids=[customer_id])


def _first_ratings(*, survey: SurveyDefinition, answers: list[CleanAnswer]) -> dict[str, int]:
    """The response's first NPS and first CSAT answer (answers come in question order) by kind."""
    kinds = survey.question_kinds
    latest: dict[str, int] = {}
    for answer in answers:
        kind = kinds[answer.question_id]
        if kind in RATING_KINDS and answer.number is not None:
            latest.setdefault(kind, answer.number)
    return latest


def _survey_features_values(latest: dict[str, int]) -> dict[str, object]:
    """``nps_group`` and ``csat`` as the response's ratings (``_first_ratings``) set them; a
    kind it does not answer is left out."""
    values: dict[str, object] = {}
    if QuestionKind.NPS in latest:
        values["nps_group"] = nps_group(latest[QuestionKind.NPS])
    if QuestionKind.CSAT in latest:
        values["csat"] = float(latest[QuestionKind.CSAT])
    return values


def _latest_ratings(kind: str):
    """The customer's rating answers of one kind, latest response first (first question of
    that kind within a response)."""
    return Answer.objects.filter(
        response__customer_id=OuterRef("customer_id"), question__kind=kind, number__isnull=False
    ).order_by("-response__updated_at", "-response_id", "question__position", "question_id")


def survey_features_write(*, customer_ids: Iterable[int] | None = None) -> int:
    """Copy each customer's latest NPS group and CSAT rating into CustomerFeatures with one
    UPDATE (correlated subqueries), creating missing feature rows first. ``customer_ids``
    None recomputes every customer who answered a survey (and clears values whose answers
    are gone). Returns the rows updated."""
    if customer_ids is None:
        answered = Response.objects.filter(customer__isnull=False)
        bounds = answered.aggregate(low=Min("customer_id"), high=Max("customer_id"))
        scope = Q(customer_id__in=answered.values("customer_id")) | Q(nps_group__isnull=False) | Q(csat__isnull=False)
        rows_missing = bounds["low"] is not None
    else:
        ids = sorted(set(customer_ids))
        if not ids:
            return 0
        bounds = {"low": ids[0], "high": ids[-1]}
        scope = Q(customer_id__in=ids)
        rows_missing = CustomerFeatures.objects.filter(scope).count() < len(ids)
    if rows_missing:
        features_rows_create_missing(low=bounds["low"], high=bounds["high"] + 1)
    nps_answer = (
        _latest_ratings(QuestionKind.NPS)
        .annotate(
            group=Case(
                When(number__gte=PROMOTER_MIN, then=Value("promoter")),
                When(number__gte=PASSIVE_MIN, then=Value("passive")),
                default=Value("detractor"),
                output_field=CharField(),
            )
        )
        .values("group")[:1]
    )
    csat_answer = (
        _latest_ratings(QuestionKind.CSAT)
        .annotate(rating=Cast(F("number"), output_field=FloatField()))
        .values("rating")[:1]
    )
    return CustomerFeatures.objects.filter(scope).update(
        nps_group=Subquery(nps_answer, output_field=CharField()),
        csat=Subquery(csat_answer, output_field=FloatField()),
    )
