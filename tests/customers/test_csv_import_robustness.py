"""A crash in the middle of an import, and a file of a million rows."""

import csv
import threading

import pytest

from customers.ingestion import csv_import as csv_import_module
from customers.ingestion.csv_import import csv_import
from customers.models import Customer

pytestmark = pytest.mark.django_db(transaction=True)


class WorkerKilled(Exception):
    pass


def test_a_crash_mid_chunk_leaves_no_half_written_chunk_and_a_rerun_completes(tmp_path, monkeypatch):
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,email\n" + "".join(f"c{i},c{i}@example.com\n" for i in range(1, 7)))
    real_upsert = csv_import_module.frame_upsert

    def upsert_then_die_in_the_second_chunk(fmt, validated, **kwargs):
        written = real_upsert(fmt, validated, **kwargs)  # the rows of the chunk are written ...
        if "c3" in set(validated.clean["customer_id"]):
            raise WorkerKilled  # ... and the process dies before the chunk commits
        return written

    monkeypatch.setattr(csv_import_module, "frame_upsert", upsert_then_die_in_the_second_chunk)
    with pytest.raises(WorkerKilled):
        csv_import(kind="customers", path=path, report_path=tmp_path / "errors.csv", chunk_rows=2)
    stored = set(Customer.objects.values_list("external_id", flat=True))
    # Nothing of the chunk that died; the one before it is whole; on PostgreSQL a second
    # writer may have committed the chunk after it, whole.
    assert stored in ({"c1", "c2"}, {"c1", "c2", "c5", "c6"})

    monkeypatch.setattr(csv_import_module, "frame_upsert", real_upsert)
    result = csv_import(kind="customers", path=path, report_path=tmp_path / "errors.csv", chunk_rows=2)
    assert result.error_count == 0
    assert result.counts["customers"].inserted == 6 - len(stored)
    assert result.counts["customers"].unchanged == len(stored)
    assert Customer.objects.count() == 6


@pytest.mark.postgres
def test_postgres_writes_chunks_on_parallel_connections_and_reports_in_file_order(tmp_path, monkeypatch):
    real_upsert = csv_import_module.frame_upsert
    writers = set()

    def upsert_recording_the_thread(fmt, validated, **kwargs):
        writers.add(threading.current_thread().name)
        return real_upsert(fmt, validated, **kwargs)

    monkeypatch.setattr(csv_import_module, "frame_upsert", upsert_recording_the_thread)
    path = tmp_path / "customers.csv"
    lines = [f"p{i},p{i}@example.com\n" if i % 7 else f"p{i},not-an-email\n" for i in range(1, 41)]
    path.write_text("customer_id,email\n" + "".join(lines))
    result = csv_import(kind="customers", path=path, report_path=tmp_path / "errors.csv", chunk_rows=4)

    assert writers and all(name.startswith("import-writer") for name in writers)
    assert result.counts["customers"].inserted == 40 - 5
    assert Customer.objects.count() == 35
    with open(tmp_path / "errors.csv", encoding="utf-8-sig") as handle:
        reported = [(int(row["row"]), row["id"], row["code"]) for row in csv.DictReader(handle)]
    assert reported == [(i + 1, f"p{i}", "invalid_email") for i in (7, 14, 21, 28, 35)]


def test_a_million_row_file_keeps_every_good_row_and_reports_every_bad_one(tmp_path):
    rows = 1_000_000
    bad_lines = {100_001, 250_002, 999_999}  # spreadsheet line numbers (header = line 1)
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("customer_id,email,birth_date\n")
        for line in range(2, rows + 2):
            birth = "not-a-date" if line in bad_lines else "1990-05-17"
            handle.write(f"M{line},m{line}@example.com,{birth}\n")
    result = csv_import(kind="customers", path=path, report_path=tmp_path / "errors.csv")
    assert result.rows == rows
    assert Customer.objects.count() == rows - len(bad_lines)
    assert not Customer.objects.filter(external_id__in=[f"M{line}" for line in bad_lines]).exists()
    with open(tmp_path / "errors.csv", encoding="utf-8-sig") as handle:
        reported = [(int(row["row"]), row["column"], row["code"]) for row in csv.DictReader(handle)]
    assert reported == [(line, "birth_date", "invalid_date") for line in sorted(bad_lines)]
