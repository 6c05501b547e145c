"""Read queries over customer data, shared by pages, the API and reports."""

import base64
import datetime as dt
import functools
import json
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Max, Min, Model, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from customers.models import Customer, Event, Order, OrderLine, Product, Review

CENT = Decimal("0.01")

EXACT_COUNT_LIMIT = 200_000


def table_row_count(model: type[Model]) -> int:
    """Row count of a table; on PostgreSQL a large table is estimated from the planner's
    statistics, because an exact COUNT(*) over 10M orders is too slow for a landing page."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
            row = cursor.fetchone()
        if row and row[0] > EXACT_COUNT_LIMIT:
            return int(row[0])
    return model.objects.count()


def customer_data_overview() -> dict[str, int]:
    return {
        "customers": table_row_count(Customer),
        "orders": table_row_count(Order),
        "products": table_row_count(Product),
        "events": table_row_count(Event),
        "reviews": table_row_count(Review),
    }


# --- Browsing customers: search, filters and keyset pages -----------------------------
#
# Pages are cut with keyset pagination on (sort key, id): every page is an index range
# scan of at most ``limit + 1`` rows, so page 20,000 costs what page 1 costs, and no page
# runs COUNT(*) over the table. Rows whose sort key is missing (no sign-up date, no name)
# come after all the others, ordered by id, so each customer appears exactly once.

CUSTOMER_PAGE_SIZE = 50
CUSTOMER_PAGE_MAX = 200
PHONE_LIKE = re.compile(r"\+?[\d\s()-]+")


class CustomerSort(StrEnum):
    NEWEST = "newest"
    NAME = "name"


class InvalidCursor(ValueError):
    """A cursor that was not issued by this module (edited by hand, or for another sort)."""


@dataclass(frozen=True)
class CustomerFilters:
    """What a marketer asked for on the customer list; empty / None means "any".

    ``gender=""`` asks for customers whose gender is unknown, ``gender=None`` for any.
    The sign-up dates are inclusive calendar days in the current time zone.
    """

    q: str = ""
    country: str = ""
    city: str = ""
    gender: str | None = None
    member_tier: str = ""
    email_opt_in: bool | None = None
    sms_opt_in: bool | None = None
    signed_up_from: dt.date | None = None
    signed_up_to: dt.date | None = None
    sort: CustomerSort = CustomerSort.NEWEST

    @property
    def is_unfiltered(self) -> bool:
        return self == CustomerFilters(sort=self.sort)


@dataclass(frozen=True)
class CustomerPage:
    customers: list[Customer]
    next_cursor: str | None
    previous_cursor: str | None
    estimated_total: int | None  # only for the unfiltered list, where the planner knows it


@dataclass(frozen=True)
class _SortSpec:
    field: str
    descending: bool
    missing: Q  # rows without a sort key; they form the tail of the list, ordered by id


SORTS: dict[CustomerSort, _SortSpec] = {
    CustomerSort.NEWEST: _SortSpec("signed_up_at", True, Q(signed_up_at__isnull=True)),
    CustomerSort.NAME: _SortSpec("name", False, Q(name="")),
}


def cursor_encode(*parts: Any) -> str:
    """An opaque, URL-safe token for a position in an ordered list."""
    raw = json.dumps(parts, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(token: str) -> list[Any]:
    try:
        parts = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError) as error:
        raise InvalidCursor(token) from error
    if not isinstance(parts, list):
        raise InvalidCursor(token)
    return parts


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


@functools.cache
def _database_sorts_by_code_point() -> bool:
    """Whether the PostgreSQL database collation orders text by code point (C, C.UTF-8)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT datcollate FROM pg_database WHERE datname = current_database()")
        row = cursor.fetchone()
    return bool(row) and row[0].lower().replace("-", "") in {"c", "posix", "c.utf8"}


def _prefix(field: str, text: str) -> Q:
    """``field LIKE 'text%'``, plus the equivalent range when the collation sorts by code
    point: PostgreSQL uses a plain b-tree index for LIKE only under the "C" collation, but
    for the range under C.UTF-8 as well. LIKE stays, so the range can never add rows."""
    condition = Q(**{f"{field}__startswith": text})
    if _database_sorts_by_code_point() and ord(text[-1]) < 0x10FFFF:
        upper = text[:-1] + chr(ord(text[-1]) + 1)
        condition &= Q(**{f"{field}__gte": text, f"{field}__lt": upper})
    return condition


def _search_condition(text: str) -> Q:
    """External id exact, email or phone prefix, name contains.

    A query that looks like a phone number does not search names and one with an ``@``
    searches only ids and emails, so those searches stay on the id, email and phone
    indexes; a name search scans unless a trigram index on the name exists.
    """
    condition = Q(external_id=text) | _prefix("email", text)
    if text.lower() != text:
        condition |= _prefix("email", text.lower())
    if PHONE_LIKE.fullmatch(text):
        condition |= _prefix("phone", text)
    elif "@" not in text:
        condition |= Q(name__icontains=text)
    return condition


def customer_filtered(filters: CustomerFilters) -> QuerySet[Customer]:
    """Customers matching the filters, unordered (callers decide the order)."""
    queryset = Customer.objects.all()
    text = filters.q.strip()
    if text:
        queryset = queryset.filter(_search_condition(text))
    exact = {
        "country": filters.country.strip(),
        "city": filters.city.strip(),
        "member_tier": filters.member_tier.strip(),
    }
    queryset = queryset.filter(**{name: value for name, value in exact.items() if value})
    if filters.gender is not None:
        queryset = queryset.filter(gender=filters.gender)
    if filters.email_opt_in is not None:
        queryset = queryset.filter(email_opt_in=filters.email_opt_in)
    if filters.sms_opt_in is not None:
        queryset = queryset.filter(sms_opt_in=filters.sms_opt_in)
    if filters.signed_up_from:
        queryset = queryset.filter(signed_up_at__gte=_day_start(filters.signed_up_from))
    if filters.signed_up_to:
        queryset = queryset.filter(signed_up_at__lt=_day_start(filters.signed_up_to + dt.timedelta(days=1)))
    return queryset


def _key_value(spec: _SortSpec, customer: Customer) -> Any:
    value = getattr(customer, spec.field)
    return None if value in (None, "") else value


def _customer_cursor(sort: CustomerSort, customer: Customer) -> str:
    value = _key_value(SORTS[sort], customer)
    return cursor_encode(sort.value, value.isoformat() if isinstance(value, dt.datetime) else value, customer.pk)


def _cursor_position(sort: CustomerSort, token: str) -> tuple[Any, int]:
    parts = cursor_decode(token)
    if len(parts) != 3 or parts[0] != sort.value or not isinstance(parts[2], int):
        raise InvalidCursor(token)
    key = parts[1]
    if key is not None and SORTS[sort].field == "signed_up_at":
        try:
            key = dt.datetime.fromisoformat(key)
        except (TypeError, ValueError) as error:
            raise InvalidCursor(token) from error
    elif key is not None and not isinstance(key, str):
        raise InvalidCursor(token)
    return key, parts[2]


def _scan(
    queryset: QuerySet[Customer], spec: _SortSpec, position: tuple[Any, int] | None, forward: bool, count: int
) -> list[Customer]:
    """Up to ``count`` rows strictly after (forward) or before ``position`` in list order,
    nearest first. List order is: rows with a key by (key, id), then keyless rows by id."""
    ascending = spec.descending != forward  # walking backwards flips every comparison
    sign = "" if ascending else "-"
    later, later_or_equal = ("gt", "gte") if ascending else ("lt", "lte")
    keyed = queryset.exclude(spec.missing).order_by(f"{sign}{spec.field}", f"{sign}id")
    keyless = queryset.filter(spec.missing).order_by(f"{sign}id")
    key, pk = position if position else (None, None)
    # The sequence of segments walked, in the direction of travel.
    if forward:
        segments = [keyed, keyless] if position is None or key is not None else [keyless]
    else:
        segments = [keyless, keyed] if position is None or key is None else [keyed]
    rows: list[Customer] = []
    for index, segment in enumerate(segments):
        if index == 0 and position is not None:
            if segment is keyed:
                segment = segment.filter(
                    Q(**{f"{spec.field}__{later_or_equal}": key})
                    & (Q(**{f"{spec.field}__{later}": key}) | Q(**{f"id__{later}": pk}))
                )
            else:
                segment = segment.filter(**{f"id__{later}": pk})
        rows.extend(segment[: count - len(rows)])
        if len(rows) >= count:
            break
    return rows


def customer_search(
    filters: CustomerFilters | None = None,
    *,
    after: str | None = None,
    before: str | None = None,
    limit: int = CUSTOMER_PAGE_SIZE,
) -> CustomerPage:
    """One page of the customer list, after or before a cursor from an earlier page.

    Raises InvalidCursor for a cursor this module did not issue for the same sort.
    """
    filters = filters or CustomerFilters()
    limit = max(1, min(limit, CUSTOMER_PAGE_MAX))
    spec = SORTS[filters.sort]
    queryset = customer_filtered(filters)
    if before:
        rows = _scan(queryset, spec, _cursor_position(filters.sort, before), False, limit + 1)
        has_previous, has_next = len(rows) > limit, True
        rows = rows[:limit][::-1]
    else:
        position = _cursor_position(filters.sort, after) if after else None
        rows = _scan(queryset, spec, position, True, limit + 1)
        has_previous, has_next = position is not None, len(rows) > limit
        rows = rows[:limit]
    return CustomerPage(
        customers=rows,
        next_cursor=_customer_cursor(filters.sort, rows[-1]) if rows and has_next else None,
        previous_cursor=_customer_cursor(filters.sort, rows[0]) if rows and has_previous else None,
        estimated_total=table_row_count(Customer) if filters.is_unfiltered else None,
    )


def customer_filter_options() -> dict[str, list[str]]:
    """Known countries and member tiers for the filter inputs' suggestions.

    A DISTINCT over a million customers is too slow to run on every page view, so the
    answer is cached for a few minutes; the inputs still accept any value.
    """

    def compute() -> dict[str, list[str]]:
        def distinct(field: str) -> list[str]:
            values = Customer.objects.exclude(**{field: ""}).values_list(field, flat=True)
            return list(values.order_by(field).distinct()[:500])

        return {"countries": distinct("country"), "member_tiers": distinct("member_tier")}

    return cache.get_or_set("customers:filter-options", compute, timeout=600)


# --- One customer: profile, orders, timeline ------------------------------------------

CUSTOMER_RECENT_ORDERS = 20
CUSTOMER_RECENT_REVIEWS = 20
CUSTOMER_TIMELINE_PAGE = 50


@dataclass(frozen=True)
class OrderSummary:
    """Spend counts placed orders only: cancelled and returned orders earned nothing, so
    they are counted separately. ``currency`` is empty when orders use several currencies."""

    order_count: int
    total_spend: Decimal
    average_order_value: Decimal | None
    first_order_at: dt.datetime | None
    last_order_at: dt.datetime | None
    currency: str
    cancelled_count: int
    returned_count: int


@dataclass(frozen=True)
class TimelinePage:
    events: list[Event]
    next_cursor: str | None  # pass as ``before`` for the next, older page


def customer_profile(external_id: str) -> Customer:
    """The customer with this shop id; raises Customer.DoesNotExist."""
    return Customer.objects.get(external_id=external_id)


def customer_order_summary(customer: Customer) -> OrderSummary:
    """Order count, spend, first/last order and average order value in one aggregate."""
    placed = Q(status=Order.Status.PLACED)
    totals = Order.objects.filter(customer=customer).aggregate(
        order_count=Count("id", filter=placed),
        total_spend=Sum("total", filter=placed),
        first_order_at=Min("ordered_at", filter=placed),
        last_order_at=Max("ordered_at", filter=placed),
        lowest_currency=Min("currency", filter=placed),
        highest_currency=Max("currency", filter=placed),
        cancelled_count=Count("id", filter=Q(status=Order.Status.CANCELLED)),
        returned_count=Count("id", filter=Q(status=Order.Status.RETURNED)),
    )
    count = totals["order_count"]
    spend = Decimal(totals["total_spend"] or 0).quantize(CENT)
    same_currency = totals["lowest_currency"] == totals["highest_currency"]
    return OrderSummary(
        order_count=count,
        total_spend=spend,
        average_order_value=(spend / count).quantize(CENT, rounding=ROUND_HALF_UP) if count else None,
        first_order_at=totals["first_order_at"],
        last_order_at=totals["last_order_at"],
        currency=(totals["lowest_currency"] or "") if same_currency else "",
        cancelled_count=totals["cancelled_count"],
        returned_count=totals["returned_count"],
    )


def customer_recent_orders(customer: Customer, *, limit: int = CUSTOMER_RECENT_ORDERS) -> list[Order]:
    """The latest orders, newest first, with their lines and products (three queries)."""
    lines = OrderLine.objects.select_related("product").order_by("id")
    orders = Order.objects.filter(customer=customer).order_by("-ordered_at", "-id")
    return list(orders.prefetch_related(Prefetch("lines", queryset=lines))[:limit])


def customer_reviews(customer: Customer, *, limit: int = CUSTOMER_RECENT_REVIEWS) -> list[Review]:
    reviews = Review.objects.filter(customer=customer).select_related("product")
    return list(reviews.order_by("-created_at", "-id")[:limit])


def customer_timeline(
    customer: Customer, *, before: str | None = None, limit: int = CUSTOMER_TIMELINE_PAGE
) -> TimelinePage:
    """Behaviour events newest first, ``limit`` at a time; ``before`` is the cursor of the
    previous page. Raises InvalidCursor for a cursor this function did not issue."""
    limit = max(1, min(limit, CUSTOMER_PAGE_MAX))
    events = Event.objects.filter(customer=customer).order_by("-occurred_at", "-id")
    if before:
        parts = cursor_decode(before)
        try:
            occurred_at, pk = dt.datetime.fromisoformat(parts[0]), int(parts[1])
        except (IndexError, TypeError, ValueError) as error:
            raise InvalidCursor(before) from error
        events = events.filter(Q(occurred_at__lte=occurred_at) & (Q(occurred_at__lt=occurred_at) | Q(id__lt=pk)))
    rows = list(events[: limit + 1])
    last = rows[limit - 1] if len(rows) > limit else None
    return TimelinePage(
        events=rows[:limit],
        next_cursor=cursor_encode(last.occurred_at.isoformat(), last.pk) if last else None,
    )
