"""A customer opens a personalised survey link on a phone, answers it, and the result shows
on the survey's page and on their profile (the issue's "done when"), in a real browser."""

from segments.models import CustomerFeatures
from surveys.links import survey_link
from surveys.models import Response, Survey
from tests.factories import CustomerFactory
from tests.surveys.conftest import survey_build


def test_customer_answers_a_personal_link_and_the_team_sees_it(browser, signed_in_page, live_server):
    survey = survey_build()
    customer = CustomerFactory(external_id="E2E-1", name="Lin Wei")
    nps_id = survey.questions.get(kind="nps").pk

    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, java_script_enabled=False)
    form = phone.new_page()
    form.goto(live_server.url + survey_link(survey, customer))
    assert form.locator("[data-testid=survey-title]").inner_text() == "您的体验如何？"
    assert "您会推荐我们吗？" in form.locator("[data-testid=question-1] legend").inner_text()

    form.click("[data-testid=submit-survey]")  # nothing answered: the required questions say so
    assert form.locator(f"[data-testid=error-{nps_id}]").is_visible()
    assert form.locator("[data-testid=error-summary]").is_visible()
    assert Response.objects.count() == 0

    form.click("[data-testid=question-1] label:has(input[value='9']) span")
    form.click("[data-testid=question-2] label:has(input[value='4']) span")
    form.check("[data-testid=question-3] label:has-text('快') input")
    form.check("[data-testid=question-4] label:has-text('鞋') input")
    form.fill("[data-testid=question-5] textarea", "送货很快，质量很好")
    form.click("[data-testid=submit-survey]")
    form.wait_for_selector("[data-testid=survey-thanks]")
    assert form.locator("[data-testid=survey-thanks]").inner_text().strip() == "非常感谢！"
    phone.close()

    page = signed_in_page
    page.goto(f"{live_server.url}/surveys/{survey.pk}/")
    assert page.locator("[data-testid=response-count]").inner_text() == "1"
    assert page.locator("[data-testid=nps]").inner_text() == "100.0"
    assert page.locator("[data-testid=csat-mean]").inner_text() == "4.00"
    page.wait_for_function(f"Chart.getChart('chart-{nps_id}') !== undefined")
    assert page.evaluate(f"Chart.getChart('chart-{nps_id}').data.datasets[0].data") == [0, 0, 1]
    assert "送货很快，质量很好" in page.locator("[data-testid=text-answers]").inner_text()

    page.goto(f"{live_server.url}/customers/E2E-1/")
    panel = page.locator("[data-testid=customer-survey-responses]")
    assert "How did we do?" in panel.inner_text()
    assert "送货很快，质量很好" in panel.inner_text()
    assert CustomerFeatures.objects.get(customer=customer).nps_group == "promoter"


def test_marketer_builds_a_survey_with_htmx(signed_in_page, live_server):
    page = signed_in_page
    page.goto(f"{live_server.url}/surveys/")
    page.fill("#id_title_en", "Delivery survey")
    page.click("[data-testid=create-survey]")
    page.wait_for_selector("[data-testid=no-questions]")
    page.select_option("#id_kind", "single")
    page.click("[data-testid=add-question]")
    card = page.locator("[data-testid=question-card]")
    card.wait_for()
    card.locator("[data-testid=text-en]").fill("Was it on time?")
    card.locator("[data-testid=choice-en]").nth(0).fill("Yes")
    card.locator("[data-testid=choice-en]").nth(1).fill("No")
    card.locator("[data-testid=add-choice]").click()
    page.wait_for_function("document.querySelectorAll('[data-testid=choice-row]').length === 3")
    page.locator("[data-testid=choice-en]").nth(2).fill("Partly")
    page.locator("[data-testid=save-question]").click()
    page.select_option("#id_kind", "nps")
    page.click("[data-testid=add-question]")
    page.wait_for_function("document.querySelectorAll('[data-testid=question-card]').length === 2")
    page.locator("[data-testid=question-card]").nth(1).locator("[data-testid=move-up]").click()
    page.wait_for_function("document.querySelector('[data-testid=question-card]').dataset.kind === 'nps'")

    survey = Survey.objects.get(title_en="Delivery survey")
    questions = list(survey.questions.order_by("position"))
    assert [q.kind for q in questions] == ["nps", "single"]
    assert questions[1].text_en == "Was it on time?"
    assert list(questions[1].choices.order_by("position").values_list("label_en", flat=True)) == ["Yes", "No", "Partly"]
