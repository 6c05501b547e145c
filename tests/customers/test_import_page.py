"""The import page: upload → job (run eagerly) → summary and downloadable error report."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from customers.models import Product
from jobs.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def upload(client, kind, content: bytes):
    return client.post("/customers/import/", {"kind": kind, "file": SimpleUploadedFile("p.csv", content)})


def test_upload_runs_job_and_serves_report(marketer_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(marketer_client, "products", b"sku,name,price\nP1,Cup,2\nP2,Mug,zz\n")
    assert response.status_code == 302
    job = Job.objects.get()
    assert job.status == Job.Status.SUCCEEDED
    assert job.result["summary"]["products inserted"] == 1 and job.result["error_count"] == 1
    assert list(Product.objects.values_list("sku", flat=True)) == ["P1"]
    page = marketer_client.get(response["Location"])
    assert page.status_code == 200 and b'data-testid="error-report"' in page.content
    report = marketer_client.get(job.result["report_url"])
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["row", "id", "column", "value", "code", "reason"]
    assert rows[1][:5] == ["3", "P2", "price", "zz", "invalid_number"]


def test_failed_import_marks_job_failed(marketer_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        upload(marketer_client, "orders", b"order_id\no1\n")
    job = Job.objects.get()
    assert job.status == Job.Status.FAILED and job.result["error_count"] == 2


def test_viewer_gets_403(client, viewer):
    client.force_login(viewer)
    assert client.get("/customers/import/").status_code == 403
    assert upload(client, "products", b"sku\nP1\n").status_code == 403
    assert Product.objects.count() == 0
