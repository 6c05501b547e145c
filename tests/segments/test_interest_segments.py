"""Ready-made interest segments: members are the customers whose recent cart adds,
favourites or views show interest in the category, checked against a plain Python count."""

import datetime as dt
import random

import pytest

from customers.models import EventType
from segments.models import Segment, SegmentMembership
from segments.services import (
    INTEREST_MIN_VIEWS,
    INTEREST_WINDOW_DAYS,
    interest_segments_create,
    segment_refresh,
)
from tests.factories import CustomerFactory, EventFactory, ProductFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
CATEGORIES = ["Beauty", "Books", "Toys"]


def interested(events, category):
    """Plain-Python reading of the documented definition."""
    since = NOW - dt.timedelta(days=INTEREST_WINDOW_DAYS)
    counts: dict[tuple[str, str], int] = {}
    for customer, kind, cat, at in events:
        if cat.lower() == category.lower() and since <= at <= NOW:
            counts[(customer, kind)] = counts.get((customer, kind), 0) + 1
    return {
        customer
        for (customer, kind), n in counts.items()
        if kind in (EventType.ADD_TO_CART, EventType.FAVORITE) or (kind == EventType.VIEW and n >= INTEREST_MIN_VIEWS)
    }


def test_interest_segments_match_a_plain_python_evaluation(marketer):
    rng = random.Random(5)
    for index, category in enumerate(["Beauty"] * 3 + ["Books"] * 2 + ["Toys"]):
        ProductFactory(sku=f"P{index}", category=category)
    customers = [CustomerFactory(external_id=f"I{i}") for i in range(40)]
    events = []
    for customer in customers:
        for _ in range(rng.randint(0, 8)):
            kind = rng.choice([EventType.VIEW, EventType.VIEW, EventType.VIEW, EventType.ADD_TO_CART,
                               EventType.FAVORITE, EventType.SEARCH])  # fmt: skip
            category = rng.choice(CATEGORIES + ["beauty"])
            at = NOW - dt.timedelta(days=rng.randint(0, 130), hours=rng.randint(0, 23))
            EventFactory(customer=customer, type=kind, category=category, occurred_at=at)
            events.append((customer.external_id, kind, category, at))

    created = interest_segments_create(user=marketer)
    # Categories by number of products: Beauty (3), Books (2), Toys (1).
    assert [segment.name for segment in created] == [f"Interested in {name}" for name in CATEGORIES]
    assert interest_segments_create(user=marketer) == []  # a second click adds nothing

    for segment, category in zip(created, CATEGORIES, strict=True):
        assert segment.kind == Segment.Kind.DYNAMIC
        segment_refresh(segment_id=segment.pk, now=NOW)
        members = set(
            SegmentMembership.objects.filter(segment=segment, left_at__isnull=True).values_list(
                "customer__external_id", flat=True
            )
        )
        expected = interested(events, category)
        assert expected, f"the generated data should give {category} some interested customers"
        assert members == expected


def test_interest_segments_for_named_categories_skip_blanks_and_repeats(marketer):
    created = interest_segments_create(categories=["Garden", " ", "Garden", "Pets"], user=marketer)
    assert [segment.name for segment in created] == ["Interested in Garden", "Interested in Pets"]
    assert "Garden" in created[0].description and str(INTEREST_WINDOW_DAYS) in created[0].description


def test_api_adds_interest_segments_for_chosen_categories_and_refreshes_them(
    api_client, django_capture_on_commit_callbacks
):
    ProductFactory(sku="B1", category="Books")
    ProductFactory(sku="T1", category="Toys")
    fan = CustomerFactory(external_id="FAN")
    CustomerFactory(external_id="OTHER")
    EventFactory(customer=fan, type=EventType.FAVORITE, category="Toys", occurred_at=dt.datetime.now(dt.UTC))

    with django_capture_on_commit_callbacks(execute=True):
        answer = api_client.post(
            "/api/segments/ready-made/", {"kind": "interest", "categories": ["Toys"]}, format="json"
        )

    assert answer.status_code == 201
    assert [row["name"] for row in answer.json()] == ["Interested in Toys"]
    segment = Segment.objects.get(name="Interested in Toys")
    members = SegmentMembership.objects.filter(segment=segment, left_at__isnull=True)
    assert list(members.values_list("customer__external_id", flat=True)) == ["FAN"]
    again = api_client.post("/api/segments/ready-made/", {"kind": "interest", "categories": ["Toys"]}, format="json")
    assert again.status_code == 201 and again.json() == []


def test_api_rejects_categories_for_rfm_and_unknown_kinds(api_client):
    answer = api_client.post("/api/segments/ready-made/", {"kind": "rfm", "categories": ["Toys"]}, format="json")
    assert answer.status_code == 400
    assert "categories" in answer.json()
    assert api_client.post("/api/segments/ready-made/", {"kind": "magic"}, format="json").status_code == 400


def test_api_adds_the_eleven_rfm_segments(api_client):
    answer = api_client.post("/api/segments/ready-made/", {"kind": "rfm"}, format="json")
    assert answer.status_code == 201
    assert len(answer.json()) == 11


def test_viewer_cannot_add_ready_made_segments(viewer):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user=viewer)
    assert client.post("/api/segments/ready-made/", {"kind": "rfm"}, format="json").status_code == 403
    assert not Segment.objects.exists()


def test_index_page_adds_picked_interest_segments(client, marketer):
    ProductFactory(sku="B1", category="Books")
    ProductFactory(sku="T1", category="Toys")
    client.force_login(marketer)
    page = client.get("/segments/")
    assert 'data-testid="add-interest-segments"' in page.content.decode()
    assert '<option value="Books">Books</option>' in page.content.decode()

    answer = client.post("/segments/interest/", {"categories": ["Books", "Toys"]}, follow=True)

    assert answer.status_code == 200
    assert set(Segment.objects.values_list("name", flat=True)) == {"Interested in Books", "Interested in Toys"}
    assert "2 interest segments added." in answer.content.decode()
