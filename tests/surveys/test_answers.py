"""Validation of a submission names each question at fault."""

import pytest

from surveys.answers import CleanAnswer, QuestionSpec, answers_validate
from surveys.errors import AnswersInvalid

QUESTIONS = [
    QuestionSpec(id=1, kind="nps", required=True),
    QuestionSpec(id=2, kind="csat", required=True),
    QuestionSpec(id=3, kind="single", required=True, choice_ids=(31, 32)),
    QuestionSpec(id=4, kind="multiple", required=False, choice_ids=(41, 42, 43)),
    QuestionSpec(id=5, kind="text", required=False),
]


def codes(raw) -> dict[str, str]:
    with pytest.raises(AnswersInvalid) as refused:
        answers_validate(QUESTIONS, raw)
    return {error.field: error.code.value for error in refused.value.errors}


def test_valid_answers_come_back_clean_in_question_order():
    clean = answers_validate(QUESTIONS, {5: [" fine "], 4: ["43", "41", "43"], 3: ["32"], 2: ["4"], 1: ["0"]})
    assert clean == [
        CleanAnswer(question_id=1, number=0),
        CleanAnswer(question_id=2, number=4),
        CleanAnswer(question_id=3, choice_ids=(32,)),
        CleanAnswer(question_id=4, choice_ids=(43, 41)),
        CleanAnswer(question_id=5, text="fine"),
    ]


def test_optional_questions_may_stay_empty():
    clean = answers_validate(QUESTIONS, {1: ["10"], 2: ["1"], 3: ["31"], 4: [], 5: ["  "]})
    assert [answer.question_id for answer in clean] == [1, 2, 3]


def test_each_bad_answer_is_named():
    assert codes({1: ["11"], 2: ["x"], 4: ["99"]}) == {
        "1": "out_of_range",
        "2": "not_a_number",
        "3": "required",
        "4": "unknown_choice",
    }


def test_csat_range_and_single_choice_takes_one():
    assert codes({1: ["-1"], 2: ["0"], 3: ["31", "32"]}) == {
        "1": "out_of_range",
        "2": "out_of_range",
        "3": "one_choice_only",
    }


def test_answer_to_a_question_of_another_survey_is_refused():
    assert codes({1: ["5"], 2: ["5"], 3: ["31"], 77: ["1"]}) == {"77": "unknown_question"}


def test_text_over_the_limit_is_refused():
    assert codes({1: ["5"], 2: ["5"], 3: ["31"], 5: ["x" * 5001]}) == {"5": "text_too_long"}
