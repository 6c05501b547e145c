"""The customer list: search, filters and keyset pages, checked against plain Python over
the rows the test created (not against the selector's own query)."""

import datetime as dt
import re

import pytest

from customers.models import Customer
from customers.selectors import CustomerFilters, CustomerSort, customer_search
from tests.factories import BASE_TIME, CustomerFactory

pytestmark = pytest.mark.django_db

ROW = re.compile(r'data-customer="([^"]+)"')


@pytest.fixture
def population() -> list[Customer]:
    """48 customers covering every filter value, tied sort keys, no names, no sign-up dates."""
    countries = [("CN", "Shanghai"), ("CN", "Beijing"), ("US", "Boston"), ("GB", "London")]
    people = []
    for n in range(48):
        country, city = countries[n % 4]
        signed_up = None if n % 11 == 5 else BASE_TIME - dt.timedelta(days=(n * 7) % 30, hours=n % 3)
        people.append(
            CustomerFactory(
                external_id=f"ext-{n:03d}",
                email=f"{'Vip.' if n % 5 == 0 else 'user'}{n}@{'shop.cn' if n % 2 else 'mail.com'}",
                phone=f"+86 139{n:04d}" if n % 3 else f"+1 617{n:04d}",
                name="" if n % 13 == 4 else f"{['Ann', 'Bo', 'Chen Li', 'Dee'][n % 4]} {['Smith', 'Wang'][n % 2]}",
                country=country,
                city=city,
                gender=["female", "male", "other", ""][n % 4 if n % 7 else 3],
                member_tier=["", "silver", "gold"][n % 3],
                email_opt_in=n % 2 == 0,
                sms_opt_in=n % 5 < 2,
                signed_up_at=signed_up,
            )
        )
    return people


def expected_order(people: list[Customer], sort: CustomerSort) -> list[str]:
    """List order spelled out in Python: keyed rows by (key, id), then keyless rows by id."""
    if sort == CustomerSort.NEWEST:
        keyed = sorted((c for c in people if c.signed_up_at), key=lambda c: (c.signed_up_at, c.pk), reverse=True)
        keyless = sorted((c for c in people if not c.signed_up_at), key=lambda c: c.pk, reverse=True)
    else:
        keyed = sorted((c for c in people if c.name), key=lambda c: (c.name, c.pk))
        keyless = sorted((c for c in people if not c.name), key=lambda c: c.pk)
    return [c.external_id for c in keyed + keyless]


def ids(page) -> list[str]:
    return [customer.external_id for customer in page.customers]


def search_all(filters: CustomerFilters) -> set[str]:
    return set(ids(customer_search(filters, limit=200)))


@pytest.mark.parametrize(
    ("filters", "keep"),
    [
        (CustomerFilters(country="CN"), lambda c: c.country == "CN"),
        (CustomerFilters(country="CN", city="Beijing"), lambda c: c.city == "Beijing"),
        (CustomerFilters(city="London"), lambda c: c.city == "London"),
        (CustomerFilters(gender="female"), lambda c: c.gender == "female"),
        (CustomerFilters(gender=""), lambda c: c.gender == ""),
        (CustomerFilters(member_tier="gold"), lambda c: c.member_tier == "gold"),
        (CustomerFilters(email_opt_in=True), lambda c: c.email_opt_in),
        (CustomerFilters(email_opt_in=False), lambda c: not c.email_opt_in),
        (CustomerFilters(sms_opt_in=True), lambda c: c.sms_opt_in),
        (
            CustomerFilters(email_opt_in=False, sms_opt_in=True, country="GB"),
            lambda c: not c.email_opt_in and c.sms_opt_in and c.country == "GB",
        ),
        (
            CustomerFilters(signed_up_from=dt.date(2023, 12, 20), signed_up_to=dt.date(2023, 12, 27)),
            lambda c: c.signed_up_at and dt.date(2023, 12, 20) <= c.signed_up_at.date() <= dt.date(2023, 12, 27),
        ),
        (
            CustomerFilters(signed_up_to=dt.date(2023, 12, 31)),
            lambda c: c.signed_up_at and c.signed_up_at.date() <= dt.date(2023, 12, 31),
        ),
    ],
)
def test_filters_match_plain_python(population, filters, keep):
    expected = {c.external_id for c in population if keep(c)}
    assert expected, "the population must exercise the filter"
    assert search_all(filters) == expected


@pytest.mark.parametrize(
    ("text", "keep"),
    [
        ("ext-007", lambda c: c.external_id == "ext-007"),
        ("ext-00", lambda c: False),  # ids match exactly, never by prefix
        ("Vip.1", lambda c: c.email.startswith("Vip.1")),
        ("user1", lambda c: c.email.startswith("user1")),
        ("USER1", lambda c: c.email.startswith("user1")),  # a typed capital also tries lower case
        ("user1@", lambda c: c.email.startswith("user1@")),  # an @ never searches names
        ("+1 617", lambda c: c.phone.startswith("+1 617")),
        ("+86 1390", lambda c: c.phone.startswith("+86 1390")),
        ("wang", lambda c: "wang" in c.name.lower()),
        ("chen li", lambda c: "chen li" in c.name.lower()),
        ("nobody-here", lambda c: False),
    ],
)
def test_search_box(population, text, keep):
    assert search_all(CustomerFilters(q=text)) == {c.external_id for c in population if keep(c)}


@pytest.mark.parametrize("sort", list(CustomerSort))
def test_keyset_pages_cover_everyone_once_in_order(population, sort):
    filters = CustomerFilters(sort=sort)
    forward, pages, cursor = [], [], None
    while True:
        page = customer_search(filters, after=cursor, limit=7)
        assert len(page.customers) <= 7
        pages.append(ids(page))
        forward += ids(page)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert forward == expected_order(population, sort)
    assert len(pages) == 7  # 48 customers: six full pages and one of six

    # Walking back with "previous" from the last page gives the same pages.
    backward, cursor = [ids(page)], page.previous_cursor
    while cursor:
        page = customer_search(filters, before=cursor, limit=7)
        backward.insert(0, ids(page))
        cursor = page.previous_cursor
    assert backward == pages


def test_keyset_pages_with_filters(population):
    filters = CustomerFilters(country="CN", sort=CustomerSort.NAME)
    seen, cursor = [], None
    while True:
        page = customer_search(filters, after=cursor, limit=5)
        seen += ids(page)
        if not (cursor := page.next_cursor):
            break
    assert seen == expected_order([c for c in population if c.country == "CN"], CustomerSort.NAME)


def test_estimated_total_only_when_unfiltered(population):
    assert customer_search(CustomerFilters()).estimated_total == 48
    assert customer_search(CustomerFilters(country="CN")).estimated_total is None


def test_page_requires_login_and_view_permission(client, viewer, django_user_model):
    assert client.get("/customers/").status_code == 302
    assert client.get("/customers/")["Location"].startswith("/login/")
    client.force_login(django_user_model.objects.create_user("nobody", password="x-y-z-123"))
    assert client.get("/customers/").status_code == 403
    client.force_login(viewer)
    assert client.get("/customers/").status_code == 200


def test_page_filters_and_pages(population, client, viewer):
    client.force_login(viewer)
    params = {"country": "CN", "email_consent": "no", "sort": "name"}
    expected = [
        external_id
        for external_id in expected_order(population, CustomerSort.NAME)
        if (c := next(p for p in population if p.external_id == external_id)).country == "CN" and not c.email_opt_in
    ]
    response = client.get("/customers/", params)
    assert response.status_code == 200
    assert ROW.findall(response.content.decode()) == expected
    assert b"<form" in response.content and 'name="q"' in response.content.decode()

    all_rows, url = [], "/customers/"
    while url:
        html = client.get(url, {"sort": "newest"} if url == "/customers/" else None).content.decode()
        all_rows += ROW.findall(html)
        next_link = re.search(r'href="(/customers/\?[^"]+)" rel="next"', html)
        url = next_link.group(1).replace("&amp;", "&") if next_link else None
    assert all_rows == expected_order(population, CustomerSort.NEWEST)


def test_page_counts_without_count_star(population, client, viewer):
    client.force_login(viewer)
    first = client.get("/customers/").content.decode()
    assert "Showing 48 · more" not in first and "Showing 50" not in first
    assert "Showing 48 customers" in first and "about 48 in all" in first
    filtered = client.get("/customers/", {"country": "CN"}).content.decode()
    assert "Showing 24 customers" in filtered and "in all" not in filtered
    CustomerFactory.create_batch(10)
    more = client.get("/customers/").content.decode()
    assert "Showing 50 · more" in more and "about 58 in all" in more


def test_htmx_gets_only_the_rows(population, client, viewer):
    client.force_login(viewer)
    response = client.get("/customers/", {"q": "wang"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html and "<form" not in html
    assert set(ROW.findall(html)) == {c.external_id for c in population if "wang" in c.name.lower()}
    assert "HX-Request" in response["Vary"]
    restore = client.get("/customers/", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.content.decode()


def test_form_is_wired_for_htmx_and_plain_get(population, client, viewer):
    client.force_login(viewer)
    html = client.get("/customers/").content.decode()
    form = re.search(r"<form class=\"card customer-filters\"[^>]*>", html).group(0)
    assert 'method="get"' in form and 'action="/customers/"' in form
    assert 'hx-get="/customers/"' in form and 'hx-target="#customer-results"' in form
    assert "input changed delay:300ms, change" in form and 'hx-push-url="true"' in form
    assert 'id="customer-results"' in html


def test_bad_cursor_and_bad_date_fall_back(population, client, viewer):
    client.force_login(viewer)
    html = client.get("/customers/", {"after": "not-a-cursor"}).content.decode()
    assert "no longer valid" in html and len(ROW.findall(html)) == 48
    html = client.get("/customers/", {"signed_up_from": "31/31/2024", "country": "GB"}).content.decode()
    assert set(ROW.findall(html)) == {c.external_id for c in population if c.country == "GB"}
    assert 'class="error"' in html
