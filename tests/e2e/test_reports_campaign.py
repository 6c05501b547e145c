"""The campaign report in a real browser: a signed-in marketer goes from the campaign page
to its report, reads the verdict and the per-variant table, and every chart is drawn
(a Chart.js instance on each canvas); the screenshot is kept in test-artifacts/."""

import pytest

from tests.reports.test_campaign_report import campaign_build

CANVASES = (
    "campaign-rates-chart",
    "campaign-lift-revenue-chart",
    "campaign-lift-conversion-chart",
    "campaign-cumulative-chart",
)


@pytest.fixture
def campaign_data(transactional_db):
    return campaign_build()


def test_campaign_report_renders_charts(signed_in_page, live_server, campaign_data):
    campaign, _hand = campaign_data
    page = signed_in_page
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    page.click("[data-testid=campaign-report-link]")
    page.wait_for_url(f"{live_server.url}/reports/campaigns/{campaign.pk}/")

    assert page.locator("[data-testid=campaign-verdict]").inner_text().startswith("Variant B earned")
    assert page.locator("[data-testid=group-row]").count() == 4  # A, B, holdout, total
    assert page.locator("[data-testid=lift-row]").count() == 3
    for canvas in CANVASES:
        page.wait_for_function(
            "id => { const c = document.getElementById(id); const chart = window.Chart && Chart.getChart(c);"
            " return !!chart && chart.data.datasets.length > 0 && c.width > 0; }",
            arg=canvas,
        )
    points = page.evaluate("Chart.getChart(document.getElementById('campaign-rates-chart')).data.labels")
    assert points == ["Variant A", "Variant B", "Holdout (got nothing)"]

    page.goto(f"{live_server.url}/reports/campaigns/")
    assert page.locator("[data-testid=campaign-report-row]").count() == 1
    page.goto(f"{live_server.url}/reports/campaigns/{campaign.pk}/")
    page.wait_for_function("!!Chart.getChart(document.getElementById('campaign-cumulative-chart'))")
