"""``fit_clv``: the published CDNOW reproduction from the command line, the shop's orders
read by the selector (compared with the same purchases handed over as a DataFrame built in
plain Python), the holdout report and ``--score`` writing the feature table."""

import datetime as dt
import json
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from analytics.clv import model
from analytics.clv.selectors import clv_transactions
from analytics.clv.services import clv_fit, clv_scores
from customers.models import Customer, Order
from segments.models import CustomerFeatures

JSON_KEYS = ["customers", "r", "alpha", "a", "b", "log_likelihood", "p", "q", "v"]
CALIBRATION_END = dt.date(2025, 3, 31)
HOLDOUT_END = dt.date(2025, 6, 30)
ZONE = "Asia/Shanghai"


def _run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("fit_clv", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


CDNOW = ["--transactions", str(model.CDNOW_SAMPLE), "--transactions-format", "cdnow"]


def test_json_reproduces_the_published_cdnow_fit():
    """FHL 2005 (BG/NBD) and Fader & Hardie 2013 (Gamma-Gamma) on the CDNOW 1/10 sample's
    39-week calibration: see tests/analytics/test_clv_model.py for the sources."""
    out, err = _run(*CDNOW, "--calibration-end", "1997-09-30", "--time-unit", "week", "--json")
    assert err == ""
    assert out.count("\n") == 1  # one line, nothing else on stdout
    figures = json.loads(out)
    assert list(figures) == JSON_KEYS
    assert figures["customers"] == 2357
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "p": 6.25, "q": 3.74, "v": 15.44}
    for name, value in published.items():
        assert figures[name] == pytest.approx(value, abs=0.005), name
    assert figures["log_likelihood"] == pytest.approx(-9582.4, abs=0.1)


def test_holdout_report_and_json_stay_apart():
    out, err = _run(*CDNOW, "--calibration-end", "1997-09-30", "--holdout-end", "1998-06-30", "--json")
    assert list(json.loads(out)) == JSON_KEYS
    assert "actual 1882" in err and "7+" in err

    out, err = _run(*CDNOW, "--calibration-end", "1997-09-30", "--holdout-end", "1998-06-30")
    assert "r = 0.2426, alpha = 4.4136, a = 0.7929, b = 2.4259" in out
    assert "p = 6.2496, q = 3.7442, v = 15.4435" in out
    assert "predicted 1653.4 repeat purchases, actual 1882" in out


def test_csv_transactions(tmp_path):
    path = tmp_path / "transactions.csv"
    cdnow = model.transactions_read(model.CDNOW_SAMPLE, file_format="cdnow")
    cdnow.assign(date=cdnow["date"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    out, _ = _run("--transactions", str(path), "--calibration-end", "1997-09-30", "--json")
    assert json.loads(out)["r"] == pytest.approx(0.243, abs=0.002)

    (tmp_path / "bad.csv").write_text("customer,day,amount\n1,2024-01-01,3\n")
    with pytest.raises(CommandError, match="lacks the column"):
        _run("--transactions", str(tmp_path / "bad.csv"), "--calibration-end", "2024-02-01")
    (tmp_path / "bad.csv").write_text("customer_id,date,amount\n1,2024-01-01,3\n1,someday,4\n")
    with pytest.raises(CommandError, match="row 2 of the data"):
        _run("--transactions", str(tmp_path / "bad.csv"), "--calibration-end", "2024-02-01")


def test_bad_arguments():
    with pytest.raises(CommandError, match="holdout period must end after"):
        _run(*CDNOW, "--calibration-end", "1997-09-30", "--holdout-end", "1997-09-30")
    with pytest.raises(CommandError, match="cannot be combined"):
        _run(*CDNOW, "--calibration-end", "1997-09-30", "--score")
    with pytest.raises(CommandError, match="not a date"):
        _run(*CDNOW, "--calibration-end", "30/09/1997")


# ── the shop's orders ─────────────────────────────────────────────────────────────────


def _make_shop(customers: int = 300, seed: int = 5) -> list[tuple[int, dt.datetime, Decimal, str]]:
    """Customers whose orders follow the BG/NBD story (daily purchase rate, dropout after
    purchases), with same-day second orders, cancelled orders and orders after the holdout
    end mixed in; two orders sit either side of midnight in Shanghai on the calibration end.
    Returns every order as (customer id, ordered_at, total, status)."""
    rng = np.random.default_rng(seed)
    people = Customer.objects.bulk_create(Customer(external_id=f"CLV{i:04d}") for i in range(customers))
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    orders = []
    for person in people:
        rate, dropout = rng.gamma(0.8, 1 / 25), rng.beta(1.0, 3.0)
        spend_rate = rng.gamma(3.0, 1 / 40)  # customers differ in what they spend (Gamma-Gamma's ν)
        day = float(rng.integers(0, 300))
        while day < 560:
            when = start + dt.timedelta(days=int(day), seconds=int(rng.integers(0, 86400)))
            orders.append(
                (person.pk, when, Decimal(str(round(float(rng.gamma(4, 1 / spend_rate)), 2))), Order.Status.PLACED)
            )
            if rng.random() < 0.1:  # a second basket the same day
                orders.append((person.pk, when + dt.timedelta(minutes=5), Decimal("5.00"), Order.Status.PLACED))
            if rng.random() < 0.05:
                orders.append((person.pk, when + dt.timedelta(minutes=9), Decimal("70.00"), Order.Status.CANCELLED))
            if rng.random() < dropout and day > 0:
                break
            day += 1 + rng.exponential(1 / rate)
    edge = dt.datetime.combine(CALIBRATION_END, dt.time(23, 30), tzinfo=ZoneInfo(ZONE))
    orders.append((people[0].pk, edge.astimezone(dt.UTC), Decimal("11.00"), Order.Status.PLACED))
    orders.append(
        (people[1].pk, (edge + dt.timedelta(hours=1)).astimezone(dt.UTC), Decimal("12.00"), Order.Status.PLACED)
    )
    Order.objects.bulk_create(
        Order(external_id=f"CLVO{i:06d}", customer_id=customer, ordered_at=when, total=total, status=status)
        for i, (customer, when, total, status) in enumerate(orders)
    )
    return orders


def _expected_transactions(orders, until: dt.date) -> pd.DataFrame:
    """The purchases the selector should return, from the order list in plain Python."""
    zone = ZoneInfo(ZONE)
    rows = [
        (customer, when.astimezone(zone).date(), float(total))
        for customer, when, total, status in orders
        if status == Order.Status.PLACED and when.astimezone(zone).date() <= until
    ]
    return pd.DataFrame(rows, columns=["customer_id", "date", "amount"]).assign(
        date=lambda frame: pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    )


@pytest.fixture
def shop(db, settings):
    settings.TIME_ZONE = ZONE
    with timezone.override(ZONE):
        yield _make_shop()


def test_selector_reads_placed_orders_by_local_day(shop):
    with timezone.override(ZONE):
        read = clv_transactions(until=CALIBRATION_END)
    expected = _expected_transactions(shop, CALIBRATION_END)
    expected = expected.groupby(["customer_id", "date"], as_index=False)["amount"].sum()
    read = read.sort_values(["customer_id", "date"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(read, expected, check_exact=False, rtol=1e-12)
    edge = pd.Timestamp(CALIBRATION_END)
    assert ((read["date"] == edge) & (read["customer_id"] == Customer.objects.get(external_id="CLV0000").pk)).any()
    assert not ((read["date"] == edge) & (read["customer_id"] == Customer.objects.get(external_id="CLV0001").pk)).any()


def test_shop_fit_equals_the_fit_of_the_same_purchases(shop):
    out, err = _run("--calibration-end", str(CALIBRATION_END), "--time-unit", "day", "--json")
    from_command = json.loads(out)
    direct = clv_fit(
        calibration_end=CALIBRATION_END,
        time_unit="day",
        transactions=_expected_transactions(shop, HOLDOUT_END),
    ).parameters()
    assert list(from_command) == JSON_KEYS
    assert from_command == pytest.approx(direct, rel=1e-6)
    assert 1 < from_command["q"] < 100  # the made-up spend varies between customers: a proper fit
    assert from_command["customers"] == _expected_transactions(shop, CALIBRATION_END)["customer_id"].nunique()


def test_shop_holdout(shop):
    with timezone.override(ZONE):
        fit = clv_fit(calibration_end=CALIBRATION_END, time_unit="week", holdout_end=HOLDOUT_END)
    holdout = fit.holdout
    expected = _expected_transactions(shop, HOLDOUT_END)
    calibration_customers = set(expected.loc[expected["date"] <= pd.Timestamp(CALIBRATION_END), "customer_id"])
    later = expected[
        (expected["date"] > pd.Timestamp(CALIBRATION_END)) & expected["customer_id"].isin(calibration_customers)
    ]
    assert holdout.customers == len(calibration_customers) == fit.customers
    assert holdout.actual_total == len(later.drop_duplicates(["customer_id", "date"]))
    assert holdout.length == pytest.approx(91 / 7)
    out, _ = _run("--calibration-end", str(CALIBRATION_END), "--holdout-end", str(HOLDOUT_END))
    assert f"actual {holdout.actual_total}" in out


def test_score_writes_every_feature_row(shop):
    now = timezone.now()
    CustomerFeatures.objects.bulk_create(
        CustomerFeatures(customer=customer, as_of=now, computed_at=now) for customer in Customer.objects.all()
    )
    never = Customer.objects.create(external_id="CLV-NO-ORDERS")
    CustomerFeatures.objects.create(customer=never, as_of=now, computed_at=now, clv=Decimal("1.00"))
    out, err = _run("--calibration-end", str(CALIBRATION_END), "--score", "--horizon-weeks", "26", "--json")
    assert list(json.loads(out)) == JSON_KEYS
    assert "Scored" in err

    with timezone.override(ZONE):
        fit = clv_fit(calibration_end=CALIBRATION_END, time_unit="week")
    scores = clv_scores(
        fit=fit,
        as_of=CALIBRATION_END,
        horizon=dt.timedelta(weeks=26),
        transactions=_expected_transactions(shop, CALIBRATION_END),
    ).set_index("customer_id")
    rows = {
        row["customer_id"]: row
        for row in CustomerFeatures.objects.values("customer_id", "probability_alive", "expected_purchases", "clv")
    }
    assert set(scores.index) < set(rows)
    for customer, score in scores.iterrows():
        row = rows[customer]
        assert row["probability_alive"] == pytest.approx(score["probability_alive"], rel=1e-9)
        assert row["expected_purchases"] == pytest.approx(score["expected_purchases"], rel=1e-9)
        assert row["clv"] == Decimal(str(round(score["clv"], 2)))
    unscored = set(rows) - set(scores.index)
    assert never.pk in unscored
    for customer in unscored:  # first order after the scoring day, or none: not scored
        assert rows[customer]["clv"] is None and rows[customer]["probability_alive"] is None
    assert scores["probability_alive"].min() > 0 and scores["probability_alive"].max() <= 1
    assert (scores["clv"] > 0).all()
