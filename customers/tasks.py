"""Celery tasks of customer data: thin callers of customers.services."""

from celery import shared_task

from customers.services import import_job_run


@shared_task(name="customers.csv_import_job")
def csv_import_job(job_id: str) -> None:
    """Run a queued CSV import job (idempotent: see import_job_run)."""
    import_job_run(job_id=job_id)
