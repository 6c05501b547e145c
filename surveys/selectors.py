"""Reads of the surveys app shared by the pages, the API and the profile panel: survey
lists, the questions, a personal link's respondent, the results (NPS, CSAT, choice
distributions per week, free text with sentiment) and the responses as one row per
response. The public pages read a survey through ``surveys.definitions`` (cached)."""

import datetime as dt
import json
from dataclasses import dataclass, field

import pandas as pd
from django.db.models import Count, Prefetch, QuerySet
from django.db.models.functions import TruncWeek

from analytics.sentiment.services import ActiveModel, active_model_join
from customers.models import Customer
from surveys.models import Answer, Choice, Question, QuestionKind, Response, SentimentLabel, Survey
from surveys.prepared import prepared_cursor
from surveys.scoring import CsatSummary, NpsSummary, csat_summary, nps_summary

TEXT_ANSWERS_SHOWN = 200


def survey_list() -> QuerySet[Survey]:
    """Surveys, newest first, with their number of responses."""
    return Survey.objects.annotate(response_count=Count("responses", distinct=True)).order_by("-created_at", "-id")


def survey_questions(*, survey_id: int) -> list[Question]:
    """The survey's questions in order, with their choices in order."""
    return list(
        Question.objects.filter(survey_id=survey_id)
        .prefetch_related(Prefetch("choices", queryset=Choice.objects.order_by("position", "id")))
        .order_by("position", "id")
    )


@dataclass(frozen=True)
class Respondent:
    """The customer of a personal link, as its page needs them."""

    customer_id: int
    language: str  # Customer.attributes["language"] ("" when not imported)
    response_id: int | None  # their response to the survey, if they answered before
    survey_version: object  # the survey's updated_at, for surveys.definitions.survey_definition_at
    sentiment_model: ActiveModel = ActiveModel(None)  # the active sentiment model (texts_score(active=…))


def survey_respondent(*, survey_id: int, customer_id: int) -> Respondent | None:
    """The customer of a personal link with their preferred language and their response
    to the survey, the survey's version and the active sentiment model's version (so that
    scoring a free-text answer needs no query of its own) — None if the survey or the
    customer does not exist. One query, not the whole customer row: hand-written because
    every request to a personal link runs it, and the ORM would take longer to build it than
    the database to answer it."""
    model_columns, model_join = active_model_join("sm")
    with prepared_cursor() as cursor:
        cursor.execute(
            f"SELECT s.updated_at, c.id, c.attributes, r.id, {model_columns} FROM {Survey._meta.db_table} s "
            f"LEFT JOIN {Customer._meta.db_table} c ON c.id = %s "
            f"LEFT JOIN {Response._meta.db_table} r ON r.survey_id = s.id AND r.customer_id = c.id "
            f"{model_join} "
            "WHERE s.id = %s",
            [customer_id, survey_id],
        )
        row = cursor.fetchone()
    if row is None or row[1] is None:
        return None
    survey_version, _, attributes, response_id, *model = row
    if isinstance(attributes, str):  # the drivers hand JSON over as text
        attributes = json.loads(attributes)
    language = attributes.get("language") if isinstance(attributes, dict) else None
    return Respondent(
        customer_id=customer_id,
        language=str(language or ""),
        response_id=response_id,
        survey_version=survey_version,
        sentiment_model=ActiveModel.from_row(*model),
    )


@dataclass(frozen=True)
class ChoiceCount:
    choice_id: int
    label: str
    count: int
    percent: float | None  # of the respondents who answered the question


@dataclass(frozen=True)
class TextAnswer:
    response_id: int
    customer_external_id: str | None
    text: str
    sentiment_label: str
    sentiment_score: float | None
    answered_at: dt.datetime

    @property
    def sentiment_display(self) -> str:
        """The label in the reader's language ("" when the text is not scored)."""
        return str(SentimentLabel(self.sentiment_label).label) if self.sentiment_label in SentimentLabel.values else ""


@dataclass
class QuestionResult:
    question: Question
    text: str
    answered: int = 0
    rating_counts: dict[int, int] = field(default_factory=dict)  # NPS and CSAT: answers by score
    nps: NpsSummary | None = None
    csat: CsatSummary | None = None
    choices: list[ChoiceCount] = field(default_factory=list)
    weeks: list[dt.date] = field(default_factory=list)  # choice questions: Monday of each week
    weekly: dict[int, list[int]] = field(default_factory=dict)  # choice id → count per week
    texts: list[TextAnswer] = field(default_factory=list)


@dataclass
class SurveyResults:
    survey: Survey
    responses: int
    questions: list[QuestionResult]


def _week_day(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _rating_results(result: QuestionResult, counts: dict[int, int]) -> None:
    result.rating_counts = counts
    result.answered = sum(counts.values())
    if result.question.kind == QuestionKind.NPS:
        result.nps = nps_summary(counts)
    else:
        result.csat = csat_summary(counts)


def _choice_results(result: QuestionResult, totals: dict[int, int], weekly_rows: list[dict], language: str) -> None:
    answered = result.answered
    result.choices = [
        ChoiceCount(
            choice_id=c.pk,
            label=c.label(language),
            count=totals.get(c.pk, 0),
            percent=100.0 * totals.get(c.pk, 0) / answered if answered else None,
        )
        for c in result.question.choices.all()
    ]
    weeks = sorted({_week_day(row["week"]) for row in weekly_rows})
    index = {week: i for i, week in enumerate(weeks)}
    result.weeks = weeks
    result.weekly = {c.pk: [0] * len(weeks) for c in result.question.choices.all()}
    for row in weekly_rows:
        if row["choice_id"] in result.weekly:
            result.weekly[row["choice_id"]][index[_week_day(row["week"])]] = row["n"]


def survey_results(*, survey: Survey, language: str = "en") -> SurveyResults:
    """Every question's results, from a few grouped queries (not a pass over responses)."""
    questions = survey_questions(survey_id=survey.pk)
    results = {q.pk: QuestionResult(question=q, text=q.text(language)) for q in questions}
    answers = Answer.objects.filter(question__survey_id=survey.pk)
    answered = answers.values("question_id").annotate(n=Count("id"))
    for row in answered:
        results[row["question_id"]].answered = row["n"]

    ratings: dict[int, dict[int, int]] = {
        q.pk: {} for q in questions if q.kind in (QuestionKind.NPS, QuestionKind.CSAT)
    }
    for row in (
        answers.filter(question_id__in=list(ratings), number__isnull=False)
        .values("question_id", "number")
        .annotate(n=Count("id"))
    ):
        ratings[row["question_id"]][row["number"]] = row["n"]
    for question_id, counts in ratings.items():
        _rating_results(results[question_id], counts)

    picked = Answer.choices.through.objects.filter(answer__question__survey_id=survey.pk)
    totals: dict[int, int] = {row["choice_id"]: row["n"] for row in picked.values("choice_id").annotate(n=Count("id"))}
    weekly = list(
        picked.annotate(week=TruncWeek("answer__response__updated_at"))
        .values("answer__question_id", "choice_id", "week")
        .annotate(n=Count("id"))
        .order_by("week")
    )
    for q in questions:
        if q.has_choices:
            rows = [row for row in weekly if row["answer__question_id"] == q.pk]
            _choice_results(results[q.pk], totals, rows, language)

    text_ids = [q.pk for q in questions if q.kind == QuestionKind.TEXT]
    if text_ids:
        for answer in (
            answers.filter(question_id__in=text_ids)
            .exclude(text="")
            .select_related("response__customer")
            .order_by("-response__updated_at", "-id")[: TEXT_ANSWERS_SHOWN * len(text_ids)]
        ):
            customer = answer.response.customer
            results[answer.question_id].texts.append(
                TextAnswer(
                    response_id=answer.response_id,
                    customer_external_id=customer.external_id if customer else None,
                    text=answer.text,
                    sentiment_label=answer.sentiment_label,
                    sentiment_score=answer.sentiment_score,
                    answered_at=answer.response.updated_at,
                )
            )
    return SurveyResults(
        survey=survey, responses=survey.responses.count(), questions=[results[q.pk] for q in questions]
    )


RESPONSE_COLUMNS = ["response_id", "customer_id", "channel", "language", "submitted_at", "updated_at"]


def _question_column(position: int, question: Question) -> str:
    return f"Q{position} {question.text_en or question.text_zh}".strip()


def survey_responses_frame(*, survey: Survey) -> pd.DataFrame:
    """One row per response, one column per question (multiple choices joined with "; ",
    choice labels in English, else Chinese), built from three flat queries and a pivot."""
    questions = survey_questions(survey_id=survey.pk)
    columns = {q.pk: _question_column(i, q) for i, q in enumerate(questions, start=1)}
    meta = pd.DataFrame.from_records(
        list(
            Response.objects.filter(survey_id=survey.pk)
            .order_by("submitted_at", "id")
            .values_list("id", "customer__external_id", "channel", "language", "submitted_at", "updated_at")
        ),
        columns=RESPONSE_COLUMNS,
    )
    if meta.empty:
        return pd.DataFrame(columns=[*RESPONSE_COLUMNS, *columns.values()])
    answers = pd.DataFrame.from_records(
        list(
            Answer.objects.filter(response__survey_id=survey.pk).values_list(
                "id", "response_id", "question_id", "number", "text"
            )
        ),
        columns=["answer_id", "response_id", "question_id", "number", "text"],
    )
    picked = pd.DataFrame.from_records(
        list(
            Answer.choices.through.objects.filter(answer__response__survey_id=survey.pk)
            .order_by("choice__position", "choice_id")
            .values_list("answer_id", "choice__label_en", "choice__label_zh")
        ),
        columns=["answer_id", "label_en", "label_zh"],
    )
    if not picked.empty:
        picked["label"] = picked["label_en"].where(picked["label_en"] != "", picked["label_zh"])
        labels = picked.groupby("answer_id", sort=False)["label"].agg("; ".join)
        answers["choices"] = answers["answer_id"].map(labels)
    else:
        answers["choices"] = None
    number = answers["number"].astype("Int64").astype("string")
    answers["value"] = number.where(answers["number"].notna(), answers["choices"])
    answers["value"] = answers["value"].where(answers["value"].notna(), answers["text"])
    wide = answers.pivot(index="response_id", columns="question_id", values="value") if not answers.empty else None
    table = meta.set_index("response_id")
    for question_id, column in columns.items():
        table[column] = wide[question_id] if wide is not None and question_id in wide.columns else None
    table = table.reset_index()
    for moment in ("submitted_at", "updated_at"):
        table[moment] = table[moment].map(lambda value: value.isoformat())
    return table.fillna("")


def customer_survey_responses(*, customer_id: int, limit: int = 20) -> list[Response]:
    """The customer's survey responses, latest first, with answers and choices loaded."""
    return list(
        Response.objects.filter(customer_id=customer_id)
        .select_related("survey")
        .prefetch_related(
            Prefetch(
                "answers",
                queryset=Answer.objects.select_related("question")
                .prefetch_related("choices")
                .order_by("question__position", "question_id"),
            )
        )
        .order_by("-updated_at", "-id")[:limit]
    )
