"""The behaviour paths report over the database: customers' events laid out as known
sessions, the analytics model computed over them, and every figure of the report (path
shares, exits per state, transition probabilities) checked against a count over the
planned sessions; the page, the CSV downloads and the API through the test client."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections import Counter

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from analytics.sequences.services import behaviour_paths_compute
from customers.models import Event
from tests.factories import CustomerFactory

T0 = dt.datetime(2025, 5, 1, 8, 0, tzinfo=dt.UTC)
TYPES = ["view", "search", "add_to_cart", "favorite", "purchase", "page"]
STEPS = 4

pytestmark = pytest.mark.django_db


@pytest.fixture
def sessions() -> list[list[str]]:
    """25 customers with 1–4 sessions of 1–7 events: gaps inside a session of 1 to 29
    minutes, 31 minutes to a day between sessions. (Not exactly 30: on SQLite the event
    times are read through julianday(), which is a few microseconds off, so a gap of
    exactly the session gap may split the session.)"""
    chance = random.Random(11)
    planned, events = [], []
    for _ in range(25):
        customer = CustomerFactory()
        moment = T0 + dt.timedelta(minutes=chance.randrange(600))
        for _ in range(chance.randint(1, 4)):
            session = chance.choices(TYPES, weights=[8, 3, 3, 1, 1, 2], k=chance.randint(1, 7))
            for index, kind in enumerate(session):
                if index:
                    moment += dt.timedelta(minutes=chance.choice([1, 2, 5, 12, 29]))
                events.append(Event(external_id=f"E{len(events)}", customer=customer, type=kind, occurred_at=moment))
            planned.append(session)
            moment += dt.timedelta(minutes=chance.randint(31, 1440))
    Event.objects.bulk_create(events)
    return planned


def hand_paths(sessions: list[list[str]]) -> Counter:
    return Counter(tuple(session[:STEPS] + (["EXIT"] if len(session) <= STEPS else [])) for session in sessions)


def hand_transitions(sessions: list[list[str]]) -> Counter:
    pairs = Counter()
    for session in sessions:
        steps = ["START", *session, "EXIT"]
        pairs.update(zip(steps, steps[1:], strict=False))
    return pairs


@pytest.fixture
def viewer_api(viewer) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=viewer)
    return client


@pytest.fixture
def computed(sessions):
    return behaviour_paths_compute(gap_minutes=30, path_steps=STEPS, top_paths=200)


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_api_paths_exits_and_matrix_equal_the_planned_sessions(viewer_api, sessions, computed):
    body = viewer_api.get("/api/reports/paths/").json()
    assert body["computation"]["id"] == computed.pk
    assert body["computation"]["sessions"] == len(sessions)
    assert body["computation"]["events"] == sum(len(session) for session in sessions)

    paths = hand_paths(sessions)
    got = {tuple(path["steps"]): (path["sessions"], path["share"]) for path in body["paths"]}
    assert got == {steps: (n, pytest.approx(n / len(sessions))) for steps, n in paths.items()}
    assert [path["sessions"] for path in body["paths"]] == sorted(paths.values(), reverse=True)

    visits = Counter(step for session in sessions for step in session)
    exits = Counter(session[-1] for session in sessions)
    assert {row["state"]: (row["visits"], row["exits"]) for row in body["exits"]} == {
        state: (visits[state], exits[state]) for state in visits
    }
    for row in body["exits"]:
        assert row["exit_probability"] == pytest.approx(exits[row["state"]] / visits[row["state"]])
        assert row["exit_share"] == pytest.approx(exits[row["state"]] / len(sessions))

    pairs = hand_transitions(sessions)
    states = body["states"]
    assert states[0] == "START" and states[-1] == "EXIT"
    for i, source in enumerate(states):
        total = sum(n for (s, _t), n in pairs.items() if s == source)
        for j, target in enumerate(states):
            assert body["counts"][i][j] == pairs[(source, target)]
            assert body["probabilities"][i][j] == pytest.approx(pairs[(source, target)] / total if total else 0.0)


def test_api_before_any_computation(viewer_api):
    body = viewer_api.get("/api/reports/paths/").json()
    assert body == {"computation": None, "paths": [], "exits": [], "states": [], "counts": [], "probabilities": []}


def test_api_needs_authentication_and_the_view_permission(make_user):
    assert APIClient().get("/api/reports/paths/").status_code in (401, 403)
    nobody = make_user(username="no-role")
    nobody.groups.clear()
    client = APIClient()
    client.force_authenticate(user=nobody)
    assert client.get("/api/reports/paths/").status_code == 403


def test_the_latest_computation_is_shown(viewer_api, sessions):
    behaviour_paths_compute(gap_minutes=30, path_steps=STEPS)
    latest = behaviour_paths_compute(gap_minutes=1_000_000, path_steps=2)  # one session per customer
    body = viewer_api.get("/api/reports/paths/").json()
    assert body["computation"]["id"] == latest.pk and body["computation"]["sessions"] == 25


def test_page_shows_paths_exits_and_heatmap(client, viewer, sessions, computed):
    client.force_login(viewer)
    response = client.get(reverse("reports:paths"))
    assert response.status_code == 200
    html = response.content.decode()
    for section in ("common-paths", "paths-exits", "paths-transitions"):
        assert f'data-testid="{section}"' in html
    assert 'id="paths-report-data"' in html and "chart-4.6.1.umd.min.js" in html
    assert f'data-testid="sessions">{len(sessions)}<' in html
    exits = Counter(session[-1] for session in sessions)
    top_state, top_exits = max(exits.items(), key=lambda item: (item[1], [-ord(c) for c in item[0]]))
    assert response.context["chart"]["exits"]["labels"][0] == top_state
    assert f'data-testid="exit-{top_state}"' in html
    heatmap = response.context["heatmap"]
    assert heatmap["columns"][-1] == "EXIT" and "START" not in heatmap["columns"]
    from_states = [row["state"] for row in heatmap["rows"]]
    assert from_states[0] == "START" and "EXIT" not in from_states
    assert 'class="cell' in html and reverse("analytics:paths") in html
    assert 'data-testid="no-paths"' not in html


def test_page_says_when_nothing_was_computed(client, viewer):
    client.force_login(viewer)
    response = client.get(reverse("reports:paths"))
    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="no-paths"' in html
    assert f'href="{reverse("analytics:paths")}"' in html and "chart-4.6.1" not in html


def test_csv_downloads_carry_the_numbers(client, viewer, sessions, computed):
    client.force_login(viewer)
    paths = _csv(client.get(reverse("reports:paths-csv", args=["paths"])))
    assert paths[0] == ["path", "steps", "sessions", "share"]
    hand = hand_paths(sessions)
    assert {row[0]: (int(row[2]), float(row[3])) for row in paths[1:]} == {
        " → ".join(steps): (n, pytest.approx(n / len(sessions), abs=1e-6)) for steps, n in hand.items()
    }

    exits = _csv(client.get(reverse("reports:paths-csv", args=["exits"])))
    assert exits[0] == ["state", "visits", "exits", "exit_probability", "exit_share"]
    visits = Counter(step for session in sessions for step in session)
    ends = Counter(session[-1] for session in sessions)
    for state, visit_count, exit_count, probability, _share in exits[1:]:
        assert (int(visit_count), int(exit_count)) == (visits[state], ends[state])
        assert float(probability) == pytest.approx(ends[state] / visits[state], abs=1e-6)

    matrix = _csv(client.get(reverse("reports:paths-csv", args=["transitions"])))
    columns = matrix[0][1:-1]
    assert matrix[0][0] == "from" and columns[-1] == "EXIT" and matrix[0][-1] == "transitions"
    pairs = hand_transitions(sessions)
    for row in matrix[1:]:
        total = sum(n for (s, _t), n in pairs.items() if s == row[0])
        assert int(row[-1]) == total
        shares = [float(cell) for cell in row[1:-1]]
        assert shares == pytest.approx([pairs[(row[0], c)] / total if total else 0.0 for c in columns], abs=1e-6)
    assert client.get(reverse("reports:paths-csv", args=["other"])).status_code == 404


def test_csv_before_any_computation_has_headers_only(client, viewer):
    client.force_login(viewer)
    for table in ("paths", "exits", "transitions"):
        assert len(_csv(client.get(reverse("reports:paths-csv", args=[table])))) == 1


def test_page_and_downloads_redirect_anonymous_visitors(client):
    for url in (reverse("reports:paths"), reverse("reports:paths-csv", args=["exits"])):
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]


def test_user_without_the_permission_is_refused(client, make_user):
    nobody = make_user(username="no-role")
    nobody.groups.clear()
    client.force_login(nobody)
    assert client.get(reverse("reports:paths")).status_code == 403
