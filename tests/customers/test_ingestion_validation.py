"""Vectorised validation without a database: parsed values and error rows."""

import datetime as dt

import pandas as pd

from customers.ingestion.formats import FORMATS
from customers.ingestion.validation import ROW, frame_validate, parse_datetime, review_language


def frame(**columns):
    data = pd.DataFrame(columns)
    data[ROW] = range(2, 2 + len(data))
    return data


def test_datetime_layouts_become_utc():
    parsed = parse_datetime(
        pd.Series(["2009-12-01 07:45:00", "12/1/2009 7:45", "2024-01-01T10:00:00+02:00", "2024-02-30", ""])
    )
    assert parsed.iloc[:3].tolist() == [pd.Timestamp(dt.datetime(2009, 12, 1, 7, 45, tzinfo=dt.UTC))] * 2 + [
        pd.Timestamp(dt.datetime(2024, 1, 1, 8, 0, tzinfo=dt.UTC))
    ]
    assert parsed.iloc[3:].isna().all()


def test_products_numbers_and_lengths():
    result = frame_validate(FORMATS["products"], frame(sku=["a", "b", "c", "x" * 65], price=["1.5", "1,5", "", "1"]))
    assert [(e.row, e.field, e.code) for e in result.errors] == [
        (3, "price", "invalid_number"),
        (5, "sku", "too_long"),
    ]
    assert result.clean["sku"].tolist() == ["a", "c"]
    assert result.clean["price"].iloc[0] == 1.5 and pd.isna(result.clean["price"].iloc[1])


def test_duplicates_keep_first_valid_and_across_chunks():
    seen = {"z"}
    result = frame_validate(
        FORMATS["products"], frame(sku=["a", "a", "b", "b", "z"], price=["x", "1", "1", "2", "1"]), seen=seen
    )
    assert [(e.row, e.code) for e in result.errors] == [
        (2, "invalid_number"),
        (5, "duplicate_id"),
        (6, "duplicate_id"),
    ]
    assert result.clean[ROW].tolist() == [3, 4] and seen == {"a", "b", "z"}


def test_booleans_and_choices():
    result = frame_validate(
        FORMATS["customers"],
        frame(customer_id=["1", "2", "3"], email_opt_in=["Yes", "0", "maybe"], gender=["女", "M", "other"]),
    )
    assert [(e.row, e.field, e.code) for e in result.errors] == [(4, "email_opt_in", "invalid_boolean")]
    assert result.clean["email_opt_in"].tolist() == [True, False]
    assert result.clean["gender"].tolist() == ["female", "male"]


def test_review_language():
    assert review_language(pd.Series(["很好 good", "great", "123", ""])).tolist() == ["zh", "en", "", ""]


def test_email_addresses_are_checked():
    frame = pd.DataFrame(
        {
            "customer_id": ["e1", "e2", "e3", "e4", "e5"],
            "email": ["li.na@example.cn", "bad", "two@@example.com", "space @x.com", ""],
        }
    )
    frame[ROW] = range(2, 2 + len(frame))
    validated = frame_validate(FORMATS["customers"], frame)
    bad = sorted((error.record_id, error.code) for error in validated.errors)
    assert bad == [("e2", "invalid_email"), ("e3", "invalid_email"), ("e4", "invalid_email")]
    assert sorted(validated.clean["customer_id"]) == ["e1", "e5"]
