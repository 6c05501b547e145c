"""Exactly once with real processes: a 100,000-recipient send on PostgreSQL + Redis with
two Celery workers survives a worker killed with SIGKILL mid-send, and a Redis restart
(which, run without persistence as here, loses every queued task). Every recipient ends
with exactly one message in the outbox and every Message row is ``sent``.

Runs in .ci/run (PostgreSQL, Redis broker); skipped on SQLite and without Redis.
"""

import email.parser
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from celery import current_app
from django.conf import settings
from django.db import connection
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from campaigns.audit import campaign_transition
from campaigns.models import Campaign, CampaignEvent, Dispatch, Message, SendingPolicy, Variant
from campaigns.sending.dispatch import campaign_go
from segments.models import Segment

ROOT = Path(__file__).resolve().parents[3]
RECIPIENTS = 100_000
REDIS_START = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "",
    "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log",
]  # fmt: skip

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_redis():
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.skip("needs the Redis broker: run with CELERY_BROKER_URL=redis://...")


class Fleet:
    """Worker (and beat) processes on their own queue, each in its own process group so a
    kill takes the pool children with it."""

    def __init__(self, tmp_path: Path) -> None:
        self.queue = f"send-{uuid.uuid4().hex[:8]}"
        self.tmp_path = tmp_path
        self.outbox = tmp_path / "outbox"
        db = connection.settings_dict
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "PRECIS_CELERY_QUEUE": self.queue,
            "PRECIS_OUTBOX_DIR": str(self.outbox),
            "PRECIS_CAMPAIGN_EMAIL_BACKEND": "campaigns.channels.sinks.MessageFileEmailBackend",
            "PRECIS_SEND_LEASE_SECONDS": "10",
            "PRECIS_SEND_TASK_SECONDS": "4",
            "PRECIS_SEND_BATCH": "250",
            "PRECIS_LOG_LEVEL": "WARNING",
        }
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *arguments: str) -> None:
        log = open(self.tmp_path / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", *arguments],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def worker(self, name: str) -> None:
        self.start(name, "worker", "-Q", self.queue, "--concurrency", "1", "-l", "warning", "-n", f"{name}@%h")

    def beat(self) -> None:
        self.start("beat", "beat", "-l", "warning", "--schedule", str(self.tmp_path / "beat-schedule"))

    def kill(self, name: str) -> None:
        os.killpg(self.processes[name].pid, signal.SIGKILL)
        self.processes[name].wait(timeout=30)

    def stop(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
            print(f"--- {name} ---\n" + (self.tmp_path / f"{name}.log").read_text()[-3000:])


@pytest.fixture
def fleet(tmp_path):
    fleet = Fleet(tmp_path)
    previous = current_app.conf.task_default_queue
    current_app.conf.task_default_queue = fleet.queue
    yield fleet
    current_app.conf.task_default_queue = previous
    fleet.stop()


def campaign_of_100k() -> Campaign:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO customers_customer (external_id, email, phone, name, gender, country, region, city, "
            "occupation, member_tier, email_opt_in, sms_opt_in, attributes, created_at, updated_at) "
            "SELECT 'X' || g, 'x' || g || '@example.com', '', 'Customer ' || g, '', 'CN', '', '', '', '', "
            "true, false, '{}'::jsonb, now(), now() FROM generate_series(1, %s) AS g",
            [RECIPIENTS],
        )
        segment = Segment.objects.create(name="everyone", kind=Segment.Kind.STATIC)
        cursor.execute(
            "INSERT INTO segments_segmentmembership (segment_id, customer_id, entered_at) "
            "SELECT %s, id, now() FROM customers_customer",
            [segment.pk],
        )
    SendingPolicy.objects.update_or_create(pk=1, defaults={"quiet_hours_enabled": False, "frequency_cap_messages": 0})
    campaign = Campaign.objects.create(name="Big send")
    campaign.audience_segments.add(segment)
    Variant.objects.create(
        campaign=campaign,
        key="A",
        subject="Hello {{ customer.first_name }}",
        body_text="Dear {{ customer.name }}, our sale: https://shop.example.com/sale",
        body_html="<p>Dear {{ customer.name }}, <a href='https://shop.example.com/sale'>our sale</a></p>",
    )
    return campaign


def launch(campaign: Campaign) -> None:
    campaign_transition(
        campaign_id=campaign.pk, to_status=Campaign.Status.SENDING, action=CampaignEvent.Action.LAUNCHED
    )
    campaign_go(campaign_id=campaign.pk)  # not in a transaction: the freeze task is sent now


def sent_count(campaign: Campaign) -> int:
    return Message.objects.filter(campaign=campaign, status=Message.Status.SENT).count()


def wait_for(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def assert_exactly_once(campaign: Campaign, outbox: Path) -> None:
    statuses = Counter(Message.objects.filter(campaign=campaign).values_list("status", flat=True))
    assert statuses == {Message.Status.SENT: RECIPIENTS}
    parser = email.parser.BytesHeaderParser()
    recipients = Counter()
    for path in outbox.glob("*.eml"):
        with path.open("rb") as handle:
            recipients[parser.parse(handle)["To"]] += 1
    assert sum(recipients.values()) == RECIPIENTS
    assert recipients.most_common(1)[0][1] == 1
    assert set(recipients) == {f"x{n}@example.com" for n in range(1, RECIPIENTS + 1)}
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    assert Dispatch.objects.get(campaign=campaign).status == Dispatch.Status.DONE


def test_a_worker_killed_mid_send_loses_and_doubles_nothing(fleet):
    campaign = campaign_of_100k()
    fleet.worker("alpha")
    fleet.worker("beta")
    launch(campaign)
    wait_for(lambda: sent_count(campaign) >= 25_000, timeout=300, what="a quarter of the send")
    fleet.kill("alpha")
    killed_at = sent_count(campaign)
    assert killed_at < RECIPIENTS
    fleet.worker("gamma")  # a replacement joins; beta and gamma finish, alpha's claims come back
    wait_for(
        lambda: Dispatch.objects.get(campaign=campaign).status == Dispatch.Status.DONE, timeout=600, what="the end"
    )
    assert_exactly_once(campaign, fleet.outbox)


def test_a_redis_restart_mid_send_loses_and_doubles_nothing(fleet):
    campaign = campaign_of_100k()
    interval, _ = IntervalSchedule.objects.get_or_create(every=3, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.update_or_create(
        name="Campaign sending tick", defaults={"task": "campaigns.sending_tick", "interval": interval}
    )
    fleet.worker("alpha")
    fleet.worker("beta")
    fleet.beat()
    launch(campaign)
    wait_for(lambda: sent_count(campaign) >= 25_000, timeout=300, what="a quarter of the send")
    subprocess.run(["redis-cli", "-p", "6379", "shutdown", "nosave"], check=False, timeout=30)
    stopped_at = sent_count(campaign)
    time.sleep(5)  # the drains' hand-overs fail while Redis is down; queued nudges are gone with it
    subprocess.run(REDIS_START, check=True, timeout=30)
    wait_for(lambda: subprocess.run(["redis-cli", "ping"], capture_output=True).returncode == 0, timeout=30,
             what="Redis")  # fmt: skip
    assert stopped_at < RECIPIENTS
    wait_for(
        lambda: Dispatch.objects.get(campaign=campaign).status == Dispatch.Status.DONE, timeout=600, what="the end"
    )
    assert_exactly_once(campaign, fleet.outbox)
