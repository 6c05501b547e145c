"""Validating a submission against a survey's questions — pure, no Django models.

The public form (field ``q<id>`` per question, repeated for multiple choice) and the API
(``{"question": id, "value": ...}``) both become ``RawAnswers`` — question id → list of
submitted strings — and go through ``answers_validate``, so a refusal reads the same on the
page and in the API.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from surveys.errors import AnswersInvalid, SurveyError, SurveyErrorCode

NPS_RANGE = (0, 10)
CSAT_RANGE = (1, 5)
TEXT_MAX_CHARS = 5000

RawAnswers = Mapping[int, Sequence[str]]


@dataclass(frozen=True)
class QuestionSpec:
    """What validation needs to know of a question."""

    id: int
    kind: str  # surveys.models.QuestionKind values
    required: bool
    choice_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class CleanAnswer:
    question_id: int
    number: int | None = None
    choice_ids: tuple[int, ...] = ()
    text: str = ""


@dataclass
class _Collector:
    errors: list[SurveyError] = field(default_factory=list)

    def refuse(self, question: QuestionSpec, code: SurveyErrorCode, **params) -> None:
        self.errors.append(SurveyError(code, field=str(question.id), **params))


def _present(values: Sequence[str]) -> list[str]:
    return [value.strip() for value in values if value is not None and value.strip() != ""]


def _rating(
    question: QuestionSpec, values: list[str], bounds: tuple[int, int], errors: _Collector
) -> CleanAnswer | None:
    if len(values) > 1:
        errors.refuse(question, SurveyErrorCode.ONE_CHOICE_ONLY)
        return None
    try:
        number = int(values[0])
    except ValueError:
        errors.refuse(question, SurveyErrorCode.NOT_A_NUMBER)
        return None
    if not bounds[0] <= number <= bounds[1]:
        errors.refuse(question, SurveyErrorCode.OUT_OF_RANGE, low=bounds[0], high=bounds[1])
        return None
    return CleanAnswer(question_id=question.id, number=number)


def _choices(question: QuestionSpec, values: list[str], errors: _Collector) -> CleanAnswer | None:
    if question.kind == "single" and len(values) > 1:
        errors.refuse(question, SurveyErrorCode.ONE_CHOICE_ONLY)
        return None
    picked: list[int] = []
    for value in values:
        try:
            choice_id = int(value)
        except ValueError:
            choice_id = -1
        if choice_id not in question.choice_ids:
            errors.refuse(question, SurveyErrorCode.UNKNOWN_CHOICE)
            return None
        if choice_id not in picked:
            picked.append(choice_id)
    return CleanAnswer(question_id=question.id, choice_ids=tuple(picked))


def answers_validate(questions: Sequence[QuestionSpec], raw: RawAnswers) -> list[CleanAnswer]:
    """Clean answers for the questions answered, in question order; raises AnswersInvalid
    with one error per question at fault (unanswered required, out of range, unknown choice,
    too long, or an answer to a question the survey does not have)."""
    errors = _Collector()
    known = {question.id for question in questions}
    for question_id in raw:
        if question_id not in known:
            errors.errors.append(
                SurveyError(SurveyErrorCode.UNKNOWN_QUESTION, field=str(question_id), question=question_id)
            )
    clean: list[CleanAnswer] = []
    for question in questions:
        values = _present(raw.get(question.id, ()))
        if not values:
            if question.required:
                errors.refuse(question, SurveyErrorCode.REQUIRED)
            continue
        answer: CleanAnswer | None
        if question.kind == "nps":
            answer = _rating(question, values, NPS_RANGE, errors)
        elif question.kind == "csat":
            answer = _rating(question, values, CSAT_RANGE, errors)
        elif question.kind in ("single", "multiple"):
            answer = _choices(question, values, errors)
        else:
            text = "\n".join(values)
            if len(text) > TEXT_MAX_CHARS:
                errors.refuse(question, SurveyErrorCode.TEXT_TOO_LONG, limit=TEXT_MAX_CHARS)
                answer = None
            else:
                answer = CleanAnswer(question_id=question.id, text=text)
        if answer is not None:
            clean.append(answer)
    if errors.errors:
        raise AnswersInvalid(errors.errors)
    return clean
