"""Reactions of coupons to other apps' signals (connected in CampaignsConfig.ready)."""

import logging

from django.dispatch import receiver

from customers.signals import orders_saved

logger = logging.getLogger(__name__)

TASK_IDS_MAX = 50_000  # ids per task: a larger batch is queued as several tasks


@receiver(orders_saved, dispatch_uid="campaigns.coupons.redemptions_record")
def orders_saved_record_redemptions(sender, *, order_ids: list[int], **kwargs) -> None:
    """Queue the recording of the batch's coupon redemptions.

    The orders are committed already, so a broker that cannot be reached must not fail the
    import: the error is logged, and ``campaigns.redemptions_record`` without arguments
    (all orders carrying a code and no redemption yet) catches up later."""
    from campaigns.coupons.tasks import redemptions_record_task

    ids = sorted(order_ids)
    try:
        for start in range(0, len(ids), TASK_IDS_MAX):
            redemptions_record_task.delay(order_ids=ids[start : start + TASK_IDS_MAX])
    except Exception:
        logger.exception("could not queue campaigns.redemptions_record for %d orders", len(ids))
