"""Funnel figures (one SQL statement + the pure computation) against a plain-Python hand
computation on factory-made events: customers per step, conversions, drop-offs,
step-to-step percentiles, the window's cut-off, strict ordering, step filters, repeated
event types, the date range and the segment filter. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

import numpy as np
import pytest
from django.db import connection

from customers.models import Event
from reports.funnels.compute import funnel_compute, step_time_percentiles
from reports.funnels.models import EventTimeline, EventTimelineRefresh
from reports.funnels.schema import Step
from reports.funnels.selectors import date_range_bounds, funnel_report, uses_timelines
from reports.funnels.services import event_timelines_refresh
from segments.models import Segment, SegmentMembership
from tests.factories import CustomerFactory, EventFactory

pytestmark = pytest.mark.django_db

SHOP_START = dt.datetime(2025, 5, 1, tzinfo=dt.UTC)
TYPES = ["view", "view", "view", "search", "add_to_cart", "add_to_cart", "purchase", "review", "page", "favorite"]
CATEGORIES = ["Beauty", "Books"]
SKUS = ["SKU-1", "SKU-2", "SKU-3"]


@pytest.fixture
def events(db) -> list[Event]:
    """40 customers with 0–40 events each over 14 days, on whole minutes (so several events
    of one customer share a moment), with random SKUs, categories, queries and paths."""
    chance = random.Random(61)
    made = []
    for _ in range(40):
        customer = CustomerFactory()
        for _ in range(chance.randint(0, 40)):
            sku = chance.choice(SKUS)
            made.append(EventFactory(
                customer=customer, type=chance.choice(TYPES),
                occurred_at=SHOP_START + dt.timedelta(minutes=chance.randrange(14 * 24 * 60 // 10) * 10),
                sku=sku, category=chance.choice(CATEGORIES), query=chance.choice(["", "Red Serum", "blue shoes"]),
                path=chance.choice(["/p/" + sku, "/c/beauty", "/checkout", "/search?q=x"]),
            ))  # fmt: skip
    return made


@pytest.fixture(params=["events", "timelines"])
def source(request, db):
    """Which way the report is computed: from the event table, or (PostgreSQL) from the
    timelines, with the watermark set halfway so half of the customers' events are newer
    than the last refresh and are read from the event table in the same statement."""

    def prepare(steps: list[Step]) -> None:
        if request.param == "events":
            return
        if connection.vendor != "postgresql":
            pytest.skip("timelines are PostgreSQL only")
        event_timelines_refresh(full=True)
        ids = sorted(Event.objects.values_list("id", flat=True))
        if ids:
            EventTimelineRefresh.objects.update(max_event_id=ids[len(ids) // 2])
        assert uses_timelines(steps) == (not any(step.as_dict().keys() - {"event"} for step in steps))

    return prepare


def _matches(step: Step, event: Event) -> bool:
    return (
        event.type == step.event
        and (not step.sku or event.sku == step.sku)
        and (not step.category or event.category == step.category)
        and (not step.query_contains or step.query_contains.upper() in event.query.upper())
        and (not step.path_prefix or event.path.startswith(step.path_prefix))
    )


def hand_percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def hand_funnel(events, steps: list[Step], window: dt.timedelta, start, end, customers: set[int] | None = None):
    """The funnel straight from its definition, one customer at a time."""
    by_customer = defaultdict(list)
    for event in events:
        if customers is None or event.customer_id in customers:
            by_customer[event.customer_id].append(event)
    reached = [0] * len(steps)
    gaps: list[list[float]] = [[] for _ in steps]
    for own in by_customer.values():
        entries = [e.occurred_at for e in own if _matches(steps[0], e) and start <= e.occurred_at < end]
        if not entries:
            continue
        chosen = [min(entries)]
        for index in range(1, len(steps)):
            same = [k for k in range(index) if steps[k].event == steps[index].event]
            candidates = [
                e.occurred_at for e in own
                if _matches(steps[index], e) and chosen[-1] <= e.occurred_at <= chosen[0] + window
                and (not same or e.occurred_at > chosen[same[-1]])
            ]  # fmt: skip
            if not candidates:
                break
            chosen.append(min(candidates))
        for index, moment in enumerate(chosen):
            reached[index] += 1
            if index:
                gaps[index].append((moment - chosen[index - 1]).total_seconds())
    figures = []
    for index in range(len(steps)):
        previous = reached[index - 1] if index else reached[0]
        times = [hand_percentile(gaps[index], pct) for pct in (50, 75, 90)] if gaps[index] else [None] * 3
        figures.append({
            "customers": reached[index],
            "from_start": reached[index] / reached[0] if reached[0] else None,
            "from_previous": reached[index] / previous if previous else None,
            "drop_off": previous - reached[index],
            "times": times,
        })  # fmt: skip
    return figures


def assert_matches(result, expected) -> None:
    assert len(result.steps) == len(expected)
    for figures, hand in zip(result.steps, expected, strict=True):
        assert figures.customers == hand["customers"]
        assert figures.drop_off == hand["drop_off"]
        for value, hand_value in ((figures.conversion_from_start, hand["from_start"]),
                                  (figures.conversion_from_previous, hand["from_previous"]),
                                  *zip((figures.median_seconds, figures.p75_seconds, figures.p90_seconds),
                                       hand["times"], strict=True)):  # fmt: skip
            assert (value is None and hand_value is None) or value == pytest.approx(hand_value)


RANGE = (SHOP_START + dt.timedelta(days=2), SHOP_START + dt.timedelta(days=10))
FUNNELS = {
    "view-cart-purchase-review, 3 days": (
        [Step("view"), Step("add_to_cart"), Step("purchase"), Step("review")], dt.timedelta(days=3)),
    "view-cart-purchase, 12 hours": ([Step("view"), Step("add_to_cart"), Step("purchase")], dt.timedelta(hours=12)),
    "filters": ([Step("search", query_contains="serum"), Step("view", category="Beauty"),
                 Step("add_to_cart", sku="SKU-2", path_prefix="/p/")], dt.timedelta(days=5)),
    "repeated types": ([Step("view"), Step("view"), Step("add_to_cart"), Step("view")], dt.timedelta(days=4)),
    "eight steps": ([Step("page"), Step("view"), Step("view"), Step("add_to_cart"), Step("view"), Step("add_to_cart"),
                     Step("purchase"), Step("review")], dt.timedelta(days=10)),
}  # fmt: skip


@pytest.mark.parametrize("name", list(FUNNELS))
def test_report_matches_the_hand_computation(events, source, name):
    steps, window = FUNNELS[name]
    source(steps)
    result = funnel_report(steps=steps, window_seconds=int(window.total_seconds()), start=RANGE[0], end=RANGE[1])
    expected = hand_funnel(events, steps, window, *RANGE)
    assert expected[0]["customers"] > 5 and expected[1]["customers"] > 1  # not trivial
    assert_matches(result, expected)


def test_percentiles_are_not_trivial_in_the_generated_data(events):
    steps, window = FUNNELS["view-cart-purchase-review, 3 days"]
    expected = hand_funnel(events, steps, window, *RANGE)
    median, p75, p90 = expected[1]["times"]
    assert median < p75 < p90 and expected[2]["customers"] >= 3


def test_segment_filter_keeps_only_current_members(events, source):
    segment = Segment.objects.create(name="Half", kind=Segment.Kind.STATIC)
    customer_ids = sorted({event.customer_id for event in events})
    members = set(customer_ids[::2])
    for customer_id in customer_ids:
        SegmentMembership.objects.create(segment=segment, customer_id=customer_id, entered_at=SHOP_START,
                                         left_at=None if customer_id in members else SHOP_START)  # fmt: skip
    steps, window = FUNNELS["view-cart-purchase-review, 3 days"]
    source(steps)
    seconds = int(window.total_seconds())
    result = funnel_report(steps=steps, window_seconds=seconds, start=RANGE[0], end=RANGE[1], segment_id=segment.pk)
    expected = hand_funnel(events, steps, window, *RANGE, customers=members)
    assert expected[0]["customers"] != hand_funnel(events, steps, window, *RANGE)[0]["customers"]
    assert_matches(result, expected)


def _at(hours: float) -> dt.datetime:
    return SHOP_START + dt.timedelta(hours=hours)


def _report(steps, hours: float, start=None, end=None, source=None):
    steps = [Step(event) if isinstance(event, str) else event for event in steps]
    if source is not None:
        source(steps)
    return funnel_report(steps=steps,
                         window_seconds=int(hours * 3600), start=start or _at(0), end=end or _at(24))  # fmt: skip


def test_window_cut_off_is_inclusive_and_counts_from_the_first_step(source):
    on_time, late, slow_middle = CustomerFactory(), CustomerFactory(), CustomerFactory()
    for customer, times in ((on_time, (1, 2, 3)), (late, (1, 2, 3 + 1 / 3600)), (slow_middle, (1, 2.5, 3.5))):
        for event, hours in zip(("view", "add_to_cart", "purchase"), times, strict=True):
            EventFactory(customer=customer, type=event, occurred_at=_at(hours))
    counts = [step.customers for step in _report(["view", "add_to_cart", "purchase"], hours=2, source=source).steps]
    # The window closes 2 h after the view: 3:00 is in, one second later is out; so is 3:30.
    assert counts == [3, 3, 1]


def test_steps_must_happen_in_order_at_or_after_the_previous_one(source):
    backwards, same_moment = CustomerFactory(), CustomerFactory()
    EventFactory(customer=backwards, type="add_to_cart", occurred_at=_at(1))
    EventFactory(customer=backwards, type="view", occurred_at=_at(2))
    EventFactory(customer=same_moment, type="view", occurred_at=_at(5))
    EventFactory(customer=same_moment, type="add_to_cart", occurred_at=_at(5))
    result = _report(["view", "add_to_cart"], hours=24, source=source)
    assert [step.customers for step in result.steps] == [2, 1]
    assert result.steps[1].median_seconds == 0.0


def test_the_first_entry_decides_and_later_steps_take_the_first_match(source):
    customer = CustomerFactory()
    for event, hours in (("view", 1), ("view", 30), ("add_to_cart", 31), ("add_to_cart", 2), ("add_to_cart", 3)):
        EventFactory(customer=customer, type=event, occurred_at=_at(hours))
    # Entered with the 1:00 view (window 24 h closes at 25:00): the 30:00 view does not re-enter.
    result = _report(["view", "add_to_cart", "add_to_cart"], hours=24, end=_at(48), source=source)
    assert [step.customers for step in result.steps] == [1, 1, 1]
    assert [result.steps[1].median_seconds, result.steps[2].median_seconds] == [3600.0, 3600.0]
    assert [
        step.customers for step in _report(["view", "add_to_cart"], hours=0.5, end=_at(48), source=source).steps
    ] == [1, 0]


def test_one_event_never_counts_for_two_steps(source):
    once, twice = CustomerFactory(), CustomerFactory()
    EventFactory(customer=once, type="view", occurred_at=_at(1))
    EventFactory(customer=twice, type="view", occurred_at=_at(1))
    EventFactory(customer=twice, type="view", occurred_at=_at(1.5))
    result = _report(["view", "view"], hours=24, source=source)
    assert [step.customers for step in result.steps] == [2, 1] and result.steps[1].median_seconds == 1800.0


def test_only_entering_is_bound_to_the_date_range(source):
    before, inside = CustomerFactory(), CustomerFactory()
    EventFactory(customer=before, type="view", occurred_at=_at(-1))
    EventFactory(customer=before, type="add_to_cart", occurred_at=_at(1))
    EventFactory(customer=inside, type="view", occurred_at=_at(23))
    EventFactory(customer=inside, type="add_to_cart", occurred_at=_at(26))  # after the range's end
    assert [step.customers for step in _report(["view", "add_to_cart"], hours=12, source=source).steps] == [1, 1]


def test_step_filters(source):
    customer = CustomerFactory()
    EventFactory(customer=customer, type="search", query="Red SERUM 50%_off", occurred_at=_at(1))
    EventFactory(customer=customer, type="view", path="/P/abc", occurred_at=_at(2))
    EventFactory(customer=customer, type="view", path="/p/abc", sku="A", category="Beauty", occurred_at=_at(3))
    hits = {
        "query ignores case": [Step("search", query_contains="serum"), Step("view")],
        "query % and _ are literal": [Step("search", query_contains="50%_off"), Step("view")],
        "path prefix keeps case": [Step("search"), Step("view", path_prefix="/p/", sku="A", category="Beauty")],
    }
    misses = {
        "query": [Step("search", query_contains="5_%off"), Step("view")],
        "sku": [Step("search"), Step("view", sku="a")],
        "category": [Step("search"), Step("view", category="beauty")],
    }
    for name, steps in hits.items():
        result = _report(steps, hours=24, source=source)
        assert [step.customers for step in result.steps] == [1, 1], name
    assert _report(hits["path prefix keeps case"], hours=24, source=source).steps[1].median_seconds == 7200.0
    for name, steps in misses.items():
        assert sum(step.customers for step in _report(steps, hours=24, source=source).steps) <= 1, name


def test_empty_funnel_is_zeros_not_an_error(source):
    result = _report(["view", "purchase"], hours=24, source=source)
    assert [step.customers for step in result.steps] == [0, 0]
    assert result.conversion is None and result.steps[1].median_seconds is None


def test_date_range_bounds_cover_whole_local_days(settings):
    start, end = date_range_bounds(dt.date(2025, 5, 1), dt.date(2025, 5, 31))
    assert (end - start) == dt.timedelta(days=31) and start.hour == 0 and end.day == 1 and end.month == 6


def test_compute_against_hand_figures():
    times = [step_time_percentiles(np.array([10.0, 20.0, 40.0, 80.0])), step_time_percentiles(np.array([5.0]))]
    result = funnel_compute(labels=["a", "b", "c"], counts=[10, 4, 1], times=times)
    assert [step.drop_off for step in result.steps] == [0, 6, 3]
    assert result.steps[1].conversion_from_previous == 0.4 and result.steps[2].conversion_from_start == 0.1
    assert result.steps[2].conversion_from_previous == 0.25 and result.steps[2].drop_off_rate == 0.75
    # 50th: rank 1.5 → 30; 75th: rank 2.25 → 40 + 0.25 × 40; 90th: rank 2.7 → 40 + 0.7 × 40.
    assert (result.steps[1].median_seconds, result.steps[1].p75_seconds, result.steps[1].p90_seconds) == (
        30.0, 50.0, pytest.approx(68.0))  # fmt: skip
    assert result.steps[0].median_seconds is None and result.steps[2].median_seconds == 5.0
    assert step_time_percentiles(np.array([])) is None
    assert funnel_compute(labels=["a", "b"], counts=[0, 0], times=[None]).conversion is None


@pytest.mark.postgres
def test_timelines_refresh_full_and_incremental(db):
    first, second = CustomerFactory(), CustomerFactory()
    EventFactory(customer=first, type="view", occurred_at=_at(2))
    EventFactory(customer=first, type="view", occurred_at=_at(1))
    EventFactory(customer=first, type="purchase", occurred_at=_at(3))
    full = event_timelines_refresh()  # the first refresh is a full one
    assert full.mode == "full" and full.customers == 1
    row = EventTimeline.objects.get(customer=first)
    assert row.view == [_at(1), _at(2)] and row.purchase == [_at(3)] and row.review is None
    EventFactory(customer=second, type="review", occurred_at=_at(5))
    EventFactory(customer=first, type="view", occurred_at=_at(0))
    incremental = event_timelines_refresh()
    assert incremental.mode == "incremental" and incremental.customers == 2
    assert EventTimeline.objects.get(customer=first).view == [_at(0), _at(1), _at(2)]
    assert EventTimeline.objects.get(customer=second).review == [_at(5)]
    Event.objects.filter(customer=second).delete()
    assert event_timelines_refresh(full=True).mode == "full"
    assert list(EventTimeline.objects.values_list("customer_id", flat=True)) == [first.pk]
