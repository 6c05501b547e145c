"""Celery tasks of campaigns.coupons: thin callers of its services."""

from celery import shared_task

from campaigns.coupons.services import coupon_codes_job_run, redemptions_record


@shared_task(name="campaigns.redemptions_record")
def redemptions_record_task(order_ids: list[int] | None = None, since_order_id: int | None = None) -> dict:
    """Record the redemptions of orders carrying coupon codes (queued when orders are
    imported). Safe to run twice: orders with a redemption are skipped."""
    return redemptions_record(order_ids=order_ids, since_order_id=since_order_id).as_dict()


@shared_task(name="campaigns.coupon_codes_generate")
def coupon_codes_generate_task(job_id: str) -> int:
    """Run a code generation job (safe to run twice: it tops the pool up to the job's target)."""
    return coupon_codes_job_run(job_id=job_id)
