"""The lifetime-value job: started like the page starts it, run by the (eager) Celery task,
checked against ``clv_fit`` / ``clv_scores`` called directly and against plain-Python
counts of the same orders."""

import datetime as dt
import math
from decimal import Decimal

import numpy as np
import pytest

from analytics.clv.jobs import ClvFitRequestError, clv_moment_day
from analytics.clv.services import clv_fit, clv_scores
from analytics.models import ClvFit
from customers.models import Customer, Order
from jobs.models import Job
from segments.clv_jobs import clv_fit_run, clv_fit_start
from segments.models import CustomerFeatures

CALIBRATION_END = dt.date(2024, 9, 30)
HOLDOUT_END = dt.date(2024, 12, 31)
JSON_KEYS = ["customers", "r", "alpha", "a", "b", "log_likelihood", "p", "q", "v"]


def make_clv_shop(customers: int = 150, seed: int = 11) -> list[tuple[int, dt.datetime, Decimal, str]]:
    """Customers buying at their own rate and dropping out after purchases (the BG/NBD
    story), with same-day second baskets and cancelled orders mixed in, from 2024-01-01 to
    2024-12-31 (UTC), each with a feature row. Returns the orders as (customer id,
    ordered_at, total, status)."""
    rng = np.random.default_rng(seed)
    people = Customer.objects.bulk_create(Customer(external_id=f"CJ{i:04d}") for i in range(customers))
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    orders = []
    for person in people:
        rate, dropout = rng.gamma(0.9, 1 / 20), rng.beta(1.0, 3.0)
        spend_rate = rng.gamma(3.0, 1 / 40)
        day = float(rng.integers(0, 240))
        while day < 366:
            when = start + dt.timedelta(days=int(day), seconds=int(rng.integers(0, 86000)))
            total = Decimal(str(round(float(rng.gamma(4, 1 / spend_rate)), 2)))
            orders.append((person.pk, when, total, Order.Status.PLACED))
            if rng.random() < 0.1:
                orders.append((person.pk, when + dt.timedelta(seconds=100), Decimal("5.00"), Order.Status.PLACED))
            if rng.random() < 0.05:
                orders.append((person.pk, when + dt.timedelta(seconds=200), Decimal("9.00"), Order.Status.CANCELLED))
            if rng.random() < dropout and day > 0:
                break
            day += 1 + rng.exponential(1 / rate)
    Order.objects.bulk_create(
        Order(external_id=f"CJO{i:06d}", customer_id=customer, ordered_at=when, total=total, status=status)
        for i, (customer, when, total, status) in enumerate(orders)
    )
    now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    CustomerFeatures.objects.bulk_create(CustomerFeatures(customer=p, as_of=now, computed_at=now) for p in people)
    return orders


@pytest.fixture
def clv_shop(db):
    return make_clv_shop()


def _purchase_days(orders) -> set[tuple[int, dt.date]]:
    return {(customer, when.date()) for customer, when, _total, status in orders if status == Order.Status.PLACED}


def test_job_stores_the_fit_the_holdout_check_and_the_scores(clv_shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        started = clv_fit_start(calibration_end=CALIBRATION_END, holdout_end=HOLDOUT_END, time_unit="week")
    record = ClvFit.objects.get(pk=started.pk)
    assert record.error == ""
    assert clv_moment_day(record.calibration_end) == CALIBRATION_END
    assert record.job.status == Job.Status.SUCCEEDED and record.job.percent == 100

    direct = clv_fit(calibration_end=CALIBRATION_END, time_unit="week", holdout_end=HOLDOUT_END)
    stored = {key: record.parameters[key] for key in JSON_KEYS}
    assert stored == pytest.approx(direct.parameters(), rel=1e-9)
    assert record.customers == direct.customers

    # The holdout totals, counted in plain Python: purchase days in (calibration, holdout]
    # of the customers who bought by the calibration end.
    days = _purchase_days(clv_shop)
    calibration_customers = {customer for customer, day in days if day <= CALIBRATION_END}
    actual = [(c, d) for c, d in days if CALIBRATION_END < d <= HOLDOUT_END and c in calibration_customers]
    assert record.holdout["actual_total"] == len(actual) > 0
    assert record.holdout["customers"] == len(calibration_customers) == record.customers
    assert sum(row["actual_total"] for row in record.holdout["by_frequency"]) == len(actual)
    assert sum(row["customers"] for row in record.holdout["by_frequency"]) == len(calibration_customers)
    assert record.holdout["predicted_total"] == pytest.approx(direct.holdout.predicted_total, rel=1e-9)
    never_repeated = [
        c for c in calibration_customers if sum(1 for x, d in days if x == c and d <= CALIBRATION_END) == 1
    ]
    bucket_zero = next(row for row in record.holdout["by_frequency"] if row["frequency"] == "0")
    assert bucket_zero["customers"] == len(never_repeated)
    assert bucket_zero["actual_total"] == sum(1 for c, _d in actual if c in never_repeated)

    # Every customer who bought by the holdout end is scored as of that day.
    buyers = {customer for customer, day in days if day <= HOLDOUT_END}
    assert record.scored == len(buyers)
    written = {
        row[0]: row[1:]
        for row in CustomerFeatures.objects.filter(probability_alive__isnull=False).values_list(
            "customer_id", "probability_alive", "expected_purchases", "clv"
        )
    }
    assert set(written) == buyers
    scores = clv_scores(fit=direct, as_of=HOLDOUT_END).set_index("customer_id")
    for customer in list(buyers)[:20]:
        alive, expected, value = written[customer]
        assert alive == pytest.approx(scores.loc[customer, "probability_alive"], rel=1e-9)
        assert expected == pytest.approx(scores.loc[customer, "expected_purchases"], rel=1e-9)
        assert value == Decimal(str(round(scores.loc[customer, "clv"], 2)))

    # The distribution stored with the job, against the written rows counted in Python.
    distribution = record.job.result["distribution"]
    alive_values = [row[0] for row in written.values()]
    tenths = [min(math.floor(p * 10), 9) for p in alive_values]
    assert [bucket["customers"] for bucket in distribution["probability_alive"]] == [tenths.count(b) for b in range(10)]
    assert distribution["alive_share"] == pytest.approx(sum(p >= 0.5 for p in alive_values) / len(alive_values))
    clv_values = [float(row[2]) for row in written.values()]
    for bucket in distribution["clv"]:
        low = -math.inf if bucket["low"] is None else bucket["low"]
        high = math.inf if bucket["high"] is None else bucket["high"]
        assert bucket["customers"] == sum(low <= v < high for v in clv_values)
    assert sum(bucket["customers"] for bucket in distribution["clv"]) == len(clv_values)

    # A redelivered task finds the fit done and changes nothing.
    before = (record.parameters, record.holdout, record.job.finished_at)
    again = clv_fit_run(fit_id=record.pk)
    again.job.refresh_from_db()
    assert (again.parameters, again.holdout, again.job.finished_at) == before


def test_without_scoring_the_feature_table_is_untouched(clv_shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        started = clv_fit_start(calibration_end=CALIBRATION_END, time_unit="day", score=False)
    record = ClvFit.objects.get(pk=started.pk)
    assert record.holdout == {} and record.scored == 0
    assert record.parameters["r"] > 0 and record.parameters["as_of"] == CALIBRATION_END.isoformat()
    assert not CustomerFeatures.objects.filter(probability_alive__isnull=False).exists()


def test_a_fit_before_any_order_fails_with_the_reason(clv_shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        started = clv_fit_start(calibration_end=dt.date(2023, 6, 30), holdout_end=HOLDOUT_END)
    record = ClvFit.objects.get(pk=started.pk)
    assert "No placed order on or before the calibration end (2023-06-30)" in record.error
    assert record.job.status == Job.Status.FAILED
    assert record.job.message == record.error
    assert record.parameters == {} and record.scored == 0
    assert not CustomerFeatures.objects.filter(probability_alive__isnull=False).exists()


def test_start_refuses_a_holdout_before_the_calibration_end(db):
    with pytest.raises(ClvFitRequestError) as refused:
        clv_fit_start(calibration_end=CALIBRATION_END, holdout_end=CALIBRATION_END)
    assert refused.value.field == "holdout_end"
    with pytest.raises(ClvFitRequestError) as refused:
        clv_fit_start(calibration_end=CALIBRATION_END, time_unit="fortnight")
    assert refused.value.field == "time_unit"
    assert not ClvFit.objects.exists() and not Job.objects.exists()
