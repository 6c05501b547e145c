"""Plain-words sentences: the wording and number formats of every kind of verdict."""

import pytest
from django.utils import translation

from campaigns.experiments import verdict
from campaigns.experiments.stats import MeanTest, ProportionTest, SampleRatioCheck, SampleSizeCheck
from campaigns.experiments.verdict import Sentence, SentenceCode


def proportion(difference, low, high, p=0.001):
    return ProportionTest(100, 1000, 121, 1000, 0.1, 0.1 + difference, difference, low, high, None, 3.0, p)


def test_rate_sentence_reads_like_the_example():
    sentence = verdict.rate_sentence(
        proportion(0.021, 0.008, 0.034), metric="click", control="A", variant="B", chance_to_beat=0.99
    )
    assert str(sentence) == (
        "Variant B's click rate is 2.1 points higher than A's (95 % CI 0.8 to 3.4); the chance B beats A is 99 %."
    )


def test_rate_sentence_lower_and_same():
    lower = verdict.rate_sentence(
        proportion(-0.004, -0.012, 0.004), metric="open", control="A", variant="C", chance_to_beat=0.1634
    )
    assert str(lower) == (
        "Variant C's open rate is 0.4 points lower than A's (95 % CI -1.2 to 0.4); the chance C beats A is 16 %."
    )
    same = verdict.rate_sentence(
        proportion(0.0002, -0.01, 0.0104), metric="conversion", control="A", variant="B", chance_to_beat=0.52
    )
    assert same.code == SentenceCode.RATE_SAME
    assert str(same).startswith("Variant B's conversion rate is the same as A's (95 % CI -1.0 to 1.0 points)")


def test_mean_sentence_formats_money():
    test = MeanTest(400, 410, 0.575, 0.829, 0.254, -0.0412, 0.5493, 0.44, 0.15, 1.69, 700.0, 0.09)
    sentence = verdict.mean_sentence(test, metric="revenue", control="A", variant="B")
    assert str(sentence) == (
        "Variant B's revenue per recipient is 0.25 higher than A's (95 % CI -0.04 to 0.55); "
        f"the chance B beats A is {round(test.chance_to_beat * 100)} %."
    )


def test_sample_checks_and_holdout_sentences():
    assert str(verdict.sample_size_sentence(SampleSizeCheck(100, (80, 120)))) == (
        "Not enough recipients yet: 80 of the 100 needed per variant."
    )
    srm = SampleRatioCheck((500, 400), (450.0, 450.0), 11.1, 1, 0.0002)
    assert str(verdict.sample_ratio_sentence(srm)) == (
        "Group sizes differ from the plan (p = 0.0002): check the send before trusting the result."
    )
    lift = verdict.holdout_sentence(proportion(0.013, 0.002, 0.024, p=0.02), metric="conversion")
    assert str(lift) == (
        "Recipients' conversion rate is 1.3 points higher than the holdout's (95 % CI 0.2 to 2.4, p = 0.02)."
    )
    missing = verdict.holdout_sentence(ProportionTest(0, 0, 1, 10, *[None] * 8), metric="conversion")
    assert missing.code == SentenceCode.NO_HOLDOUT


@pytest.mark.parametrize(
    ("value", "shown"), [(0.995, "> 99 %"), (1.0, "100 %"), (0.004, "< 1 %"), (0.0, "0 %"), (0.5, "50 %")]
)
def test_chance_format(value, shown):
    assert verdict.chance(value) == shown


@pytest.mark.parametrize(("value", "shown"), [(0.00002, "p < 0.0001"), (0.00023, "p = 0.00023"), (0.0412, "p = 0.04")])
def test_p_value_format(value, shown):
    assert verdict.p_value(value) == shown


def test_sentences_travel_as_codes_and_render_in_any_language():
    sentence = Sentence(SentenceCode.WINNER_SIGNIFICANT, {"variant": "B", "metric": "click", "chance": "97 %"})
    stored = sentence.as_dict()
    assert stored["text"] == "Variant B wins on click rate: its chance of being the best is 97 %."
    assert Sentence.from_dict(stored) == sentence
    with translation.override("zh-hans"):
        assert "B" in str(Sentence.from_dict(stored))  # renders (translated once the catalogue has it)
    for code in SentenceCode:  # every template takes its parameters
        params = {
            "variant": "B", "control": "A", "metric": "open", "difference": "1.0", "low": "0.1", "high": "2.0",
            "chance": "90 %", "smallest": "1", "minimum": "2", "p": "p = 0.01", "direction": "higher",
        }  # fmt: skip
        assert str(Sentence(code, params))
