"""A marketer saves a list as a segment, refreshes it and exports it, in a real browser."""

import csv
import datetime as dt

from segments.services import segment_create, segment_refresh
from tests.factories import CustomerFactory


def test_upload_a_list_then_export_it(signed_in_page, live_server):
    page = signed_in_page
    CustomerFactory(external_id="E1", email="e1@example.com", name="Ada")
    CustomerFactory(external_id="E2", email="e2@example.com", name="Bo")
    page.goto(f"{live_server.url}/segments/")
    page.fill("#id_name", "Newsletter fans")
    page.fill("#id_identifiers", "E1\ne2@example.com\nghost@example.com")
    page.click("button:has-text('Create static segment')")
    page.wait_for_selector("[data-testid=segment-size]")
    assert page.locator("[data-testid=segment-size]").inner_text() == "2"
    assert "ghost@example.com" in page.locator(".messages").inner_text()
    with page.expect_download() as download_info:
        page.click("[data-testid=export-members]")
    with open(download_info.value.path(), encoding="utf-8") as handle:
        assert sorted(row["external_id"] for row in csv.DictReader(handle)) == ["E1", "E2"]


def test_refresh_a_dynamic_segment_and_see_the_chart(signed_in_page, live_server):
    page = signed_in_page
    CustomerFactory(external_id="D1", country="CN")
    china = {"type": "condition", "field": "profile.country", "operator": "equals", "value": "CN"}
    rule = {"type": "group", "op": "and", "children": [china]}
    segment = segment_create(name="China", rule=rule)
    segment_refresh(segment_id=segment.pk, now=dt.datetime(2026, 5, 1, tzinfo=dt.UTC))
    CustomerFactory(external_id="D2", country="CN")
    page.goto(f"{live_server.url}/segments/{segment.pk}/")
    page.click("[data-testid=refresh-segment]")
    page.wait_for_selector("text=2 members: 1 entered, 0 left.")
    assert page.locator("[data-testid=segment-size]").inner_text() == "2"
    page.wait_for_function("document.getElementById('segment-size-chart').width > 0")
    assert "D2" in page.locator("[data-testid=membership-changes]").inner_text()
