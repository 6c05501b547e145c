"""A marketer builds a nested rule, watches the audience size change, saves the segment,
sees it refreshed and exports it — in a real browser."""

import csv
import datetime as dt

from django.utils import timezone

from tests.factories import CustomerFactory, EventFactory


def preview_size(page) -> str:
    return page.locator("[data-testid=preview-size]").inner_text()


def test_build_nested_rule_watch_count_save_and_export(signed_in_page, live_server):
    page = signed_in_page
    shanghai = [CustomerFactory(external_id=f"SH{i}", country="CN", city="Shanghai") for i in range(3)]
    CustomerFactory(external_id="BJ1", country="CN", city="Beijing")
    CustomerFactory(external_id="US1", country="US", city="Boston")
    EventFactory(customer=shanghai[0], type="add_to_cart", occurred_at=timezone.now() - dt.timedelta(days=2))
    EventFactory(customer=shanghai[1], type="add_to_cart", occurred_at=timezone.now() - dt.timedelta(days=45))

    page.goto(f"{live_server.url}/segments/")
    page.click("[data-testid=new-segment]")
    page.fill("#id_name", "China, not Shanghai unless carting")
    page.click("[data-testid=add-condition]")
    page.select_option("[data-testid=rule-field] >> nth=0", "profile.country")
    page.fill("[data-testid=rule-value] >> nth=0", "CN")
    page.wait_for_function("document.querySelector('[data-testid=preview-size]')?.textContent.trim() === '4'")

    # (city is not Shanghai) OR (added to cart at least once in the last 30 days)
    page.click("[data-testid=add-group] >> nth=0")
    inner = page.locator("[data-testid=rule-group] >> nth=1")
    inner.locator("[data-testid=add-condition]").click()
    inner.locator("[data-testid=rule-field]").select_option("profile.city")
    inner.locator("[data-testid=rule-operator]").select_option("not_equals")
    inner.locator("[data-testid=rule-value]").fill("Shanghai")
    page.wait_for_function("document.querySelector('[data-testid=preview-size]')?.textContent.trim() === '1'")
    inner.locator("[data-testid=add-behaviour]").click()
    inner.locator("[data-testid=rule-event]").select_option("add_to_cart")
    page.wait_for_function("document.querySelector('[data-testid=preview-size]')?.textContent.trim() === '2'")

    page.click("[data-testid=save-segment]")
    page.wait_for_selector("[data-testid=segment-size]")
    assert page.locator("[data-testid=segment-size]").inner_text() == "2"
    with page.expect_download() as download_info:
        page.click("[data-testid=export-members]")
    with open(download_info.value.path(), encoding="utf-8") as handle:
        assert sorted(row["external_id"] for row in csv.DictReader(handle)) == ["BJ1", "SH0"]

    CustomerFactory(external_id="GZ1", country="CN", city="Guangzhou")
    page.click("[data-testid=refresh-segment]")
    page.wait_for_selector("text=3 members: 1 entered, 0 left.")


def test_rule_over_another_segment(signed_in_page, live_server):
    from segments.services import segment_create, segment_refresh

    page = signed_in_page
    for i, country in enumerate(["CN", "CN", "US"]):
        CustomerFactory(external_id=f"S{i}", country=country)
    china = {"type": "condition", "field": "profile.country", "operator": "equals", "value": "CN"}
    segment = segment_create(name="China", rule={"type": "group", "op": "and", "children": [china]})
    segment_refresh(segment_id=segment.pk)
    page.goto(f"{live_server.url}/segments/new/")
    page.click("[data-testid=add-segment]")
    page.wait_for_function("document.querySelector('[data-testid=preview-size]')?.textContent.trim() === '2'")
    page.select_option("[data-testid=rule-member]", "false")
    page.wait_for_function("document.querySelector('[data-testid=preview-size]')?.textContent.trim() === '1'")
