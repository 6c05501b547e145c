"""Behaviour paths over the database: the stored counts equal a plain-Python count over
the event rows; the API and the page."""

import datetime as dt
from collections import Counter

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from analytics.models import BehaviourPaths
from analytics.sequences.services import behaviour_paths_compute
from customers.models import Event
from tests.factories import CustomerFactory

T0 = dt.datetime(2025, 6, 1, 9, 0, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture
def events():
    first, second = CustomerFactory(), CustomerFactory()
    plan = [
        (first, 0, "page"), (first, 1, "view"), (first, 3, "add_to_cart"), (first, 40, "view"),
        (second, 0, "search"), (second, 2, "view"), (second, 200, "view"), (second, 201, "favorite"),
    ]  # fmt: skip
    Event.objects.bulk_create(
        Event(external_id=f"E{i}", customer=customer, type=kind, occurred_at=T0 + dt.timedelta(minutes=minute))
        for i, (customer, minute, kind) in enumerate(plan)
    )
    return plan


def test_stored_transitions_equal_a_plain_count(events):
    paths = behaviour_paths_compute(gap_minutes=30)
    sessions = [["page", "view", "add_to_cart"], ["view"], ["search", "view"], ["view", "favorite"]]
    expected = Counter()
    for session in sessions:
        steps = ["START", *session, "EXIT"]
        expected.update(zip(steps, steps[1:], strict=False))
    assert paths.sessions == 4 and paths.events == 8
    got = {(paths.states[i], paths.states[j]): n for i, row in enumerate(paths.transitions)
           for j, n in enumerate(row) if n}  # fmt: skip
    assert got == dict(expected)


def test_api_and_page(events, viewer, client):
    api = APIClient()
    api.force_authenticate(user=viewer)
    empty = api.get("/api/paths/")
    assert empty.status_code == 200 and empty.content in (b"", b"null")  # nothing computed yet
    behaviour_paths_compute()
    body = api.get("/api/paths/").json()
    assert body["sessions"] == 4
    after_view = {row["state"]: row["probability"] for row in body["next_actions"]["view"]}
    assert after_view == pytest.approx({"EXIT": 2 / 4, "add_to_cart": 1 / 4, "favorite": 1 / 4})  # four views
    client.force_login(viewer)
    html = client.get(reverse("analytics:paths")).content.decode()
    assert 'data-testid="transition-matrix"' in html and 'data-testid="common-paths"' in html
    assert 'data-testid="paths-compute"' not in html
    assert client.post(reverse("analytics:paths-compute")).status_code == 403
    partial = client.get(reverse("analytics:paths"), {"state": "view"}, headers={"HX-Request": "true"})
    assert 'data-testid="next-actions-table"' in partial.content.decode()


def test_marketer_computes_from_the_page(events, marketer_client):
    response = marketer_client.post(reverse("analytics:paths-compute"))
    assert response.status_code == 302 and BehaviourPaths.objects.count() == 1
