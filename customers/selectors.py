"""Read queries over customer data, shared by pages, the API and reports."""
from django.db import connection
from django.db.models import Model

from customers.models import Customer, Event, Order, Product, Review

EXACT_COUNT_LIMIT = 200_000


def table_row_count(model: type[Model]) -> int:
    """Row count of a table; on PostgreSQL a large table is estimated from the planner's
    statistics, because an exact COUNT(*) over 10M orders is too slow for a landing page."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                           [model._meta.db_table])
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
