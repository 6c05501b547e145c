"""A marketer defines a funnel in a real browser: adds a step row with htmx, removes one,
saves, and sees the bar chart (Chart.js) and the table with the hand-computed counts; an
invalid step shows its message next to the row. The e2e fixtures save a screenshot."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from reports.funnels.models import Funnel
from reports.funnels.schema import Step
from tests.factories import CustomerFactory, EventFactory
from tests.reports.test_funnel_report import hand_funnel


def _shop():
    now = timezone.now()
    events = []
    for index in range(6):
        customer = CustomerFactory()
        start = now - dt.timedelta(days=3, hours=index)
        for offset, kind in enumerate(["view", "add_to_cart", "purchase"][: 1 + index % 3]):
            events.append(EventFactory(customer=customer, type=kind, occurred_at=start + dt.timedelta(hours=offset)))
    return events


def _choose_step(row, event: str) -> None:
    row.locator("[data-testid=step-event]").select_option(event)


def test_define_a_funnel_and_see_its_chart(signed_in_page, live_server):  # noqa: F811
    events = _shop()
    browser_page = signed_in_page
    browser_page.goto(f"{live_server.url}/reports/funnels/")
    browser_page.fill("#id_name", "Checkout")
    steps = browser_page.locator("[data-testid=funnel-step]")
    assert steps.count() == 2
    browser_page.click("[data-testid=add-step]")
    browser_page.wait_for_function("document.querySelectorAll('[data-testid=funnel-step]').length === 3")
    browser_page.click("[data-testid=add-step]")
    browser_page.wait_for_function("document.querySelectorAll('[data-testid=funnel-step]').length === 4")
    steps.nth(3).locator("[data-testid=remove-step]").click()
    assert steps.count() == 3
    for index, kind in enumerate(["view", "add_to_cart"]):
        _choose_step(steps.nth(index), kind)
    browser_page.fill("#id_window_value", "2")
    steps.nth(2).locator("[data-testid=step-sku]").fill("SKU-1")  # a filter, but no event yet
    browser_page.click("button.primary[type=submit]")
    assert "Step 3: choose an event type." in browser_page.locator("[data-testid=funnel-step]").nth(2).inner_text()

    third = browser_page.locator("[data-testid=funnel-step]").nth(2)
    assert third.locator("[data-testid=step-sku]").input_value() == "SKU-1"  # what was typed is kept
    third.locator("[data-testid=step-sku]").fill("")
    _choose_step(third, "purchase")
    browser_page.click("button.primary[type=submit]")
    funnel = Funnel.objects.get(name="Checkout")
    browser_page.wait_for_url(f"{live_server.url}/reports/funnels/{funnel.pk}/")
    assert funnel.steps == [{"event": "view"}, {"event": "add_to_cart"}, {"event": "purchase"}]
    browser_page.wait_for_function("window.Chart !== undefined && Chart.getChart('funnel-chart') !== undefined")
    drawn = browser_page.evaluate("Chart.getChart('funnel-chart').data.datasets.map(d => d.data)")
    today = timezone.localdate()
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(today - dt.timedelta(days=29), dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    expected = hand_funnel(events, [Step("view"), Step("add_to_cart"), Step("purchase")], dt.timedelta(days=2),
                           start, end)  # fmt: skip
    assert drawn == [[step["customers"] for step in expected], [step["drop_off"] for step in expected]]
    assert drawn[0] == [6, 4, 2]
    assert browser_page.locator("[data-testid=funnel-table] tbody tr").count() == 3
