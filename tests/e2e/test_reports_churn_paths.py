"""The churn and behaviour-paths reports in a real browser: every chart is drawn (a
Chart.js instance on each canvas) with the numbers the hand computation gives, and no
script error. The e2e conftest saves the screenshots."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from analytics.sequences.services import behaviour_paths_compute
from tests.reports.test_churn_report import NOW, hand_histogram, make_training, scored_shop
from tests.reports.test_paths_report import T0

DATASETS = "ids => ids.map(id => { const c = Chart.getChart(id); return c ? c.data.datasets.length : 0; })"


def _drawn(browser_page, ids: list[str]) -> list[int]:
    return browser_page.evaluate(DATASETS, ids)


def test_churn_report_draws_its_charts(signed_in_page, live_server):
    rows = scored_shop()
    make_training(created_at=NOW)
    errors = []
    signed_in_page.on("pageerror", lambda error: errors.append(str(error)))
    signed_in_page.goto(f"{live_server.url}/reports/churn/?threshold=0.5&value=spend")
    signed_in_page.wait_for_function("window.Chart !== undefined")
    charts = ["churn-models-chart", "churn-distribution-chart", "churn-drivers-chart"]
    assert _drawn(signed_in_page, charts) == [5, 1, 1]  # four figures and the baseline line
    histogram = signed_in_page.evaluate("Chart.getChart('churn-distribution-chart').data.datasets[0].data")
    assert histogram == hand_histogram(rows, 10)
    assert signed_in_page.locator("[data-testid=at-risk-table] tbody tr").count() == sum(
        1 for row in rows if row["risk"] is not None and row["risk"] >= 0.5
    )
    signed_in_page.fill("input[name=threshold]", "0.9")
    signed_in_page.click("[data-testid=churn-at-risk] button[type=submit]")
    expected = sum(1 for row in rows if row["risk"] is not None and row["risk"] >= 0.9)
    signed_in_page.wait_for_function(
        f"document.querySelector('[data-testid=at-risk-count]').textContent.trim() === '{expected}'"
    )
    assert errors == []


def test_paths_report_draws_its_charts(signed_in_page, live_server):
    from customers.models import Event
    from tests.factories import CustomerFactory

    sessions = [["view", "view", "add_to_cart"], ["search", "view"], ["view"], ["view", "purchase"]]
    customer = CustomerFactory()
    moment, events = T0, []
    for session in sessions:
        for kind in session:
            events.append(Event(external_id=f"E{len(events)}", customer=customer, type=kind, occurred_at=moment))
            moment += dt.timedelta(minutes=5)
        moment += dt.timedelta(hours=2)
    Event.objects.bulk_create(events)
    behaviour_paths_compute()
    errors = []
    signed_in_page.on("pageerror", lambda error: errors.append(str(error)))
    signed_in_page.goto(f"{live_server.url}/reports/paths/")
    signed_in_page.wait_for_function("window.Chart !== undefined")
    assert _drawn(signed_in_page, ["paths-common-chart", "paths-exits-chart"]) == [1, 1]
    exits = Counter(session[-1] for session in sessions)
    visits = Counter(step for session in sessions for step in session)
    chart = signed_in_page.evaluate("Chart.getChart('paths-exits-chart').data")
    assert sorted(chart["labels"]) == sorted(visits)
    probabilities = dict(zip(chart["labels"], chart["datasets"][0]["data"], strict=True))
    assert probabilities == pytest.approx({state: exits[state] / visits[state] for state in visits})
    assert signed_in_page.locator("[data-testid=transitions-heatmap] td.cell").count() > 0
    assert errors == []
