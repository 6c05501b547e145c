"""CSV import: streaming in chunks, error report lines, encodings, idempotent re-runs."""

import csv
import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command

from customers.ingestion.csv_import import csv_import
from customers.models import Customer, Event, OrderLine, Product

pytestmark = pytest.mark.django_db


def write(tmp_path, text, name="data.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def report_rows(result):
    with open(result.report_path, encoding="utf-8-sig") as handle:
        return [(int(r["row"]), r["column"], r["value"], r["code"]) for r in csv.DictReader(handle)]


def run(tmp_path, kind, path, **options):
    return csv_import(kind=kind, path=path, report_path=tmp_path / "errors.csv", **options)


def test_customers_file_with_bad_rows_across_chunks(tmp_path):
    path = write(
        tmp_path,
        "customer_id,email,gender,birth_date,vip\n"
        "c1,a@x.com,female,1990-01-01,yes\n"
        "c2,b@x.com,robot,1991-01-01,\n"
        ",c@x.com,,,\n"
        "c3,c@x.com,male,31/31/2000,\n"
        "c1,dup@x.com,,,\n"
        "c4,d@x.com,m,,no\n",
    )
    result = run(tmp_path, "customers", path, chunk_rows=2)
    assert result.rows == 6 and result.rejected_rows == 4
    assert report_rows(result) == [
        (3, "gender", "robot", "invalid_choice"),
        (4, "customer_id", "", "required"),
        (5, "birth_date", "31/31/2000", "invalid_date"),
        (6, "customer_id", "c1", "duplicate_id"),
    ]
    assert dict(Customer.objects.values_list("external_id", "email")) == {"c1": "a@x.com", "c4": "d@x.com"}
    assert Customer.objects.get(external_id="c1").attributes == {"vip": "yes"}
    again = run(tmp_path, "customers", path, chunk_rows=2)
    assert again.counts["customers"].inserted == 0 and again.counts["customers"].unchanged == 2


def test_events_unknown_customer_and_type(tmp_path):
    Customer.objects.create(external_id="c1")
    path = write(
        tmp_path,
        "event_id,customer_id,type,occurred_at,sku,channel\n"
        "e1,c1,view,2009-12-01 07:45:00,S1,app\n"
        "e2,c9,view,2009-12-01 07:45:00,,\n"
        "e3,c1,fly,2009-12-01 07:45:00,,\n",
    )
    result = run(tmp_path, "events", path)
    assert report_rows(result) == [
        (3, "customer_id", "c9", "unknown_customer"),
        (4, "type", "fly", "invalid_choice"),
    ]
    event = Event.objects.get()
    assert (event.external_id, event.sku, event.properties) == ("e1", "S1", {"channel": "app"})
    assert event.occurred_at == dt.datetime(2009, 12, 1, 7, 45, tzinfo=dt.UTC)


def test_order_lines_unknown_order_or_sku(tmp_path):
    customer = Customer.objects.create(external_id="c1")
    customer.orders.create(external_id="o1", ordered_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    Product.objects.create(sku="P1", price=Decimal("3.00"))
    path = write(tmp_path, "order_id,sku,quantity,unit_price\no1,P1,2,\no2,P1,1,1\no1,PX,1,1\no1,P1,x,1\n")
    result = run(tmp_path, "order_lines", path)
    assert report_rows(result) == [
        (3, "order_id", "o2", "unknown_order"),
        (4, "sku", "PX", "unknown_product"),
        (5, "quantity", "x", "invalid_number"),
    ]
    line = OrderLine.objects.get()
    assert (line.quantity, line.unit_price) == (2, Decimal("3.00"))


def test_missing_column_and_empty_file(tmp_path):
    result = run(tmp_path, "orders", write(tmp_path, "order_id,total\no1,3\n"))
    assert result.failed and report_rows(result) == [
        (1, "customer_id", "", "missing_column"),
        (1, "ordered_at", "", "missing_column"),
    ]
    assert [e.code for e in run(tmp_path, "products", write(tmp_path, "")).errors] == ["empty_file"]
    assert [e.code for e in run(tmp_path, "products", write(tmp_path, "sku,name\n")).errors] == ["empty_file"]


def test_bom_and_gb18030(tmp_path):
    result = run(tmp_path, "products", write(tmp_path, "\ufeffsku,name\nP1,茶杯\n"))
    assert result.encoding == "utf-8" and Product.objects.get(sku="P1").name == "茶杯"
    result = run(tmp_path, "products", write(tmp_path, "sku,name\nP2,茶壶\n", encoding="gb18030"))
    assert result.encoding == "gb18030" and Product.objects.get(sku="P2").name == "茶壶"


def test_undecodable_file_is_rejected(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"sku,name\nP1,ok\nP2,\xff\xff\n")
    result = run(tmp_path, "products", path)
    assert result.failed and [(e.code, e.row) for e in result.errors] == [("encoding", 3)]
    assert Product.objects.count() == 0


def test_command_prints_summary(tmp_path, capsys):
    path = write(tmp_path, "sku,name,price\nP1,Cup,2.5\nP2,Mug,abc\n")
    report = tmp_path / "report.csv"
    call_command("import_data", "products", str(path), "--report", str(report))
    out = capsys.readouterr().out
    assert "products inserted: 1" in out and f"error report: {report}" in out
    assert Product.objects.get(sku="P1").price == Decimal("2.50")
