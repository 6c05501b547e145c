"""Campaign sending: a 100,000-recipient email campaign on PostgreSQL + Redis with two
Celery workers, to the local file sink, from launch to the last message recorded — next
to the sink alone writing the same number of messages, pre-built with plain string
formatting, from two processes (the same parallelism). Target: within 2× of the sink.

Run: .venv/bin/python bench/run.py --reuse --suite campaigns
"""

import email.parser
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

from bench.harness import Measurement, suite_run

ROOT = Path(__file__).resolve().parent.parent
RECIPIENTS = 100_000
WORKERS = 2
BROKER = os.environ.get("PRECIS_BENCH_BROKER", "redis://127.0.0.1:6379/12")
TARGET = "100,000-recipient send within 2× of the backend alone"
SUBJECT = "Hello {{ customer.first_name }}, 20 % off this week"
TEXT = (
    "Dear {{ customer.name }},\n\nOur spring sale starts today: https://shop.example.com/sale\n"
    "{% if coupon %}Your code: {{ coupon.code }}{% endif %}\n"
)
HTML = (
    "<p>Dear {{ customer.name }},</p><p>Our <a href='https://shop.example.com/sale'>spring sale</a> starts today.</p>"
)


def _audience():
    """A static segment of the first 100,000 customers who can receive email."""
    from django.db import connection

    from segments.models import Segment

    segment = Segment.objects.create(name="bench: send audience", kind=Segment.Kind.STATIC)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO segments_segmentmembership (segment_id, customer_id, entered_at) "
            "SELECT %s, id, now() FROM customers_customer WHERE email_opt_in AND email <> '' ORDER BY id LIMIT %s",
            [segment.pk, RECIPIENTS],
        )
        cursor.execute("SELECT email FROM customers_customer WHERE email_opt_in AND email <> '' ORDER BY id LIMIT %s",
                       [RECIPIENTS])  # fmt: skip
        emails = [row[0] for row in cursor.fetchall()]
    return segment, emails


def _campaign(segment):
    from campaigns.models import Campaign, Variant

    campaign = Campaign.objects.create(name="bench: 100k send")
    campaign.audience_segments.add(segment)
    Variant.objects.create(campaign=campaign, key="A", subject=SUBJECT, body_text=TEXT, body_html=HTML)
    return campaign


class Workers:
    def __init__(self, outbox: Path, logs: Path) -> None:
        from django.db import connection

        db = connection.settings_dict
        self.queue = f"bench-send-{uuid.uuid4().hex[:8]}"
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_BROKER_URL": BROKER,
            "PRECIS_CELERY_QUEUE": self.queue,
            "PRECIS_OUTBOX_DIR": str(outbox),
            "PRECIS_CAMPAIGN_EMAIL_BACKEND": "campaigns.channels.sinks.MessageFileEmailBackend",
            "PRECIS_LOG_LEVEL": "WARNING",
        }
        self.logs = logs
        self.processes = []

    def __enter__(self):
        for number in range(WORKERS):
            log = open(self.logs / f"worker-{number}.log", "w")  # noqa: SIM115
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", self.queue, "--concurrency", "1",
                 "-l", "warning", "-n", f"bench{number}@%h"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            ))  # fmt: skip
        time.sleep(8)  # both workers connected before the clock starts
        return self

    def __exit__(self, *exc) -> None:
        for process in self.processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            process.wait(timeout=60)


def _product_send(campaign, outbox: Path, logs: Path) -> float:
    from celery import current_app

    from campaigns.audit import campaign_transition
    from campaigns.models import Campaign, Dispatch, SendingPolicy
    from campaigns.sending.dispatch import campaign_go

    SendingPolicy.objects.update_or_create(pk=1, defaults={"quiet_hours_enabled": False, "frequency_cap_messages": 0})
    with Workers(outbox, logs) as workers:
        current_app.conf.broker_url = BROKER
        current_app.conf.task_default_queue = workers.queue
        started = time.perf_counter()
        campaign_transition(campaign_id=campaign.pk, to_status=Campaign.Status.SENDING, action="launched")
        campaign_go(campaign_id=campaign.pk)
        while Dispatch.objects.filter(campaign=campaign).exclude(status=Dispatch.Status.DONE).exists() or not (
            Dispatch.objects.filter(campaign=campaign).exists()
        ):
            time.sleep(0.2)
        return time.perf_counter() - started


def _reference_part(arguments) -> None:
    """The sink alone: pre-built messages (string formatting, no templates, no database)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.mail import EmailMultiAlternatives

    from campaigns.channels.sinks import MessageFileEmailBackend

    outbox, emails, offset = arguments
    sink = MessageFileEmailBackend(file_path=outbox)
    batch = []
    for number, address in enumerate(emails, start=offset):
        message = EmailMultiAlternatives(
            subject=f"Hello {number}, 20 % off this week",
            body=f"Dear customer {number},\n\nOur spring sale starts today: https://shop.example.com/sale\n",
            from_email="Precis <news@precis.localhost>",
            to=[address],
            headers={"Message-ID": f"<ref-{number}@precis.localhost>",
                     "List-Unsubscribe": f"<https://precis.example.com/t/u/{number}/>",
                     "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        )  # fmt: skip
        message.attach_alternative(f"<p>Dear customer {number},</p><p>Our spring sale starts today.</p>", "text/html")
        batch.append(message)
        if len(batch) == 250:
            sink.send_messages(batch)
            batch = []
    sink.send_messages(batch)


def _reference_send(emails: list[str], outbox: Path) -> float:
    half = len(emails) // 2
    parts = [(outbox, emails[:half], 0), (outbox, emails[half:], half)]
    context = multiprocessing.get_context("spawn")
    with context.Pool(WORKERS) as pool:
        started = time.perf_counter()
        pool.map(_reference_part, parts)
        return time.perf_counter() - started


def _check_outbox(outbox: Path, emails: list[str]) -> None:
    parser = email.parser.BytesHeaderParser()
    recipients = Counter()
    for path in outbox.glob("*.eml"):
        with path.open("rb") as handle:
            recipients[parser.parse(handle)["To"]] += 1
    assert sum(recipients.values()) == len(emails), (sum(recipients.values()), len(emails))
    assert set(recipients) == set(emails) and max(recipients.values()) == 1


def _cleanup(campaign, segment) -> None:
    """Set-based: the ORM's cascade would fetch 100,000 messages into Python first."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM campaigns_message WHERE campaign_id = %s", [campaign.pk])
        cursor.execute("DELETE FROM segments_segmentmembership WHERE segment_id = %s", [segment.pk])
    campaign.delete()
    segment.delete()


def bench_send() -> list[Measurement]:
    workdir = Path(tempfile.mkdtemp(prefix="precis-bench-send-"))
    segment, emails = _audience()
    campaign = _campaign(segment)
    try:
        product_outbox, reference_outbox = workdir / "product", workdir / "reference"
        print(f"  product: {len(emails):,} recipients, {WORKERS} workers", flush=True)
        product = _product_send(campaign, product_outbox, workdir)
        _check_outbox(product_outbox, emails)
        print(f"  product: {product:.1f} s ({len(emails) / product:,.0f} messages/s), each recipient once", flush=True)
        reference = _reference_send(emails, reference_outbox)
        print(f"  reference: {reference:.1f} s ({len(emails) / reference:,.0f} messages/s)", flush=True)
    finally:
        _cleanup(campaign, segment)
    shutil.rmtree(workdir, ignore_errors=True)
    ratio = product / reference
    return [
        Measurement(
            name=f"email campaign to {len(emails):,} recipients (PostgreSQL + Redis, {WORKERS} workers, file sink)",
            target=TARGET,
            product_seconds=[round(product, 2)],
            reference_seconds=[round(reference, 2)],
            items=len(emails),
            unit="messages",
            notes=(
                f"launch → last message recorded: freeze, stable assignment, per-customer templates, tracking links, "
                f"List-Unsubscribe headers, consent / frequency-cap checks, exactly-once bookkeeping; reference: "
                f"the sink writing pre-built messages from {WORKERS} processes; ratio {ratio:.2f} "
                f"({'met' if ratio <= 2 else 'NOT met'}); every recipient found exactly once in the outbox"
            ),
        )
    ]


BENCHES = {"send": bench_send}


def run(context: dict, only: list[str] | None = None) -> None:
    suite_run("campaigns", BENCHES, context, only)
