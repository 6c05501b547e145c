"""Reads of the campaign lifecycle: the list, one campaign's page data, the audience
estimate the form shows while a marketer picks segments.

The sending, experiments and content packages are imported inside the functions that need
them, so a page still renders (without progress or comparison) while one of them is away.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from campaigns.models import Campaign, CampaignEvent, Dispatch, Message, Variant
from customers.models import Customer
from segments.models import Segment, SegmentMembership


@dataclass(frozen=True)
class AudienceEstimate:
    """Who the campaign would reach if it went out now.

    ``members``: customers in any audience segment, not in an exclusion segment, in one of
    the tiers (when tiers are given). ``reachable``: those of them with consent and an
    address for the channel. ``recipients``: reachable minus the holdout share.
    """

    members: int
    reachable: int
    recipients: int


def _in_segments(segment_ids: Sequence[int]) -> Exists:
    return Exists(
        SegmentMembership.objects.filter(customer=OuterRef("pk"), segment_id__in=segment_ids, left_at__isnull=True)
    )


def audience_customers(
    *,
    audience_segment_ids: Sequence[int],
    exclusion_segment_ids: Sequence[int] = (),
    tiers: Sequence[str] = (),
) -> QuerySet[Customer]:
    """Current members of any audience segment, minus any exclusion segment, in the tiers."""
    customers = Customer.objects.filter(_in_segments(list(audience_segment_ids)))
    if exclusion_segment_ids:
        customers = customers.exclude(_in_segments(list(exclusion_segment_ids)))
    if tiers:
        customers = customers.filter(member_tier__in=list(tiers))
    return customers


def channel_reachable_q(channel: str) -> Q:
    """Customers the sender would not skip for consent or address on ``channel`` (the
    sending package's rule: email needs email consent and an email, SMS SMS consent and a
    phone, a webhook marketing consent on some channel)."""
    from campaigns.sending.policy import address_column, opt_in_q

    return opt_in_q(channel) & ~Q(**{address_column(channel): ""})


def audience_estimate(
    *,
    channel: str,
    audience_segment_ids: Sequence[int],
    exclusion_segment_ids: Sequence[int] = (),
    tiers: Sequence[str] = (),
    holdout_percent: float = 0,
) -> AudienceEstimate:
    """One query: members and the reachable part of them (see AudienceEstimate)."""
    if not audience_segment_ids:
        return AudienceEstimate(members=0, reachable=0, recipients=0)
    counts = audience_customers(
        audience_segment_ids=audience_segment_ids, exclusion_segment_ids=exclusion_segment_ids, tiers=tiers
    ).aggregate(members=Count("pk"), reachable=Count("pk", filter=channel_reachable_q(channel)))
    reachable = counts["reachable"]
    holdout = min(max(holdout_percent or 0, 0), 100)
    return AudienceEstimate(
        members=counts["members"], reachable=reachable, recipients=round(reachable * (100 - holdout) / 100)
    )


def campaign_audience_estimate(*, campaign: Campaign) -> AudienceEstimate:
    return audience_estimate(
        channel=campaign.channel,
        audience_segment_ids=[s.pk for s in campaign.audience_segments.all()],
        exclusion_segment_ids=[s.pk for s in campaign.exclusion_segments.all()],
        tiers=campaign.tiers or (),
        holdout_percent=campaign.holdout_percent,
    )


def campaign_list(*, status: str | None = None, search: str = "") -> QuerySet[Campaign]:
    """Campaigns newest first, each with ``audience_size`` (sum of its audience segments'
    sizes: an upper bound, cheap enough for a list) and ``sent_count`` (messages sent, from the
    dispatches' counters)."""
    sizes = (
        Campaign.audience_segments.through.objects.filter(campaign_id=OuterRef("pk"))
        .order_by()
        .values("campaign_id")
        .annotate(total=Sum("segment__size"))
        .values("total")
    )
    # The dispatches' counters, not a count of message rows: a list page must not scan the
    # messages of every large send.
    sent = (
        Dispatch.objects.filter(campaign_id=OuterRef("pk"))
        .order_by()
        .values("campaign_id")
        .annotate(n=Sum("sent"))
        .values("n")
    )
    campaigns = Campaign.objects.annotate(
        audience_size=Coalesce(Subquery(sizes, output_field=IntegerField()), 0),
        sent_count=Coalesce(Subquery(sent, output_field=IntegerField()), 0),
    )
    if status:
        campaigns = campaigns.filter(status=status)
    if search:
        campaigns = campaigns.filter(name__icontains=search)
    return campaigns.order_by("-created_at", "-id")


def campaign_get(*, campaign_id: int) -> Campaign:
    """One campaign with what its pages and API show (raises Campaign.DoesNotExist)."""
    return (
        Campaign.objects.select_related("coupon_pool", "trigger_segment", "created_by")
        .prefetch_related("audience_segments", "exclusion_segments", "variants")
        .get(pk=campaign_id)
    )


def campaign_variants(*, campaign_id: int) -> QuerySet[Variant]:
    return Variant.objects.filter(campaign_id=campaign_id).order_by("key")


def campaign_events(*, campaign_id: int, limit: int | None = None) -> list[CampaignEvent]:
    """The audit trail, newest first."""
    events = CampaignEvent.objects.filter(campaign_id=campaign_id).select_related("actor").order_by("-at", "-id")
    return list(events[:limit] if limit else events)


def campaign_latest_dispatch(*, campaign_id: int) -> Dispatch | None:
    return Dispatch.objects.filter(campaign_id=campaign_id).order_by("-occurrence", "-id").first()


@dataclass(frozen=True)
class Progress:
    """The latest dispatch's progress in the shape the page and the API show (the sending
    package's DispatchProgress, flattened, plus the dispatch id)."""

    dispatch_id: int
    dispatch_status: str
    total: int
    queued: int
    waiting: int
    sending: int
    sent: int
    failed: int
    skipped: int
    skipped_by_reason: dict[str, int] = field(default_factory=dict)
    percent: float = 0.0
    done: bool = False


def _progress_from_rows(dispatch: Dispatch) -> dict[str, Any]:
    """Counts straight from the message rows (used when the sending package has no
    ``dispatch_progress`` yet)."""
    counts = dict(
        Message.objects.filter(dispatch_id=dispatch.pk)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    reasons = dict(
        Message.objects.filter(dispatch_id=dispatch.pk, status=Message.Status.SKIPPED)
        .order_by()
        .values_list("skip_reason")
        .annotate(n=Count("pk"))
        .values_list("skip_reason", "n")
    )
    total = sum(counts.values())
    finished = counts.get("sent", 0) + counts.get("failed", 0) + counts.get("skipped", 0)
    return {
        "total": total,
        "queued": counts.get("queued", 0),
        "waiting": counts.get("waiting", 0),
        "sending": counts.get("sending", 0),
        "sent": counts.get("sent", 0),
        "failed": counts.get("failed", 0),
        "skipped": counts.get("skipped", 0),
        "skipped_by_reason": reasons,
        "percent": round(100 * finished / total, 1) if total else 0.0,
        "done": dispatch.status in (Dispatch.Status.DONE, Dispatch.Status.CANCELLED),
    }


def dispatch_progress_read(*, dispatch: Dispatch) -> Progress:
    try:
        from campaigns.sending.selectors import dispatch_progress
    except ImportError:
        values = _progress_from_rows(dispatch)
    else:
        progress = dispatch_progress(dispatch_id=dispatch.pk)
        values = {
            name: getattr(progress, name)
            for name in (
                "total",
                "queued",
                "waiting",
                "sending",
                "sent",
                "failed",
                "skipped",
                "skipped_by_reason",
                "percent",
                "done",
            )
        }
    values["skipped_by_reason"] = dict(values.get("skipped_by_reason") or {})
    values["percent"] = float(values["percent"])
    return Progress(dispatch_id=dispatch.pk, dispatch_status=dispatch.status, **values)


def campaign_progress(*, campaign_id: int) -> Progress | None:
    """Progress of the latest dispatch (None before the first one)."""
    dispatch = campaign_latest_dispatch(campaign_id=campaign_id)
    return dispatch_progress_read(dispatch=dispatch) if dispatch else None


def campaign_comparison(*, campaign_id: int) -> Any | None:
    """The variant comparison (experiments package), or None while it is not available."""
    try:
        from campaigns.experiments.selectors import variant_comparison
    except ImportError:
        return None
    return variant_comparison(campaign_id=campaign_id)


def skip_reason_labels(reasons: dict[str, int]) -> list[tuple[str, str, int]]:
    """(code, label, count) for the skipped counts, largest first."""
    labels = dict(Message.SkipReason.choices)
    return sorted(
        ((code, str(labels.get(code, code or "—")), count) for code, count in reasons.items() if count),
        key=lambda row: -row[2],
    )


def segment_choices() -> list[Segment]:
    """Segments a campaign may target, by name."""
    return list(Segment.objects.order_by("name").only("pk", "name", "size", "kind"))


def tier_choices() -> list[str]:
    """Names of the member tiers (empty while the tiers package is away)."""
    try:
        from campaigns.tiers.selectors import tier_names
    except ImportError:
        return []
    return list(tier_names())


def coupon_pool_choices() -> Iterable:
    from campaigns.models import CouponPool

    return CouponPool.objects.order_by("name").only("pk", "name")


def customer_find(query: str) -> Customer | None:
    """A customer by their id (the shop's) or email."""
    query = query.strip()
    if not query:
        return None
    return Customer.objects.filter(Q(external_id=query) | Q(email__iexact=query)).order_by("pk").first()


def variant_preview(*, variant: Variant, customer: Customer) -> dict[str, Any]:
    """Subject, text and HTML of the variant rendered for the customer, or why not."""
    from campaigns.content.rendering import preview_render

    rendered = preview_render(variant=variant, customer_id=customer.pk)
    return {
        "subject": rendered.subject,
        "text": rendered.text,
        "html": rendered.html,
        "to": rendered.to,
        "payload": rendered.payload,
        "errors": list(rendered.errors),
    }
