"""Every rule operator: the compiled query's members equal a plain-Python evaluation of the
same rule over the same generated customers (SQLite here, PostgreSQL in .ci/run)."""

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from customers.models import Customer
from segments.models import CustomerFeatures
from segments.rules.audience import rule_audience
from segments.rules.schema import RuleErrorCode, RuleInvalid
from segments.services import features_refresh_full
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
COUNTRIES = ["CN", "US", "DE", ""]
CITIES = ["Shanghai", "shanghai", "Boston", "Berlin", ""]


@pytest.fixture
def shop():
    rng = np.random.default_rng(11)
    for i in range(90):
        customer = CustomerFactory(
            external_id=f"R{i:03d}",
            name=["Li Na", "Emma Stone", "王芳", "Eric Chen", ""][i % 5],
            country=COUNTRIES[rng.integers(len(COUNTRIES))],
            city=CITIES[rng.integers(len(CITIES))],
            gender=["female", "male", "other", ""][rng.integers(4)],
            birth_date=None if i % 7 == 0 else dt.date(1960 + int(rng.integers(45)), 1 + int(rng.integers(12)), 15),
            signed_up_at=NOW - dt.timedelta(days=int(rng.integers(0, 400)), hours=int(rng.integers(24))),
            email_opt_in=bool(rng.integers(2)),
            sms_opt_in=bool(rng.integers(2)),
            member_tier=["gold", "Silver", ""][rng.integers(3)],
        )
        if i % 4:  # a quarter never ordered
            for _ in range(int(rng.integers(1, 6))):
                OrderFactory(customer=customer, total=Decimal(int(rng.integers(10, 500))),
                             ordered_at=NOW - dt.timedelta(days=int(rng.integers(1, 300))))  # fmt: skip
    features_refresh_full(as_of=NOW)
    CustomerFeatures.objects.filter(customer__external_id="R001").delete()  # one customer not yet computed
    rows = []
    for customer in Customer.objects.all():
        features = CustomerFeatures.objects.filter(customer=customer).first()
        rows.append((customer, features))
    return rows


def cond(field, operator, value=None):
    node = {"type": "condition", "field": field, "operator": operator}
    if value is not None:
        node["value"] = value
    return node


def group(*children, op="and", negate=False):
    return {"type": "group", "op": op, "negate": negate, "children": list(children)}


def day(moment):
    return moment.astimezone(dt.UTC).date() if moment else None


# (rule condition, plain-Python predicate over (customer, features or None))
CASES = [
    (cond("profile.country", "equals", "cn"), lambda c, f: c.country.lower() == "cn"),
    (cond("profile.country", "not_equals", "CN"), lambda c, f: c.country.lower() != "cn"),
    (cond("profile.city", "in", ["SHANGHAI", "Berlin"]), lambda c, f: c.city.lower() in {"shanghai", "berlin"}),
    (cond("profile.name", "contains", "chen"), lambda c, f: "chen" in c.name.lower()),
    (cond("profile.name", "starts_with", "王"), lambda c, f: c.name.startswith("王")),
    (cond("profile.city", "is_set"), lambda c, f: c.city != ""),
    (cond("profile.city", "is_not_set"), lambda c, f: c.city == ""),
    (cond("profile.gender", "in", ["female", "other"]), lambda c, f: c.gender in {"female", "other"}),
    (cond("profile.gender", "is_not_set"), lambda c, f: c.gender == ""),
    (cond("profile.birth_date", "before", "1980-01-15"),
     lambda c, f: c.birth_date is not None and c.birth_date < dt.date(1980, 1, 15)),
    (cond("profile.birth_date", "after", "1990-01-15"),
     lambda c, f: c.birth_date is not None and c.birth_date > dt.date(1990, 1, 15)),
    (cond("profile.birth_date", "between", ["1970-01-15", "1985-12-15"]),
     lambda c, f: c.birth_date is not None and dt.date(1970, 1, 15) <= c.birth_date <= dt.date(1985, 12, 15)),
    (cond("profile.birth_date", "is_not_set"), lambda c, f: c.birth_date is None),
    (cond("profile.signed_up_at", "within_last_days", 30),
     lambda c, f: NOW - dt.timedelta(days=30) <= c.signed_up_at <= NOW),
    (cond("profile.signed_up_at", "before", "2026-01-01"), lambda c, f: day(c.signed_up_at) < dt.date(2026, 1, 1)),
    (cond("profile.signed_up_at", "after", "2026-03-01"), lambda c, f: day(c.signed_up_at) > dt.date(2026, 3, 1)),
    (cond("profile.signed_up_at", "between", ["2025-12-01", "2026-02-28"]),
     lambda c, f: dt.date(2025, 12, 1) <= day(c.signed_up_at) <= dt.date(2026, 2, 28)),
    (cond("consent.email", "is_true"), lambda c, f: c.email_opt_in),
    (cond("consent.sms", "is_false"), lambda c, f: not c.sms_opt_in),
    (cond("features.monetary", "gt", 600), lambda c, f: f is not None and f.monetary > 600),
    (cond("features.monetary", "lte", "250.5"), lambda c, f: f is not None and f.monetary <= Decimal("250.5")),
    (cond("features.frequency", "equals", 0), lambda c, f: f is not None and f.frequency == 0),
    (cond("features.frequency", "gte", 3), lambda c, f: f is not None and f.frequency >= 3),
    (cond("features.recency_days", "lt", 30),
     lambda c, f: f is not None and f.recency_days is not None and f.recency_days < 30),
    (cond("features.recency_days", "between", [30, 120]),
     lambda c, f: f is not None and f.recency_days is not None and 30 <= f.recency_days <= 120),
    (cond("features.recency_days", "is_not_set"), lambda c, f: f is None or f.recency_days is None),
    (cond("features.rfm_segment", "equals", "champions"), lambda c, f: f is not None and f.rfm_segment == "champions"),
    (cond("features.consumption_tier", "in", ["high", "mid"]),
     lambda c, f: f is not None and f.consumption_tier in {"high", "mid"}),
    (cond("profile.member_tier", "equals", "GOLD"), lambda c, f: c.member_tier.lower() == "gold"),
    (cond("profile.member_tier", "in", ["silver", "gold"]), lambda c, f: c.member_tier.lower() in {"silver", "gold"}),
    (cond("profile.member_tier", "is_not_set"), lambda c, f: c.member_tier == ""),
    (cond("profile.birth_date", "is_set"), lambda c, f: c.birth_date is not None),
    (cond("profile.gender", "not_equals", "male"), lambda c, f: c.gender != "male"),
    (cond("profile.gender", "is_set"), lambda c, f: c.gender != ""),
    (cond("features.monetary", "not_equals", 0), lambda c, f: f is not None and f.monetary != 0),
    (cond("features.monetary", "gte", "120"), lambda c, f: f is not None and f.monetary >= 120),
    (cond("features.frequency", "lt", 2), lambda c, f: f is not None and f.frequency < 2),
    (cond("features.recency_days", "is_set"), lambda c, f: f is not None and f.recency_days is not None),
    (cond("features.rfm_segment", "not_equals", "champions"),
     lambda c, f: f is not None and f.rfm_segment != "champions"),
    (cond("features.consumption_tier", "is_set"), lambda c, f: f is not None and f.consumption_tier != ""),
    (cond("features.consumption_tier", "is_not_set"), lambda c, f: f is None or f.consumption_tier == ""),
    (cond("features.last_order_at", "before", "2026-03-01"),
     lambda c, f: f is not None and f.last_order_at is not None and day(f.last_order_at) < dt.date(2026, 3, 1)),
    (cond("features.last_order_at", "is_set"), lambda c, f: f is not None and f.last_order_at is not None),
    (cond("features.last_order_at", "within_last_days", 60),
     lambda c, f: f is not None and f.last_order_at is not None and f.last_order_at >= NOW - dt.timedelta(days=60)),
]  # fmt: skip


def members(rule):
    return set(rule_audience(rule, now=NOW).values_list("external_id", flat=True))


@pytest.mark.parametrize("condition, predicate", CASES, ids=[f"{c['field']}-{c['operator']}" for c, _ in CASES])
def test_each_operator_matches_plain_python(shop, condition, predicate):
    expected = {c.external_id for c, f in shop if predicate(c, f)}
    assert members(group(condition)) == expected
    # NOT is the complement within all customers, whatever the NULLs.
    assert members(group(condition, negate=True)) == {c.external_id for c, _ in shop} - expected


def test_nested_and_or_not(shop):
    rule = group(
        cond("consent.email", "is_true"),
        group(cond("profile.country", "equals", "CN"), cond("features.monetary", "gt", 500), op="or"),
        group(cond("profile.gender", "equals", "male"), negate=True),
    )
    expected = {
        c.external_id
        for c, f in shop
        if c.email_opt_in and (c.country == "CN" or (f is not None and f.monetary > 500)) and c.gender != "male"
    }
    assert members(rule) == expected
    assert 0 < len(expected) < len(shop)


def test_the_whole_rule_is_one_query(shop, django_assert_num_queries):
    rule = group(cond("profile.country", "equals", "CN"), group(cond("features.frequency", "gte", 2), negate=True))
    with django_assert_num_queries(1):
        list(rule_audience(rule, now=NOW).values_list("pk", flat=True))


def test_errors_name_each_bad_node():
    rule = group(
        cond("profile.shoe_size", "equals", 42),
        cond("features.monetary", "contains", "x"),
        group(op="xor"),
        cond("profile.birth_date", "before", "last tuesday"),
        cond("features.rfm_segment", "equals", "vip"),
        cond("profile.signed_up_at", "within_last_days", 0),
    )
    with pytest.raises(RuleInvalid) as raised:
        rule_audience(rule)
    found = [(error.path, error.code) for error in raised.value.errors]
    assert found == [
        ("rule.children[0].field", RuleErrorCode.UNKNOWN_FIELD),
        ("rule.children[1].operator", RuleErrorCode.OPERATOR_NOT_FOR_FIELD),
        ("rule.children[2].op", RuleErrorCode.UNKNOWN_GROUP_OP),
        ("rule.children[2].children", RuleErrorCode.EMPTY_GROUP),
        ("rule.children[3].value", RuleErrorCode.INVALID_VALUE),
        ("rule.children[4].value", RuleErrorCode.INVALID_VALUE),
        ("rule.children[5].value", RuleErrorCode.INVALID_VALUE),
    ]
