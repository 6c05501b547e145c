"""Writes to customer data: bulk ingestion from the API and CSV imports run as jobs."""

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.ingestion.csv_import import ONLINE_RETAIL, ImportResult, csv_import
from customers.ingestion.errors import IngestionError, RowError
from customers.ingestion.formats import FORMATS, ORDER_LINES
from customers.ingestion.upsert import frame_upsert
from customers.ingestion.validation import ROW, frame_validate
from customers.models import Customer
from jobs.models import Job
from jobs.services import job_create, job_fail, job_progress, job_start, job_succeed

IMPORT_JOB_KIND = "customers.import"


class TooManyRecords(ValueError):
    pass


@dataclass
class IngestSummary:
    """The answer of one bulk request (see docs/ingestion.md)."""

    received: int
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    lines: dict[str, int] | None = None

    def as_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "received": self.received,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "errors": [error.as_api() for error in self.errors],
        }
        if self.lines is not None:
            data["lines"] = self.lines
        return data


def records_ingest(*, kind: str, records: list[Any]) -> IngestSummary:
    """Validate and upsert up to PRECIS_BULK_MAX_RECORDS records of one kind in one
    transaction. Bad records are reported by index and skipped; good ones are written.
    Orders may carry their ``lines`` ([{sku, quantity, unit_price}]), written after them."""
    fmt = FORMATS[kind]
    if len(records) > settings.PRECIS_BULK_MAX_RECORDS:
        raise TooManyRecords(
            _("At most %(limit)d records per request; got %(count)d.")
            % {"limit": settings.PRECIS_BULK_MAX_RECORDS, "count": len(records)}
        )
    summary = IngestSummary(received=len(records))
    objects = [index for index, record in enumerate(records) if isinstance(record, dict)]
    bad_shape = [
        RowError(index, "", "", IngestionError.INVALID_RECORD)
        for index, record in enumerate(records)
        if not isinstance(record, dict)
    ]
    wanted = [records[index] for index in objects]
    nested = kind == "orders" and any("lines" in record for record in wanted)
    frame = pd.DataFrame.from_records(
        [{k: v for k, v in record.items() if k != "lines"} for record in wanted] if nested else wanted
    )
    frame[ROW] = objects
    validated = frame_validate(fmt, frame)
    now = timezone.now()
    with transaction.atomic():
        written = frame_upsert(fmt, validated, now=now)
        errors = bad_shape + validated.errors + written.errors
        if nested:
            accepted = set(validated.clean[ROW].tolist()) - {error.row for error in written.errors}
            summary.lines, line_errors = _order_lines_ingest(records, accepted, now)
            errors += line_errors
    summary.inserted, summary.updated, summary.unchanged = (
        written.inserted,
        written.updated,
        written.unchanged,
    )
    summary.rejected = len(bad_shape) + validated.rejected + written.rejected
    summary.errors = sorted(errors, key=lambda error: (error.row, error.field))
    return summary


def _order_lines_ingest(records: list[Any], accepted: set[int], now) -> tuple[dict[str, int], list[RowError]]:
    """Lines nested in accepted orders; an error names the order's index and ``lines.<field>``."""
    lines = [
        {**line, "order_id": records[index].get("order_id"), ROW: index}
        for index in sorted(accepted)
        for line in (records[index].get("lines") or [])
        if isinstance(line, dict)
    ]
    if not lines:
        return {"inserted": 0, "updated": 0, "unchanged": 0, "rejected": 0}, []
    validated = frame_validate(ORDER_LINES, pd.DataFrame.from_records(lines))
    written = frame_upsert(ORDER_LINES, validated, now=now)
    errors = [
        RowError(error.row, error.record_id, f"lines.{error.field}", error.code, error.value, error.detail)
        for error in validated.errors + written.errors
    ]
    return (
        {
            "inserted": written.inserted,
            "updated": written.updated,
            "unchanged": written.unchanged,
            "rejected": validated.rejected + written.rejected,
        },
        errors,
    )


def import_dir(job_id: Any) -> Path:
    return Path(settings.MEDIA_ROOT) / "imports" / str(job_id)


def csv_import_run(
    *, kind: str, path: Path | str, report_path: Path | str, file_format: str = "precis", progress=None
) -> ImportResult:
    """Import one file (command line or job); see customers/ingestion/csv_import.py."""
    return csv_import(kind=kind, path=path, report_path=report_path, file_format=file_format, progress=progress)


def import_job_start(*, kind: str, upload: UploadedFile, user=None) -> Job:
    """Store the upload under MEDIA_ROOT, create the job and queue the import task once the
    job row is committed. ``kind`` is a Precis kind or "online_retail"."""
    file_format = ONLINE_RETAIL if kind == ONLINE_RETAIL else "precis"
    data_kind = "orders" if kind == ONLINE_RETAIL else kind
    job = job_create(
        kind=IMPORT_JOB_KIND,
        title=_("Import %(kind)s: %(name)s") % {"kind": kind, "name": upload.name},
        params={"kind": data_kind, "format": file_format, "file_name": upload.name},
        user=user,
    )
    folder = import_dir(job.pk)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "upload.csv"
    with path.open("wb") as handle:
        for piece in upload.chunks():
            handle.write(piece)
    Job.objects.filter(pk=job.pk).update(params={**job.params, "path": str(path)})
    from customers.tasks import csv_import_job

    transaction.on_commit(lambda: csv_import_job.delay(str(job.pk)))
    return job


def import_job_run(*, job_id: Any) -> None:
    """Run the import of a job. Safe to run twice (a redelivered task): a finished job is
    left alone, and re-importing the same file is idempotent."""
    job = Job.objects.get(pk=job_id)
    if job.is_finished:
        return
    params = job.params
    job_start(job_id=job_id)
    report_path = import_dir(job_id) / "errors.csv"

    def progress(done: int, total: int) -> None:
        job_progress(job_id=job_id, done=done, total=total)

    try:
        result = csv_import_run(
            kind=params["kind"],
            path=params["path"],
            report_path=report_path,
            file_format=params.get("format", "precis"),
            progress=progress,
        )
    except Exception as error:  # the job must not stay "running" forever
        job_fail(job_id=job_id, message=str(error))
        raise
    payload = {
        "summary": result.summary(),
        "errors": [error.as_dict() for error in result.errors[:20]],
        "error_count": result.error_count,
    }
    if result.error_count:
        payload["report_url"] = reverse("customers:import-errors", args=[job_id])
    if result.failed:
        first = result.errors[0].message if result.errors else ""
        job_fail(job_id=job_id, message=first, result=payload)
    else:
        job_succeed(
            job_id=job_id,
            result=payload,
            message=_("%(rows)d rows read, %(errors)d errors.") % {"rows": result.rows, "errors": result.error_count},
        )


def import_report_path(*, job_id: Any) -> Path:
    return import_dir(job_id) / "errors.csv"


CONSENT_FIELDS = {"email": ("email_opt_in", "email_opt_in_at"), "sms": ("sms_opt_in", "sms_opt_in_at")}


def customer_consent_withdraw(*, customer_id: int, channel: str, at: dt.datetime | None = None) -> bool:
    """Turn the customer's consent for ``channel`` ("email" or "sms") off: an unsubscribe
    link, a hard bounce or a spam complaint. Idempotent: True only when consent was on,
    and only then does the consent timestamp move."""
    opt_in, opt_in_at = CONSENT_FIELDS[channel]
    now = at or timezone.now()
    changed = Customer.objects.filter(pk=customer_id, **{opt_in: True}).update(
        **{opt_in: False, opt_in_at: now, "updated_at": now}
    )
    return bool(changed)
