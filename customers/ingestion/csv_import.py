"""Streaming CSV import: any file size, in chunks of PRECIS_IMPORT_CHUNK_ROWS rows.

Each chunk is validated, then written in its own transaction, so a crash leaves whole
chunks only; re-running the file is idempotent (upserts on external ids). On PostgreSQL the
chunks are written by PRECIS_IMPORT_WRITERS threads with their own connections while this
thread reads and validates the next chunk, so pandas and the database work at once. Errors go to the
report CSV as they are found, so memory does not grow with a bad 1M-row file.
Encoding: UTF-8 (with or without BOM); failing that GB18030 (which covers GBK/GB2312, the
usual export of Chinese spreadsheet software) and the summary says so; else an error.
"""

import codecs
import csv
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from customers.ingestion.errors import IngestionError, RowError
from customers.ingestion.formats import FORMATS, Format
from customers.ingestion.online_retail import (
    retail_header,
    retail_missing_columns,
    retail_transform,
)
from customers.ingestion.upsert import WriteResult, frame_upsert
from customers.ingestion.validation import ROW, Validated, frame_validate, missing_columns

ONLINE_RETAIL = "online_retail"
SAMPLE_ERRORS = 100
REPORT_HEADER = ["row", "id", "column", "value", "code", "reason"]
BLOCK = 1 << 20
Progress = Callable[[int, int], None]


@dataclass
class KindCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def add(self, *, inserted: int = 0, updated: int = 0, unchanged: int = 0, rejected: int = 0) -> None:
        self.inserted += inserted
        self.updated += updated
        self.unchanged += unchanged
        self.rejected += rejected


# Summary labels, translated when shown (jobs/templatetags/job_labels.py).
SUMMARY_LABELS = (
    gettext_noop("rows"),
    gettext_noop("encoding"),
    gettext_noop("rejected rows"),
    gettext_noop("errors"),
    gettext_noop("inserted"),
    gettext_noop("updated"),
    gettext_noop("unchanged"),
    gettext_noop("customers"),
    gettext_noop("products"),
    gettext_noop("orders"),
    gettext_noop("order_lines"),
    gettext_noop("events"),
    gettext_noop("reviews"),
    gettext_noop("transcripts"),
    gettext_noop("rows without customer id"),
    gettext_noop("cancellation rows"),
)


@dataclass
class ImportResult:
    """What an import did; ``errors`` holds the first SAMPLE_ERRORS, the report all."""

    kind: str
    file_format: str
    encoding: str = ""
    rows: int = 0
    rejected_rows: int = 0
    error_count: int = 0
    counts: dict[str, KindCounts] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    notes: dict[str, int] = field(default_factory=dict)
    report_path: str = ""
    failed: bool = False

    def summary(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rows": self.rows,
            "encoding": self.encoding,
            "rejected rows": self.rejected_rows,
            "errors": self.error_count,
        }
        for kind, counts in self.counts.items():
            data[f"{kind} inserted"] = counts.inserted
            data[f"{kind} updated"] = counts.updated
            data[f"{kind} unchanged"] = counts.unchanged
        data.update(self.notes)
        return data


class _Report:
    """Appends error rows to the report CSV and keeps a sample for the UI / API."""

    def __init__(self, path: Path, result: ImportResult) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.result = result
        self.handle = path.open("w", newline="", encoding="utf-8-sig")
        self.writer = csv.writer(self.handle)
        self.writer.writerow(REPORT_HEADER)

    def add(self, errors: list[RowError]) -> None:
        self.writer.writerows([e.row, e.record_id, e.field, e.value, str(e.code), e.message] for e in errors)
        self.result.error_count += len(errors)
        room = SAMPLE_ERRORS - len(self.result.errors)
        if room > 0:
            self.result.errors.extend(errors[:room])

    def close(self) -> None:
        self.handle.close()


def file_encoding(path: Path) -> tuple[str | None, int, RowError | None]:
    """(pandas encoding name, number of lines, error). Reads the file once in blocks."""
    with path.open("rb") as handle:
        head = handle.read(3)
    candidates = ["utf-8-sig"] if head == codecs.BOM_UTF8 else ["utf-8", "gb18030"]
    first_failure: RowError | None = None
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)()
        lines = 0
        try:
            with path.open("rb") as handle:
                while block := handle.read(BLOCK):
                    try:
                        decoder.decode(block)
                    except UnicodeDecodeError as error:
                        line = lines + block[: error.start].count(b"\n") + 1
                        raise _BadByte(line, block[error.start : error.start + 4]) from error
                    lines += block.count(b"\n")
                decoder.decode(b"", final=True)
        except _BadByte as bad:
            first_failure = first_failure or RowError(
                bad.line, "", "", IngestionError.ENCODING, repr(bad.data), f"line {bad.line}"
            )
            continue
        except UnicodeDecodeError:
            continue
        return encoding, lines, None
    return None, 0, first_failure


class _BadByte(Exception):
    def __init__(self, line: int, data: bytes) -> None:
        super().__init__(line)
        self.line, self.data = line, data


def csv_import(
    *,
    kind: str,
    path: Path | str,
    report_path: Path | str,
    file_format: str = "precis",
    chunk_rows: int | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import one CSV file of ``kind`` (or the Online Retail II layout when ``file_format``
    is "online_retail") and write every rejected value to ``report_path``."""
    path, report_path = Path(path), Path(report_path)
    retail = file_format == ONLINE_RETAIL
    result = ImportResult(kind=ONLINE_RETAIL if retail else kind, file_format=file_format, report_path=str(report_path))
    report = _Report(report_path, result)
    try:
        _run(
            result,
            report,
            kind=kind,
            path=path,
            retail=retail,
            chunk_rows=chunk_rows or settings.PRECIS_IMPORT_CHUNK_ROWS,
            progress=progress,
        )
    finally:
        report.close()
    return result


def _file_error(result: ImportResult, report: _Report, error: RowError) -> None:
    result.failed = True
    report.add([error])


def _run(
    result: ImportResult,
    report: _Report,
    *,
    kind: str,
    path: Path,
    retail: bool,
    chunk_rows: int,
    progress: Progress | None,
) -> None:
    if not path.exists() or path.stat().st_size == 0:
        return _file_error(result, report, RowError(1, "", "", IngestionError.EMPTY_FILE))
    encoding, lines, failure = file_encoding(path)
    if encoding is None:
        return _file_error(result, report, failure or RowError(1, "", "", IngestionError.ENCODING))
    result.encoding = "utf-8" if encoding == "utf-8-sig" else encoding
    reader_options = {"encoding": encoding, "dtype": str, "keep_default_na": False}
    header = list(pd.read_csv(path, nrows=0, **reader_options).columns)
    if retail:
        names = retail_header(header)
        missing = retail_missing_columns(list(names.values()))
    else:
        names = {column: column.strip().lower() for column in header}
        missing = missing_columns(FORMATS[kind], names.values())
    if missing:
        for column in missing:
            report.add([RowError(1, "", column, IngestionError.MISSING_COLUMN, "")])
        result.failed = True
        return None
    total = max(lines - 1, 0)
    seen: dict[str, set[str]] = {}
    next_row = 2
    carry = None
    now = timezone.now()
    written = _ChunkWriters(_writer_count(retail), _chunk_recorder(result, report, kind, total, progress))
    parser_error: RowError | None = None
    failed = True
    try:
        reader = pd.read_csv(path, chunksize=chunk_rows, **reader_options)
        for chunk in reader:
            chunk = chunk.rename(columns=names)
            chunk[ROW] = range(next_row, next_row + len(chunk))
            next_row += len(chunk)
            result.rows += len(chunk)
            if retail:
                chunk, carry = _retail_hold_back(pd.concat([carry, chunk]) if carry is not None else chunk)
                _retail_chunk(result, report, chunk, seen, now)
                if progress:
                    progress(result.rows, max(total, result.rows))
            else:
                fmt = FORMATS[kind]
                written.submit(fmt, frame_validate(fmt, chunk, seen=seen.setdefault(kind, set())), now, len(chunk))
        if carry is not None and not carry.empty:
            _retail_chunk(result, report, carry, seen, now)
        failed = False
    except pd.errors.ParserError as error:
        failed = False  # the chunks before the bad line are good: record them
        parser_error = RowError(next_row, "", "", IngestionError.INVALID_RECORD, "", str(error))
    finally:
        written.close(failed=failed)
    if parser_error:
        _file_error(result, report, parser_error)
    if result.rows == 0:
        _file_error(result, report, RowError(2, "", "", IngestionError.EMPTY_FILE))
    return None


def _chunk_write(fmt: Format, validated: Validated, now) -> WriteResult:
    with transaction.atomic():
        return frame_upsert(fmt, validated, now=now)


def _chunk_write_in_thread(fmt: Format, validated: Validated, now) -> WriteResult:
    try:
        return _chunk_write(fmt, validated, now)
    finally:
        connection.close()  # the thread's own connection


def _writer_count(retail: bool) -> int:
    """Threads that write chunks. One where a second connection cannot help or cannot see
    the caller's data: SQLite (one writer at a time), Online Retail files (a chunk's
    orders need the customers of the same chunk) and a caller inside a transaction."""
    if retail or connection.vendor != "postgresql" or connection.in_atomic_block:
        return 1
    return max(settings.PRECIS_IMPORT_WRITERS, 1)


class _ChunkWriters:
    """Writes validated chunks on their own connections while the caller validates the
    next one; finished chunks are recorded in file order. At most ``count`` chunks are in
    flight, so memory stays bounded by the chunk size."""

    def __init__(self, count: int, record: Callable[[Validated, WriteResult, int], None]) -> None:
        self.count = count
        self.record = record
        self.pool = ThreadPoolExecutor(max_workers=count, thread_name_prefix="import-writer") if count > 1 else None
        self.pending: deque[tuple[Validated, int, Future[WriteResult]]] = deque()

    def submit(self, fmt: Format, validated: Validated, now, rows: int) -> None:
        """Write one chunk of ``rows`` file rows (its validation result ``validated``)."""
        if self.pool is None:
            self.record(validated, _chunk_write(fmt, validated, now), rows)
            return
        while len(self.pending) >= self.count:
            self._finish_oldest()
        self.pending.append((validated, rows, self.pool.submit(_chunk_write_in_thread, fmt, validated, now)))

    def _finish_oldest(self) -> None:
        validated, rows, future = self.pending.popleft()
        self.record(validated, future.result(), rows)

    def close(self, *, failed: bool) -> None:
        """Record every chunk still in flight; after a failure only wait for them (each
        commits or rolls back whole), so the caller sees the first error."""
        try:
            while self.pending and not failed:
                self._finish_oldest()
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True)


def _chunk_recorder(
    result: ImportResult, report: _Report, kind: str, total: int, progress: Progress | None
) -> Callable[[Validated, WriteResult, int], None]:
    """Adds a written chunk to the counts and the report, then moves the progress bar."""
    done = 0

    def record(validated: Validated, written: WriteResult, rows: int) -> None:
        nonlocal done
        report.add(sorted(validated.errors + written.errors, key=lambda e: (e.row, e.field)))
        result.rejected_rows += validated.rejected + written.rejected
        result.counts.setdefault(kind, KindCounts()).add(
            inserted=written.inserted,
            updated=written.updated,
            unchanged=written.unchanged,
            rejected=validated.rejected + written.rejected,
        )
        done += rows
        if progress:
            progress(done, max(total, done))

    return record


def _retail_hold_back(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep the last invoice of a chunk for the next one, so that an invoice split by a
    chunk boundary is still aggregated whole (the file lists an invoice's lines together)."""
    invoice = rows["Invoice"].astype(str).str.strip() if "Invoice" in rows.columns else None
    if invoice is None or rows.empty:
        return rows, rows.iloc[0:0]
    last = invoice.iat[-1]
    tail = invoice.eq(last).to_numpy()
    if tail.all():
        return rows.iloc[0:0], rows
    return rows[~tail], rows[tail]


def _retail_chunk(result: ImportResult, report: _Report, chunk: pd.DataFrame, seen: dict[str, set[str]], now) -> None:
    if chunk.empty:
        return
    records = retail_transform(chunk)
    errors = list(records.errors)
    result.rejected_rows += records.rejected_rows
    result.notes["rows without customer id"] = (
        result.notes.get("rows without customer id", 0) + records.without_customer
    )
    result.notes["cancellation rows"] = result.notes.get("cancellation rows", 0) + records.cancellation_rows
    with transaction.atomic():
        for kind in ("customers", "products", "orders", "order_lines"):
            fmt = FORMATS[kind]
            # Customers and products recur across invoices: only orders and lines are unique.
            kind_seen = seen.setdefault(kind, set()) if kind in ("orders", "order_lines") else None
            validated = frame_validate(fmt, records.frames[kind], seen=kind_seen)
            written = frame_upsert(fmt, validated, now=now)
            errors += validated.errors + written.errors
            result.counts.setdefault(kind, KindCounts()).add(
                inserted=written.inserted,
                updated=written.updated,
                unchanged=written.unchanged,
                rejected=validated.rejected + written.rejected,
            )
    report.add(sorted(errors, key=lambda e: (e.row, e.field)))
