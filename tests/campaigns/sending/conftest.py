"""A campaign ready to send: customers with and without consent in a static segment."""

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from campaigns.models import Campaign, SendingPolicy, Variant
from segments.models import Segment, SegmentMembership
from tests.factories import CustomerFactory


@pytest.fixture(autouse=True)
def outbox(settings, tmp_path) -> Path:
    """Campaign email goes to the local file sink in a fresh folder; no quiet hours or
    frequency cap unless a test sets them."""
    settings.PRECIS_CAMPAIGN_EMAIL_BACKEND = "campaigns.channels.sinks.MessageFileEmailBackend"
    settings.PRECIS_OUTBOX_DIR = str(tmp_path / "outbox")
    SendingPolicy.objects.update_or_create(pk=1, defaults={"quiet_hours_enabled": False, "frequency_cap_messages": 0})
    return tmp_path / "outbox"


def outbox_files(outbox: Path) -> list[Path]:
    return sorted(outbox.glob("*.eml")) if outbox.exists() else []


def segment_of(customers, name: str = "audience") -> Segment:
    segment = Segment.objects.create(name=name, kind=Segment.Kind.STATIC)
    SegmentMembership.objects.bulk_create(
        SegmentMembership(segment=segment, customer=customer, entered_at=timezone.now() - dt.timedelta(days=1))
        for customer in customers
    )
    return segment


def campaign_for(segment: Segment, *, variants=("A",), **fields) -> Campaign:
    campaign = Campaign.objects.create(name="Spring sale", **fields)
    campaign.audience_segments.add(segment)
    for key in variants:
        Variant.objects.create(
            campaign=campaign,
            key=key,
            subject=f"Hello {{{{ customer.first_name }}}} ({key})",
            body_text=f"Variant {key} for {{{{ customer.name }}}}: https://shop.example.com/sale",
            body_html=f"<p>Variant {key} for {{{{ customer.name }}}}</p>",
        )
    return campaign


@pytest.fixture
def audience(db):
    consenting = CustomerFactory.create_batch(40, email_opt_in=True)
    refusing = CustomerFactory.create_batch(5, email_opt_in=False)
    no_email = CustomerFactory.create_batch(3, email_opt_in=True, email="")
    return {"consenting": consenting, "refusing": refusing, "no_email": no_email,
            "segment": segment_of(consenting + refusing + no_email)}  # fmt: skip
