"""The issue's first "done when", in a real browser: a marketer creates a coupon campaign
for a segment with two variants and a 10 % holdout, previews it for a customer, sends it,
watches the progress reach 100 % and sees the variants compared; then schedules a copy
for a later time and sees it waiting as scheduled. Celery runs eagerly (tests/conftest.py),
so the send happens inside the launch request."""

import datetime as dt

from campaigns.coupons.services import coupon_pool_create
from campaigns.models import Campaign, Message
from tests.campaigns.test_campaign_services import segment_of, sending_policy_open
from tests.e2e.conftest import ARTIFACTS
from tests.factories import CustomerFactory


def test_marketer_creates_sends_and_compares_a_coupon_campaign(signed_in_page, live_server):
    sending_policy_open()
    customers = CustomerFactory.create_batch(119, email_opt_in=True)
    lin = CustomerFactory(name="Lin Wei", email="lin@example.com", email_opt_in=True)
    segment = segment_of([*customers, lin], name="Spring shoppers")
    pool = coupon_pool_create(
        name="Spring 15%", kind="unique", discount_kind="percent", discount_value=15, prefix="SP-"
    )

    page = signed_in_page
    page.goto(f"{live_server.url}/campaigns/")
    page.click("[data-testid=new-campaign]")
    page.fill("#id_name", "Spring coupon")
    page.select_option("#id_audience_segments", [str(segment.pk)])
    page.select_option("#id_coupon_pool", str(pool.pk))
    page.fill("#id_variants-0-subject", "Hello {{ customer.first_name }}")
    page.fill("#id_variants-0-body_text", "Your code {{ coupon.code }}: {{ coupon.discount }}")
    page.click("[data-testid=add-variant]")
    page.wait_for_function("document.querySelectorAll('[data-testid=variant-row]').length === 2")
    assert page.input_value("#id_variants-1-key") == "B"
    page.fill("#id_variants-1-subject", "A gift for you, {{ customer.first_name }}")
    page.fill("#id_variants-1-body_text", "{% if coupon %}Use {{ coupon.code }}{% endif %")
    page.wait_for_selector("#tpl-variants-1-body_text [data-testid=template-errors]")  # checked while typing
    page.fill("#id_variants-1-body_text", "{% if coupon %}Use {{ coupon.code }}{% endif %}")
    page.wait_for_selector("#tpl-variants-1-body_text [data-testid=template-errors]", state="detached")
    page.fill("#id_holdout_percent", "10")
    page.locator("#id_holdout_percent").dispatch_event("change")
    # 120 members with consent; 10 % holdout → 108 recipients expected.
    page.wait_for_selector("[data-testid=audience-recipients]:has-text('108')")

    page.fill("[data-testid=preview-customer]", "lin@example.com")
    page.select_option("[data-testid=preview-variant]", "1")
    page.click("[data-testid=preview-button]")
    assert page.locator("[data-testid=preview-subject]").inner_text() == "A gift for you, Lin"
    assert "Use SP-" in page.locator("[data-testid=preview-text]").inner_text()

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "campaign-form.png"), full_page=True)
    page.click("[data-testid=save-campaign]")
    page.wait_for_selector("[data-testid=launch-campaign]")
    assert page.locator("[data-testid=campaign-status]").get_attribute("data-status") == "draft"
    assert page.locator("[data-testid=launch-problems]").count() == 0
    page.click("[data-testid=launch-campaign]")

    page.wait_for_selector("[data-testid=progress-percent]:has-text('100%')")
    assert page.locator("[data-testid=campaign-progress]").get_attribute("data-done") == "true"
    assert page.locator("[data-testid=campaign-status]").get_attribute("data-status") == "sent"
    campaign = Campaign.objects.get(name="Spring coupon")
    messages = Message.objects.filter(campaign=campaign)
    sent = messages.filter(status=Message.Status.SENT)
    holdout = messages.filter(skip_reason=Message.SkipReason.HOLDOUT).count()
    assert sent.count() + holdout == 120 and holdout > 0  # no holdout: a chance of 1 in 300,000
    assert page.locator("[data-testid=progress-sent]").inner_text() == str(sent.count())
    assert page.locator("[data-reason=holdout]").inner_text().endswith(f": {holdout}")
    assert sent.exclude(coupon_code__startswith="SP-").count() == 0
    assert sent.values("coupon_code").distinct().count() == sent.count()  # one unique code each

    comparison = page.locator("[data-testid=variant-comparison]")
    assert comparison.locator("[data-testid=comparison-row][data-key=A]").count() == 1
    assert comparison.locator("[data-testid=comparison-row][data-key=B]").count() == 1
    holdout_row = comparison.locator("[data-testid=comparison-row][data-key=holdout]")
    assert holdout_row.locator("[data-testid=recipients]").inner_text() == str(holdout)
    assert page.locator("[data-testid=verdict]").inner_text().strip()
    trail = page.locator("[data-testid=audit-trail]")
    assert trail.locator("[data-action=launched]").count() == 1
    assert trail.locator("[data-action=sent]").count() == 1
    page.screenshot(path=str(ARTIFACTS / "campaign-detail.png"), full_page=True)

    # A copy, scheduled for tomorrow morning in Shanghai.
    page.click("[data-testid=duplicate-campaign]")
    page.wait_for_selector("[data-testid=campaign-form]")
    page.fill("#id_name", "Spring coupon, second wave")
    page.check("input[name=schedule_kind][value=at]")
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).strftime("%Y-%m-%dT09:00")
    page.fill("#id_send_at", tomorrow)
    page.select_option("#id_time_zone", "Asia/Shanghai")
    page.click("[data-testid=save-campaign]")
    page.wait_for_selector("[data-testid=launch-campaign]:has-text('Schedule')")
    page.click("[data-testid=launch-campaign]")
    page.wait_for_selector("[data-testid=campaign-status][data-status=scheduled]")
    assert f"{tomorrow.replace('T', ' ')} Asia/Shanghai" in page.locator("[data-testid=schedule]").inner_text()
    second = Campaign.objects.get(name="Spring coupon, second wave")
    assert second.status == Campaign.Status.SCHEDULED
    assert second.send_at == dt.datetime.fromisoformat(tomorrow).replace(tzinfo=dt.UTC) - dt.timedelta(hours=8)
    assert not Message.objects.filter(campaign=second).exists()

    page.goto(f"{live_server.url}/campaigns/?status=scheduled")
    rows = page.locator("[data-testid=campaign-row]")
    assert rows.count() == 1
    assert "second wave" in rows.first.inner_text()
