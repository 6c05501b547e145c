"""A real Celery worker process, on the broker of the run: SQLite (the demo's broker, no
server) by default, Redis when CELERY_BROKER_URL says so (as in .ci/run)."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

from jobs.models import Job
from jobs.services import job_create

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def database_url_of_test_db() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def broker_url(tmp_path) -> str:
    if settings.CELERY_BROKER_URL.startswith("redis"):
        return settings.CELERY_BROKER_URL
    return f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"


@pytest.fixture
def worker(broker_url):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": database_url_of_test_db(), "CELERY_BROKER_URL": broker_url}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queue,
            "--concurrency",
            "1",
            "-l",
            "info",
            "-n",
            f"{queue}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield queue
    process.terminate()
    output, _ = process.communicate(timeout=30)
    print(output)


def test_a_real_worker_runs_a_task_against_the_shared_database(worker, broker_url):
    job = job_create(kind="worker_check", title="worker check")
    Celery(broker=broker_url).send_task("jobs.worker_check", args=[str(job.pk)], queue=worker)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status == Job.Status.SUCCEEDED:
            break
        time.sleep(0.3)
    assert job.status == Job.Status.SUCCEEDED
    assert job.result["summary"]["worker"]
    assert job.started_at is not None and job.finished_at >= job.started_at
