"""What a marketer does with customer data, in a real browser."""

import datetime as dt
from decimal import Decimal

from customers.models import Customer, Order
from tests.factories import CustomerFactory, EventFactory, OrderFactory, OrderLineFactory, ProductFactory


def test_search_and_filter_the_customer_list(signed_in_page, live_server):
    page = signed_in_page
    CustomerFactory(external_id="C-LI", name="李娜", country="CN", city="Hangzhou", email="li.na@example.cn")
    CustomerFactory(external_id="C-EMMA", name="Emma Stone", country="US", city="Boston", email="emma@example.com")
    CustomerFactory(external_id="C-ERIC", name="Eric Chen", country="US", city="Austin", email="eric@example.com")
    page.goto(f"{live_server.url}/customers/")
    rows = page.locator("[data-testid=customer-rows] tbody tr")
    assert rows.count() == 3

    page.fill("#id_q", "Emma")  # htmx swaps only the results, after the debounce
    page.wait_for_url("**/customers/?*q=Emma*")
    rows.first.wait_for()
    page.wait_for_function("document.querySelectorAll('[data-testid=customer-rows] tbody tr').length === 1")
    assert "Emma Stone" in rows.first.inner_text()

    page.fill("#id_q", "")
    page.fill("#id_country", "US")
    page.wait_for_function("document.querySelectorAll('[data-testid=customer-rows] tbody tr').length === 2")
    names = sorted(rows.nth(i).locator("td").first.inner_text().split("\n")[0] for i in range(2))
    assert names == ["Emma Stone", "Eric Chen"]


def test_profile_shows_orders_spend_and_timeline(signed_in_page, live_server):
    page = signed_in_page
    customer = CustomerFactory(external_id="C-PROFILE", name="王芳", member_tier="gold")
    product = ProductFactory(sku="SKU-SILK", name="Silk scarf", price=Decimal("80.00"))
    for day, total in [(1, "80.00"), (5, "160.00")]:
        order = OrderFactory(
            customer=customer, total=Decimal(total), ordered_at=dt.datetime(2026, 3, day, 10, tzinfo=dt.UTC)
        )
        OrderLineFactory(order=order, product=product, quantity=int(Decimal(total) / 80), unit_price=Decimal("80.00"))
    EventFactory(customer=customer, type="add_to_cart", sku="SKU-SILK")
    page.goto(f"{live_server.url}/customers/")
    page.click("text=王芳")
    page.wait_for_url(f"{live_server.url}/customers/C-PROFILE/")
    assert page.locator("[data-testid=member-tier]").inner_text() == "gold"
    assert page.locator("[data-testid=order-count]").inner_text() == "2"
    spend = sum(o.total for o in Order.objects.filter(customer=customer))
    assert page.locator("[data-testid=total-spend]").inner_text().startswith(str(spend))
    assert "Silk scarf" in page.locator("[data-testid=order-summary]").inner_text()
    assert "Add to cart" in page.content()


def test_csv_upload_shows_progress_and_an_error_report(signed_in_page, live_server, tmp_path):
    page = signed_in_page
    csv_file = tmp_path / "customers.csv"
    csv_file.write_text(
        "customer_id,email,name,birth_date,email_opt_in\n"
        "C-1,one@example.com,One,1990-01-02,yes\n"
        "C-2,two@example.com,Two,not-a-date,no\n"
        ",three@example.com,Three,1991-02-03,yes\n"
        "C-4,four@example.com,Four,1992-03-04,1\n",
        encoding="utf-8",
    )
    page.goto(f"{live_server.url}/customers/import/")
    page.select_option("#id_kind", "customers")
    page.set_input_files("#id_file", str(csv_file))
    page.click("button:has-text('Import')")
    job = page.locator("#import-current .job")
    job.wait_for()
    page.wait_for_selector("#import-current .job[data-status=succeeded]", timeout=30_000)
    assert page.locator("#import-current progress").get_attribute("value") == "100"
    assert set(Customer.objects.values_list("external_id", flat=True)) == {"C-1", "C-4"}

    with page.expect_download() as download_info:
        page.click("[data-testid=error-report]")
    report = download_info.value.path().read_text(encoding="utf-8-sig")  # BOM: Excel opens it as UTF-8
    header, *lines = report.strip().splitlines()
    assert header.startswith("row,")
    assert len(lines) == 2
    assert lines[0].startswith("3,") and "birth_date" in lines[0]
    assert lines[1].startswith("4,") and "customer_id" in lines[1]
