"""Reads of coupons: pools with their counts, latest redemptions, the codes for export."""

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from campaigns.models import Coupon, CouponPool, Message, Redemption

EXPORT_CHUNK = 10_000


@dataclass(frozen=True)
class PoolCounts:
    codes: int
    assigned: int
    free: int
    redeemed: int
    refused: int


def coupon_pool_list() -> QuerySet[CouponPool]:
    """Pools, newest first, each with ``code_count`` and ``redeemed_count``."""
    codes = Coupon.objects.filter(pool=OuterRef("pk")).order_by().values("pool").annotate(n=Count("pk")).values("n")
    redeemed = (
        Redemption.objects.filter(coupon__pool=OuterRef("pk"), status=Redemption.Status.ACCEPTED)
        .order_by()
        .values("coupon__pool")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return CouponPool.objects.annotate(
        code_count=Coalesce(Subquery(codes), 0), redeemed_count=Coalesce(Subquery(redeemed), 0)
    ).order_by("-created_at", "-id")


def coupon_pool_counts(*, pool_id: int) -> PoolCounts:
    """How many codes the pool has, how many went to recipients, and its redemptions."""
    codes = Coupon.objects.filter(pool_id=pool_id).aggregate(
        codes=Count("pk"), assigned=Count("pk", filter=Q(assigned_at__isnull=False))
    )
    redemptions = Redemption.objects.filter(coupon__pool_id=pool_id).aggregate(
        redeemed=Count("pk", filter=Q(status=Redemption.Status.ACCEPTED)),
        refused=Count("pk", filter=Q(status=Redemption.Status.REFUSED)),
    )
    pool = CouponPool.objects.only("kind", "shared_code").get(pk=pool_id)
    if pool.kind == CouponPool.Kind.SHARED:  # the one code is given in the messages themselves
        assigned, free = (
            Message.objects.filter(campaign__coupon_pool_id=pool_id, coupon_code=pool.shared_code).count(),
            0,
        )
    else:
        assigned, free = codes["assigned"], codes["codes"] - codes["assigned"]
    return PoolCounts(
        codes=codes["codes"],
        assigned=assigned,
        free=free,
        redeemed=redemptions["redeemed"],
        refused=redemptions["refused"],
    )


def coupon_pool_redemptions(*, pool_id: int, limit: int = 50) -> QuerySet[Redemption]:
    """The pool's latest redemptions, accepted and refused, newest first."""
    return (
        Redemption.objects.filter(coupon__pool_id=pool_id)
        .select_related("coupon", "order", "customer")
        .order_by("-redeemed_at", "-id")[:limit]
    )


CODES_EXPORT_HEADER = ["code", "customer_id", "assigned_at", "redeemed"]


def coupon_codes_export_rows(*, pool_id: int) -> Iterator[list[str]]:
    """Every code of the pool with the customer it went to (external id) and whether it was
    redeemed, in id order, read in chunks (for a streamed CSV)."""
    accepted = Redemption.objects.filter(coupon=OuterRef("pk"), status=Redemption.Status.ACCEPTED)
    last_id = 0
    while True:
        chunk = list(
            Coupon.objects.filter(pool_id=pool_id, pk__gt=last_id)
            .order_by("pk")
            .annotate(redeemed=Exists(accepted))
            .values_list("pk", "code", "customer__external_id", "assigned_at", "redeemed")[:EXPORT_CHUNK]
        )
        if not chunk:
            return
        for _pk, code, customer, assigned_at, redeemed in chunk:
            yield [code, customer or "", assigned_at.isoformat() if assigned_at else "", "yes" if redeemed else "no"]
        last_id = chunk[-1][0]
