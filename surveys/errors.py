"""Why an answer or a survey request was refused, as codes the API and the pages share.

The message is rendered when it is read, in the reader's language (the public page shows it
next to the question, the API returns code and message).
"""

from enum import StrEnum
from typing import Any

from django.utils.translation import gettext_lazy as _

from jobs.errors import CodedError


class SurveyErrorCode(StrEnum):
    REQUIRED = "required"
    NOT_A_NUMBER = "not_a_number"
    OUT_OF_RANGE = "out_of_range"
    UNKNOWN_CHOICE = "unknown_choice"
    ONE_CHOICE_ONLY = "one_choice_only"
    TEXT_TOO_LONG = "text_too_long"
    UNKNOWN_QUESTION = "unknown_question"
    UNKNOWN_QUESTION_TYPE = "unknown_question_type"
    SURVEY_NOT_OPEN = "survey_not_open"
    SURVEY_CLOSED = "survey_closed"
    ANONYMOUS_DISABLED = "anonymous_disabled"
    INVALID_NONCE = "invalid_nonce"
    NO_QUESTIONS = "no_questions"
    CHOICES_NEEDED = "choices_needed"
    QUESTION_TEXT_NEEDED = "question_text_needed"
    CLOSES_BEFORE_OPENS = "closes_before_opens"
    HAS_RESPONSES = "has_responses"


MESSAGES: dict[SurveyErrorCode, Any] = {
    SurveyErrorCode.REQUIRED: _("Please answer this question."),
    SurveyErrorCode.NOT_A_NUMBER: _("Choose one of the numbers."),
    SurveyErrorCode.OUT_OF_RANGE: _("Choose a number from %(low)d to %(high)d."),
    SurveyErrorCode.UNKNOWN_CHOICE: _("Choose one of the options shown."),
    SurveyErrorCode.ONE_CHOICE_ONLY: _("Choose only one option."),
    SurveyErrorCode.TEXT_TOO_LONG: _("Please keep the answer under %(limit)d characters."),
    SurveyErrorCode.UNKNOWN_QUESTION: _("This survey has no question %(question)s."),
    SurveyErrorCode.UNKNOWN_QUESTION_TYPE: _(
        "%(type)s is not a question type (use nps, csat, single, multiple or text)."
    ),
    SurveyErrorCode.SURVEY_NOT_OPEN: _("This survey is not open yet."),
    SurveyErrorCode.SURVEY_CLOSED: _("This survey is closed."),
    SurveyErrorCode.ANONYMOUS_DISABLED: _("This survey accepts answers only through personal links."),
    SurveyErrorCode.INVALID_NONCE: _("This form has expired. Please reload the page and answer again."),
    SurveyErrorCode.NO_QUESTIONS: _("Add at least one question."),
    SurveyErrorCode.CHOICES_NEEDED: _("A choice question needs at least two options."),
    SurveyErrorCode.QUESTION_TEXT_NEEDED: _("Write the question in English or Chinese."),
    SurveyErrorCode.CLOSES_BEFORE_OPENS: _("The survey must close after it opens."),
    SurveyErrorCode.HAS_RESPONSES: _("The survey already has responses; this question cannot change its type."),
}


class SurveyError(CodedError):
    """A refused request; ``field`` names the input at fault (a question id for answers)."""

    codes = SurveyErrorCode
    messages = MESSAGES

    def as_dict(self) -> dict[str, Any]:
        """What the API answers: the message already rendered."""
        return {"field": self.field, "code": self.code.value, "message": self.message}


class AnswersInvalid(ValueError):
    """Some answers of a submission were refused: one SurveyError per question at fault."""

    def __init__(self, errors: list[SurveyError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{error.field}: {error.message}" for error in errors))

    def by_question(self) -> dict[int, SurveyError]:
        return {int(error.field): error for error in self.errors if error.field and error.field.isdigit()}
