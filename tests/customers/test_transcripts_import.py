"""Customer-service transcripts: CSV import and the bulk API, like reviews."""

import csv
import datetime as dt

import pytest
from django.core.management import call_command

from customers.ingestion.csv_import import csv_import
from customers.models import Customer, Transcript

pytestmark = pytest.mark.django_db

HEADER = "transcript_id,customer_id,text,occurred_at,channel,agent\n"


def write(tmp_path, text):
    path = tmp_path / "transcripts.csv"
    path.write_text(text, encoding="utf-8")
    return path


def report_rows(result):
    with open(result.report_path, encoding="utf-8-sig") as handle:
        return [(int(r["row"]), r["column"], r["value"], r["code"]) for r in csv.DictReader(handle)]


def run(tmp_path, path, **options):
    return csv_import(kind="transcripts", path=path, report_path=tmp_path / "errors.csv", **options)


def test_good_rows_imported_bad_rows_reported_by_row_and_field(tmp_path):
    Customer.objects.create(external_id="c1")
    Customer.objects.create(external_id="c2")
    path = write(
        tmp_path,
        HEADER + "t1,c1,客服很耐心，问题解决了,2025-03-01T10:00:00Z,chat,Lily\n"
        't2,c2,"The courier was late, support never replied",2025-03-02 09:30,phone,\n'
        "t3,nobody,Hello,2025-03-02 09:30,email,\n"
        "t4,c1,Hi,not a time,chat,\n"
        ",c1,no id,2025-03-02 09:30,chat,\n"
        "t1,c2,duplicate id,2025-03-02 09:30,chat,\n"
        "t5,c2,,2025-03-03,email,\n",
    )
    result = run(tmp_path, path, chunk_rows=3)
    assert result.rows == 7 and result.rejected_rows == 4
    assert report_rows(result) == [
        # the header is row 1
        (4, "customer_id", "nobody", "unknown_customer"),
        (5, "occurred_at", "not a time", "invalid_date"),  # the code reviews use for times too
        (6, "transcript_id", "", "required"),
        (7, "transcript_id", "t1", "duplicate_id"),
    ]
    rows = {t.external_id: t for t in Transcript.objects.select_related("customer")}
    assert set(rows) == {"t1", "t2", "t5"}
    assert (rows["t1"].customer.external_id, rows["t1"].channel, rows["t1"].language) == ("c1", "chat", "zh")
    assert rows["t1"].occurred_at == dt.datetime(2025, 3, 1, 10, tzinfo=dt.UTC)
    assert rows["t1"].attributes == {"agent": "Lily"}
    assert (rows["t2"].text, rows["t2"].language) == ("The courier was late, support never replied", "en")
    assert rows["t5"].text == "" and rows["t5"].language == ""


def test_reimport_is_idempotent_and_updates_changed_rows(tmp_path):
    Customer.objects.create(external_id="c1")
    path = write(tmp_path, HEADER + "t1,c1,Slow reply,2025-03-01T10:00:00Z,chat,\nt2,c1,Thanks!,2025-03-01,email,\n")
    first = run(tmp_path, path)
    assert first.counts["transcripts"].inserted == 2
    again = run(tmp_path, path)
    assert again.counts["transcripts"].inserted == 0 and again.counts["transcripts"].unchanged == 2
    changed = write(tmp_path, HEADER + "t1,c1,Quick and kind reply,2025-03-01T10:00:00Z,chat,\n")
    third = run(tmp_path, changed)
    assert third.counts["transcripts"].updated == 1
    assert Transcript.objects.get(external_id="t1").text == "Quick and kind reply"
    assert Transcript.objects.count() == 2


def test_import_data_command_accepts_transcripts(tmp_path):
    Customer.objects.create(external_id="c1")
    path = write(tmp_path, HEADER + "t1,c1,物流太慢,2025-03-01,chat,\n")
    call_command("import_data", "transcripts", str(path))
    assert Transcript.objects.get(external_id="t1").language == "zh"


def test_bulk_api_upserts_transcripts_and_reports_bad_records(api_client):
    Customer.objects.create(external_id="c1")
    records = [
        {"transcript_id": "t1", "customer_id": "c1", "text": "Great support", "occurred_at": "2025-03-01T10:00:00Z",
         "channel": "chat", "attributes": {"agent": "Max"}},
        {"transcript_id": "t2", "customer_id": "c9", "text": "Hello", "occurred_at": "2025-03-01T10:00:00Z"},
        {"transcript_id": "t3", "customer_id": "c1", "text": "Hello"},
    ]  # fmt: skip
    body = api_client.post("/api/bulk/transcripts/", {"records": records}, format="json").json()
    assert (body["received"], body["inserted"], body["rejected"]) == (3, 1, 2)
    assert sorted((e["index"], e["field"], e["code"]) for e in body["errors"]) == [
        (1, "customer_id", "unknown_customer"),
        (2, "occurred_at", "required"),
    ]
    assert Transcript.objects.get(external_id="t1").attributes == {"agent": "Max"}
    again = api_client.post("/api/bulk/transcripts/", {"records": records[:1]}, format="json").json()
    assert (again["inserted"], again["unchanged"]) == (0, 1)
