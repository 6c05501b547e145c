from tests.e2e.conftest import PASSWORD


def test_login_then_navigate_to_every_area(signed_in_page, live_server):
    page = signed_in_page
    assert page.locator("h1").inner_text() == "Overview"
    for label, path in [
        ("Segments", "/segments/"),
        ("Campaigns", "/campaigns/"),
        ("Analytics", "/analytics/"),
        ("Surveys", "/surveys/"),
        ("Customers", "/customers/"),
    ]:
        page.click(f"nav.mainnav >> text={label}")
        page.wait_for_url(f"{live_server.url}{path}")


def test_wrong_password_is_refused(page, live_server, transactional_db):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "nobody")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    assert "didn't match" in page.locator(".error").inner_text()
    assert page.url.startswith(f"{live_server.url}/login/")
