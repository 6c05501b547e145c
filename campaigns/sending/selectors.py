"""Reads about sends, for the campaign page, its progress bar and the API."""

from dataclasses import asdict, dataclass, field

from django.db.models import Count

from campaigns.models import Dispatch, Message


@dataclass(frozen=True)
class DispatchProgress:
    dispatch_id: int
    status: str
    total: int
    queued: int
    waiting: int
    sending: int
    sent: int
    failed: int
    skipped: int
    skipped_by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def to_send(self) -> int:
        """Messages that will go out or have gone out (not skipped)."""
        return self.total - self.skipped

    @property
    def percent(self) -> int:
        if self.to_send <= 0:
            return 100 if self.done else 0
        return min(100, int(100 * (self.sent + self.failed) / self.to_send))

    @property
    def done(self) -> bool:
        return self.status in (Dispatch.Status.DONE, Dispatch.Status.CANCELLED)

    def as_dict(self) -> dict:
        return asdict(self) | {"percent": self.percent, "done": self.done, "to_send": self.to_send}


def dispatch_progress(*, dispatch_id: int) -> DispatchProgress:
    dispatch = Dispatch.objects.get(pk=dispatch_id)
    rows = (
        Message.objects.filter(dispatch_id=dispatch_id)
        .values("status", "skip_reason")
        .annotate(n=Count("pk"))
        .values_list("status", "skip_reason", "n")
    )
    by_status: dict[str, int] = {}
    reasons: dict[str, int] = {}
    for status, reason, count in rows:
        by_status[status] = by_status.get(status, 0) + count
        if status == Message.Status.SKIPPED:
            reasons[reason] = reasons.get(reason, 0) + count
    return DispatchProgress(
        dispatch_id=dispatch_id,
        status=dispatch.status,
        total=sum(by_status.values()),
        queued=by_status.get(Message.Status.QUEUED, 0),
        waiting=by_status.get(Message.Status.WAITING, 0),
        sending=by_status.get(Message.Status.SENDING, 0),
        sent=by_status.get(Message.Status.SENT, 0),
        failed=by_status.get(Message.Status.FAILED, 0),
        skipped=by_status.get(Message.Status.SKIPPED, 0),
        skipped_by_reason=reasons,
    )


def campaign_latest_dispatch(*, campaign_id: int) -> Dispatch | None:
    return Dispatch.objects.filter(campaign_id=campaign_id).order_by("-occurrence").first()
