"""The public "Online Retail II" transaction layout turned into Precis records.

One input row is one invoice line. Rules (also in docs/ingestion.md):
- rows without a Customer ID cannot become orders (an order belongs to a customer): they
  are skipped, counted and reported (code ``required`` on column "Customer ID");
- invoices starting with "C" are cancellations: they become orders with status
  ``returned`` (quantities and total stay negative, as in the file) and are counted;
- lines of the same invoice and StockCode are aggregated: quantity summed, unit price the
  quantity-weighted mean so that quantity × unit price = the rows' amount; the order total
  is the sum of quantity × price over the invoice;
- the customer's country and the product's description and price are the last seen.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from customers.ingestion.errors import IngestionError, RowError
from customers.ingestion.formats import ONLINE_RETAIL_COLUMNS
from customers.ingestion.validation import ROW, as_text, parse_datetime

REQUIRED = ("Invoice", "StockCode", "Quantity", "InvoiceDate", "Price", "Customer ID")


@dataclass
class RetailRecords:
    """One chunk of the file as Precis records (raw text frames with ``_row``, ready for
    validation), plus the rows rejected before that and the counts the summary shows."""

    frames: dict[str, pd.DataFrame]
    errors: list[RowError] = field(default_factory=list)
    rejected_rows: int = 0
    without_customer: int = 0
    cancellation_rows: int = 0


def retail_missing_columns(columns: list[str]) -> list[str]:
    return [name for name in REQUIRED if name not in columns]


def retail_header(columns: list[str]) -> dict[str, str]:
    """Map the file's header to the canonical names, case- and space-insensitively."""
    canonical = {name.lower().replace(" ", ""): name for name in ONLINE_RETAIL_COLUMNS}
    canonical["customerid"] = "Customer ID"
    return {column: canonical.get(column.strip().lower().replace(" ", ""), column.strip()) for column in columns}


def retail_transform(raw: pd.DataFrame) -> RetailRecords:
    """Vectorised: validate the raw lines, then aggregate them into customers, products,
    orders and order lines. ``raw`` holds text columns and ``_row`` (spreadsheet line)."""
    text = {
        name: as_text(raw[name]) if name in raw.columns else pd.Series("", index=raw.index)
        for name in ONLINE_RETAIL_COLUMNS
    }
    rows = raw[ROW].to_numpy()
    customer = text["Customer ID"].str.replace(r"\.0+$", "", regex=True)
    invoice = text["Invoice"]
    quantity = pd.to_numeric(text["Quantity"].where(text["Quantity"].ne("")), errors="coerce")
    price = pd.to_numeric(text["Price"].where(text["Price"].ne("")), errors="coerce")
    moment = parse_datetime(text["InvoiceDate"])
    checks = [
        ("Invoice", invoice.eq(""), IngestionError.REQUIRED),
        ("StockCode", text["StockCode"].eq(""), IngestionError.REQUIRED),
        ("Customer ID", customer.eq(""), IngestionError.REQUIRED),
        ("Quantity", quantity.isna() | quantity.ne(np.floor(quantity)), IngestionError.INVALID_NUMBER),
        ("Price", price.isna(), IngestionError.INVALID_NUMBER),
        ("InvoiceDate", moment.isna(), IngestionError.INVALID_DATE),
    ]
    bad = pd.Series(False, index=raw.index)
    errors: list[RowError] = []
    for column, mask, code in checks:
        mask = mask & ~bad  # one reason per row: the first failing check
        for position in np.flatnonzero(mask.to_numpy()):
            errors.append(
                RowError(int(rows[position]), invoice.iat[position], column, code, text[column].iat[position])
            )
        bad |= mask
    without_customer = int((customer.eq("") & invoice.ne("") & text["StockCode"].ne("")).sum())
    good = ~bad
    lines = pd.DataFrame(
        {
            ROW: rows[good.to_numpy()],
            "invoice": invoice[good],
            "sku": text["StockCode"][good],
            "description": text["Description"][good],
            "quantity": quantity[good].astype("int64"),
            "price": price[good],
            "at": moment[good],
            "customer": customer[good],
            "country": text["Country"][good],
        }
    )
    lines["amount"] = lines["quantity"] * lines["price"]
    cancelled = lines["invoice"].str.upper().str.startswith("C")

    customers = lines.groupby("customer", sort=False).agg(**{ROW: (ROW, "first"), "country": ("country", "last")})
    customers = customers.reset_index().rename(columns={"customer": "customer_id"})
    products = (
        lines.assign(description=lines["description"].replace("", np.nan))
        .groupby("sku", sort=False)
        .agg(**{ROW: (ROW, "first"), "name": ("description", "last"), "price": ("price", "last")})
    )
    products = products.reset_index()
    products["name"] = products["name"].fillna("")
    orders = (
        lines.assign(cancelled=cancelled)
        .groupby("invoice", sort=False)
        .agg(
            **{
                ROW: (ROW, "first"),
                "customer_id": ("customer", "first"),
                "ordered_at": ("at", "first"),
                "total": ("amount", "sum"),
                "cancelled": ("cancelled", "first"),
            }
        )
    )
    orders = orders.reset_index().rename(columns={"invoice": "order_id"})
    orders["status"] = np.where(orders.pop("cancelled"), "returned", "placed")
    order_lines = lines.groupby(["invoice", "sku"], sort=False).agg(
        **{
            ROW: (ROW, "first"),
            "quantity": ("quantity", "sum"),
            "amount": ("amount", "sum"),
            "price": ("price", "max"),
        }
    )
    order_lines = order_lines.reset_index().rename(columns={"invoice": "order_id"})
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_price = order_lines["amount"] / order_lines["quantity"]
    order_lines["unit_price"] = mean_price.where(order_lines["quantity"].ne(0), order_lines["price"])
    frames = {
        "customers": customers,
        "products": products,
        "orders": orders.assign(
            ordered_at=orders["ordered_at"].dt.strftime("%Y-%m-%dT%H:%M:%S%z"), total=orders["total"].round(2)
        ),
        "order_lines": order_lines[[ROW, "order_id", "sku", "quantity", "unit_price"]].assign(
            unit_price=order_lines["unit_price"].round(2)
        ),
    }
    frames = {kind: frame.astype({c: str for c in frame.columns if c != ROW}) for kind, frame in frames.items()}
    return RetailRecords(
        frames=frames,
        errors=errors,
        rejected_rows=int(bad.sum()),
        without_customer=without_customer,
        cancellation_rows=int(cancelled.sum()),
    )
