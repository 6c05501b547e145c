"""Online Retail II layout: aggregation, cancellations, rows without customer, date layouts."""

import datetime as dt
from decimal import Decimal

import pytest

from customers.ingestion.csv_import import csv_import
from customers.models import Customer, Order, OrderLine, Product

pytestmark = pytest.mark.django_db

FILE = """Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country
489434,85048,CANDLE,12,2009-12-01 07:45:00,6.95,13085.0,United Kingdom
489434,79323P,LIGHT,12,2009-12-01 07:45:00,6.75,13085.0,United Kingdom
489434,85048,CANDLE,6,2009-12-01 07:45:00,7.25,13085.0,United Kingdom
489435,22350,CAT BOWL,12,12/1/2009 7:46,2.55,13086,France
489436,22350,,3,12/1/2009 9:00,2.55,,United Kingdom
C489449,22350,CAT BOWL,-2,12/1/2009 10:33,2.55,13086,France
489437,22351,BOWL,x,12/1/2009 10:40,2.55,13086,France
"""


@pytest.mark.parametrize("chunk_rows", [2, 100])
def test_online_retail_file(tmp_path, chunk_rows):
    path = tmp_path / "retail.csv"
    path.write_text(FILE, encoding="utf-8")
    result = csv_import(
        kind="orders",
        path=path,
        report_path=tmp_path / "e.csv",
        file_format="online_retail",
        chunk_rows=chunk_rows,
    )
    assert result.notes == {"rows without customer id": 1, "cancellation rows": 1}
    assert [(e.row, e.field, e.code) for e in result.errors] == [
        (6, "Customer ID", "required"),
        (8, "Quantity", "invalid_number"),
    ]
    assert dict(Customer.objects.values_list("external_id", "country")) == {
        "13085": "United Kingdom",
        "13086": "France",
    }
    orders = {o.external_id: (o.customer.external_id, o.total, o.status, o.ordered_at) for o in Order.objects.all()}
    assert orders == {
        "489434": (
            "13085",
            Decimal("12") * Decimal("6.95") + 12 * Decimal("6.75") + 6 * Decimal("7.25"),
            "placed",
            dt.datetime(2009, 12, 1, 7, 45, tzinfo=dt.UTC),
        ),
        "489435": ("13086", Decimal("30.60"), "placed", dt.datetime(2009, 12, 1, 7, 46, tzinfo=dt.UTC)),
        "C489449": ("13086", Decimal("-5.10"), "returned", dt.datetime(2009, 12, 1, 10, 33, tzinfo=dt.UTC)),
    }
    candle = OrderLine.objects.get(order__external_id="489434", product__sku="85048")
    assert candle.quantity == 18 and candle.unit_price == Decimal("7.05")  # (12*6.95 + 6*7.25) / 18
    assert Product.objects.get(sku="22350").name == "CAT BOWL"
    again = csv_import(
        kind="orders",
        path=path,
        report_path=tmp_path / "e2.csv",
        file_format="online_retail",
        chunk_rows=chunk_rows,
    )
    assert again.counts["orders"].inserted == 0 and again.counts["order_lines"].inserted == 0
    assert Order.objects.count() == 3 and OrderLine.objects.count() == 4
