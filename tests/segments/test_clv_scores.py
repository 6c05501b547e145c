"""``features_clv_update``: the lifetime-value scores land in the feature table, set-based,
for every row (unscored customers cleared), only changed rows touched."""

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from customers.models import Customer
from segments.clv_scores import features_clv_update
from segments.models import CustomerFeatures

NOW = dt.datetime(2025, 6, 30, tzinfo=dt.UTC)


@pytest.fixture
def customers(db) -> list[int]:
    people = Customer.objects.bulk_create(Customer(external_id=f"S{i}") for i in range(5))
    CustomerFeatures.objects.bulk_create(
        CustomerFeatures(customer=person, as_of=NOW, computed_at=NOW) for person in people[:4]
    )
    return [person.pk for person in people]


def _columns() -> dict[int, tuple]:
    return {
        row[0]: row[1:]
        for row in CustomerFeatures.objects.values_list("customer_id", "probability_alive", "expected_purchases", "clv")
    }


def test_scores_land_and_unscored_rows_are_cleared(customers):
    first, second, third, fourth, no_features = customers
    CustomerFeatures.objects.filter(customer_id=fourth).update(
        probability_alive=0.5, expected_purchases=1.0, clv=Decimal("9.99")
    )
    scores = pd.DataFrame(
        {
            "customer_id": [first, second, third, no_features],
            "probability_alive": [0.9, 1.0, 0.25, 0.5],
            "expected_purchases": [1.5, 0.0, np.nan, 2.0],
            "clv": [123.456, 0.004, np.inf, 50.0],
        }
    )
    assert features_clv_update(scores=scores) == 4  # three scored rows, one cleared
    columns = _columns()
    assert columns[first] == (0.9, 1.5, Decimal("123.46"))
    assert columns[second] == (1.0, 0.0, Decimal("0.00"))
    assert columns[third] == (0.25, None, None)  # NaN and infinity are unknown: NULL
    assert columns[fourth] == (None, None, None)  # not scored: cleared
    assert no_features not in columns  # no feature row: nothing is created
    # Running it again changes nothing.
    assert features_clv_update(scores=scores) == 0
    assert _columns() == columns


def test_only_changed_rows_are_touched(customers):
    first, second, *_ = customers
    scores = pd.DataFrame(
        {"customer_id": [first, second], "probability_alive": [0.9, 0.8], "expected_purchases": [1.0, 2.0],
         "clv": [10.0, 20.0]}
    )  # fmt: skip
    assert features_clv_update(scores=scores) == 2
    scores.loc[1, "clv"] = 21.0
    assert features_clv_update(scores=scores) == 1
    assert _columns()[second] == (0.8, 2.0, Decimal("21.00"))


def test_empty_scores_clear_everything(customers):
    CustomerFeatures.objects.update(probability_alive=0.5, expected_purchases=1.0, clv=Decimal("3.00"))
    empty = pd.DataFrame(
        {"customer_id": pd.Series(dtype=np.int64), "probability_alive": [], "expected_purchases": [], "clv": []}
    )
    assert features_clv_update(scores=empty) == 4
    assert set(_columns().values()) == {(None, None, None)}


def test_scores_need_every_column(customers):
    with pytest.raises(ValueError, match="clv"):
        features_clv_update(scores=pd.DataFrame({"customer_id": [1], "probability_alive": [0.5],
                                                 "expected_purchases": [1.0]}))  # fmt: skip
