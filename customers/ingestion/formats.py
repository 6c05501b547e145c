"""What each importable kind looks like: its columns, their types and where they land.

Column names are the CSV header names and the JSON keys of the bulk API alike. A column
not listed here is kept in the record's JSON ``attributes`` (``properties`` for events).
"""

from dataclasses import dataclass, field
from enum import StrEnum


class ValueType(StrEnum):
    TEXT = "text"
    EMAIL = "email"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    CHOICE = "choice"


@dataclass(frozen=True)
class Column:
    name: str
    type: ValueType = ValueType.TEXT
    required: bool = False
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)
    minimum: float | None = None
    maximum: float | None = None
    db_column: str | None = None  # None: same as name; "" : not stored directly (a reference)


@dataclass(frozen=True)
class Reference:
    """A foreign key resolved set-based by joining an id column to another table."""

    column: str  # input column holding the other row's external id
    db_column: str  # FK column on the target table, e.g. customer_id
    table: str  # the referenced table
    key: str  # the referenced table's external id column
    optional: bool = False  # True: an unknown id leaves the FK NULL instead of rejecting


@dataclass(frozen=True)
class Format:
    kind: str
    table: str
    columns: tuple[Column, ...]
    id_columns: tuple[str, ...]  # identify a record within the input (duplicates, reports)
    conflict: tuple[str, ...]  # target columns of the unique key used by ON CONFLICT
    references: tuple[Reference, ...] = ()
    json_column: str | None = "attributes"

    @property
    def required_columns(self) -> list[str]:
        return [column.name for column in self.columns if column.required]

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)


GENDER_ALIASES = {
    "f": "female",
    "m": "male",
    "女": "female",
    "男": "male",
    "woman": "female",
    "man": "male",
    "o": "other",
    "其他": "other",
}
EVENT_TYPES = ("view", "search", "add_to_cart", "favorite", "purchase", "review", "page")
EVENT_ALIASES = {
    "favourite": "favorite",
    "add-to-cart": "add_to_cart",
    "addtocart": "add_to_cart",
    "cart": "add_to_cart",
    "page_view": "page",
    "pageview": "page",
}
MONEY_LIMIT = 10**10  # DecimalField(max_digits=12, decimal_places=2)

CUSTOMERS = Format(
    kind="customers",
    table="customers_customer",
    id_columns=("customer_id",),
    conflict=("external_id",),
    columns=(
        Column("customer_id", required=True, max_length=64, db_column="external_id"),
        Column("email", ValueType.EMAIL, max_length=254),
        Column("phone", max_length=32),
        Column("name", max_length=200),
        Column("gender", ValueType.CHOICE, choices=("female", "male", "other"), aliases=GENDER_ALIASES),
        Column("birth_date", ValueType.DATE),
        Column("country", max_length=64),
        Column("region", max_length=100),
        Column("city", max_length=100),
        Column("occupation", max_length=100),
        Column("signed_up_at", ValueType.DATETIME),
        Column("email_opt_in", ValueType.BOOLEAN),
        Column("sms_opt_in", ValueType.BOOLEAN),
    ),
)
PRODUCTS = Format(
    kind="products",
    table="customers_product",
    id_columns=("sku",),
    conflict=("sku",),
    columns=(
        Column("sku", required=True, max_length=64),
        Column("name", max_length=255),
        Column("category", max_length=100),
        Column("brand", max_length=100),
        Column("price", ValueType.DECIMAL, minimum=-MONEY_LIMIT, maximum=MONEY_LIMIT),
    ),
)
ORDERS = Format(
    kind="orders",
    table="customers_order",
    id_columns=("order_id",),
    conflict=("external_id",),
    references=(Reference("customer_id", "customer_id", "customers_customer", "external_id"),),
    columns=(
        Column("order_id", required=True, max_length=64, db_column="external_id"),
        Column("customer_id", required=True, max_length=64, db_column=""),
        Column("ordered_at", ValueType.DATETIME, required=True),
        Column("total", ValueType.DECIMAL, minimum=-100 * MONEY_LIMIT, maximum=100 * MONEY_LIMIT),
        Column("currency", max_length=3),
        Column("coupon_code", max_length=64),
        Column("status", ValueType.CHOICE, choices=("placed", "cancelled", "returned")),
    ),
)
ORDER_LINES = Format(
    kind="order_lines",
    table="customers_orderline",
    id_columns=("order_id", "sku"),
    conflict=("order_id", "product_id"),
    references=(
        Reference("order_id", "order_id", "customers_order", "external_id"),
        Reference("sku", "product_id", "customers_product", "sku"),
    ),
    columns=(
        Column("order_id", required=True, max_length=64, db_column=""),
        Column("sku", required=True, max_length=64, db_column=""),
        Column("quantity", ValueType.INTEGER, minimum=-(2**31), maximum=2**31 - 1),
        Column("unit_price", ValueType.DECIMAL, minimum=-MONEY_LIMIT, maximum=MONEY_LIMIT),
    ),
)
EVENTS = Format(
    kind="events",
    table="customers_event",
    id_columns=("event_id",),
    conflict=("external_id",),
    references=(Reference("customer_id", "customer_id", "customers_customer", "external_id"),),
    json_column="properties",
    columns=(
        Column("event_id", required=True, max_length=64, db_column="external_id"),
        Column("customer_id", required=True, max_length=64, db_column=""),
        Column("type", ValueType.CHOICE, required=True, choices=EVENT_TYPES, aliases=EVENT_ALIASES),
        Column("occurred_at", ValueType.DATETIME, required=True),
        Column("sku", max_length=64),
        Column("category", max_length=100),
        Column("query", max_length=255),
        Column("path", max_length=500),
    ),
)
REVIEWS = Format(
    kind="reviews",
    table="customers_review",
    id_columns=("review_id",),
    conflict=("external_id",),
    references=(
        Reference("customer_id", "customer_id", "customers_customer", "external_id"),
        Reference("sku", "product_id", "customers_product", "sku", optional=True),
    ),
    columns=(
        Column("review_id", required=True, max_length=64, db_column="external_id"),
        Column("customer_id", required=True, max_length=64, db_column=""),
        Column("sku", max_length=64),
        Column("rating", ValueType.INTEGER, minimum=1, maximum=5),
        Column("text"),
        Column("created_at", ValueType.DATETIME, required=True),
    ),
)
TRANSCRIPTS = Format(
    kind="transcripts",
    table="customers_transcript",
    id_columns=("transcript_id",),
    conflict=("external_id",),
    references=(Reference("customer_id", "customer_id", "customers_customer", "external_id"),),
    columns=(
        Column("transcript_id", required=True, max_length=64, db_column="external_id"),
        Column("customer_id", required=True, max_length=64, db_column=""),
        Column("text"),
        Column("occurred_at", ValueType.DATETIME, required=True),
        Column("channel", max_length=32),
    ),
)

FORMATS: dict[str, Format] = {
    f.kind: f for f in (CUSTOMERS, PRODUCTS, ORDERS, ORDER_LINES, EVENTS, REVIEWS, TRANSCRIPTS)
}
KINDS = tuple(FORMATS)

ONLINE_RETAIL_COLUMNS = (
    "Invoice",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "Price",
    "Customer ID",
    "Country",
)
