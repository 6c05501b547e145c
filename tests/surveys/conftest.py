"""A survey with one question of every type, shared by the surveys tests."""

import pytest

from surveys.models import QuestionKind
from surveys.services import ChoiceInput, QuestionInput, survey_create


def survey_build():
    """One question of every type, in English and Chinese."""
    return survey_create(
        title_en="How did we do?",
        title_zh="您的体验如何？",
        thank_you_en="Thanks a lot!",
        thank_you_zh="非常感谢！",
        questions=[
            QuestionInput(kind=QuestionKind.NPS, text_en="Would you recommend us?", text_zh="您会推荐我们吗？"),
            QuestionInput(kind=QuestionKind.CSAT, text_en="How satisfied are you?", text_zh="您满意吗？"),
            QuestionInput(
                kind=QuestionKind.SINGLE,
                text_en="Delivery speed?",
                text_zh="配送速度？",
                choices=[ChoiceInput("Fast", "快"), ChoiceInput("Slow", "慢")],
            ),
            QuestionInput(
                kind=QuestionKind.MULTIPLE,
                text_en="What did you buy?",
                text_zh="您买了什么？",
                required=False,
                choices=[ChoiceInput("Shoes", "鞋"), ChoiceInput("Bags", "包"), ChoiceInput("Books", "书")],
            ),
            QuestionInput(kind=QuestionKind.TEXT, text_en="Anything else?", text_zh="还有什么？", required=False),
        ],
    )


@pytest.fixture
def survey(db):
    return survey_build()


def question_ids(survey) -> dict[str, int]:
    """Question id by type (one question per type in the fixture)."""
    return {q.kind: q.pk for q in survey.questions.all()}


def choice_ids(survey, kind: str) -> list[int]:
    question = survey.questions.get(kind=kind)
    return [c.pk for c in question.choices.order_by("position")]


def raw_answers(survey, *, nps=9, csat=5, single=0, multiple=(0,), text="") -> dict[int, list[str]]:
    ids = question_ids(survey)
    raw = {
        ids["nps"]: [str(nps)],
        ids["csat"]: [str(csat)],
        ids["single"]: [str(choice_ids(survey, "single")[single])],
        ids["multiple"]: [str(choice_ids(survey, "multiple")[i]) for i in multiple],
    }
    if text:
        raw[ids["text"]] = [text]
    return raw
