"""The overview dashboard in a real browser: a signed-in marketer opens /reports/ on a shop
with orders, churn risks, segments, campaigns, NPS answers and scored reviews, and every
chart is drawn (a Chart.js instance on each canvas). The conftest saves the screenshot."""

from django.utils import timezone

from reports.dashboard.services import dashboard_refresh
from tests.reports.test_dashboard_data import hand_figures, shop_build

CHARTS = ["sales", "churn", "segments", "campaigns", "trend"]


def test_dashboard_renders_charts(signed_in_page, live_server):
    now = timezone.now()
    shop = shop_build(now=now)
    dashboard_refresh(full=True, now=now)
    expected = hand_figures(shop, now=now)

    page = signed_in_page
    page.goto(f"{live_server.url}/reports/")
    page.wait_for_function("window.Chart !== undefined")
    drawn = page.evaluate(
        "ids => ids.map(id => { const c = Chart.getChart('dashboard-' + id + '-chart');"
        " return c ? c.data.datasets.length : 0; })",
        CHARTS,
    )
    assert drawn == [2, 1, 1, 1, 2]
    assert page.locator("[data-testid=kpi-customers] .stat").inner_text() == str(expected["customers"])
    churn = page.evaluate("Chart.getChart('dashboard-churn-chart').data.datasets[0].data")
    assert churn == expected["histogram"]
    orders = page.evaluate("Chart.getChart('dashboard-sales-chart').data.datasets[1].data")
    assert orders == [hand["orders"] for _, hand in expected["chart"]]
    assert page.locator("[data-testid=campaigns-table] tbody tr").count() == len(expected["campaigns"])
    assert page.locator("[data-testid=report-links] a").count() >= 1
