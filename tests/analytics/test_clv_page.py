"""The lifetime-value page: a stored fit's parameters, plain-words reading and holdout
check (table and chart data), the score distribution, and the start form's validation."""

import datetime as dt
import json
import re

import pytest
from django.urls import reverse

from analytics.clv.jobs import clv_day_moment
from analytics.models import ClvFit
from jobs.models import Job

pytestmark = pytest.mark.django_db

# The published CDNOW figures (FHL 2005; Fader & Hardie 2013) and its holdout table
# (docs/predictions.md), as a finished job would have stored them.
PARAMETERS = {
    "customers": 2357, "r": 0.2426, "alpha": 4.4136, "a": 0.7929, "b": 2.4259, "log_likelihood": -9582.43,
    "p": 6.2496, "q": 3.7442, "v": 15.4435, "repeat_customers": 946, "mean_value": 35.17,
    "frequency_value_correlation": 0.114, "as_of": "1998-06-30", "horizon_days": 364, "alive_share": 0.62,
}  # fmt: skip
BUCKETS = [("0", 1411, 0.225, 0.237), ("1", 439, 0.523, 0.697), ("2", 214, 1.044, 1.393), ("7+", 64, 6.157, 6.359)]
HOLDOUT = {
    "holdout_end": "1998-06-30", "length": 39.0, "time_unit": "week", "customers": 2357,
    "predicted_total": 1653.4, "actual_total": 1882, "relative_error": (1653.4 - 1882) / 1882,
    "mean_absolute_error": 0.785,
    "by_frequency": [
        {"frequency": f, "customers": n, "predicted_mean": p, "actual_mean": a, "predicted_total": p * n,
         "actual_total": round(a * n)}
        for f, n, p, a in BUCKETS
    ],
}  # fmt: skip
DISTRIBUTION = {
    "customers": 10, "alive_share": 0.6, "probability_alive_mean": 0.55, "clv_mean": 12.5, "clv_total": 125.0,
    "probability_alive": [{"low": b / 10, "high": (b + 1) / 10, "customers": 1} for b in range(10)],
    "clv": [{"low": None, "high": 1.0, "customers": 3}, {"low": 1.0, "high": 2.0, "customers": 2},
            {"low": 2.0, "high": None, "customers": 5}],
}  # fmt: skip


@pytest.fixture
def stored_fit(db) -> ClvFit:
    job = Job.objects.create(kind="clv_fit", title="CLV", status=Job.Status.SUCCEEDED,
                             result={"distribution": DISTRIBUTION, "summary": {}})  # fmt: skip
    return ClvFit.objects.create(
        calibration_end=clv_day_moment(dt.date(1997, 9, 30)),
        holdout_end=clv_day_moment(dt.date(1998, 6, 30)),
        time_unit="week",
        customers=2357,
        parameters=PARAMETERS,
        holdout=HOLDOUT,
        scored=2357,
        job=job,
    )


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_page_shows_parameters_reading_and_holdout_check(client, viewer, stored_fit):
    client.force_login(viewer)
    response = client.get(reverse("analytics:clv"))
    assert response.status_code == 200
    html = response.content.decode()
    text = _text(html)
    for name, shown in [("r", "0.2426"), ("α", "4.4136"), ("a", "0.7929"), ("b", "2.4259"), ("p", "6.2496"),
                        ("q", "3.7442"), ("v", "15.4435")]:  # fmt: skip
        assert f"{name} {shown}" in text, name
    assert "-9582.43" in text and "2,357" in text
    # α / r = 18.2 weeks between purchases; a / (a + b) = 25 % drop out after a purchase.
    assert "buys about every 18.2 weeks" in text
    assert "25 % chance that they stop buying" in text
    assert "62 % of the 2,357 customers are likely still active" in text
    # The holdout check: the table, the totals, the words and the chart's data.
    assert "0 1,411 0.225 0.237" in text and "7+ 64 6.157 6.359" in text
    assert 'data-testid="clv-predicted-total">1,653.4<' in html
    assert 'data-testid="clv-actual-total">1,882<' in html
    assert "expected 1,653.4 repeat purchases" in text and "they made 1,882" in text
    assert "under-forecasts by 12.1 %" in text
    chart = json.loads(re.search(r'id="clv-holdout-data" type="application/json">(.*?)</script>', html).group(1))
    assert chart["labels"] == ["0", "1", "2", "7+"]
    assert chart["predicted"] == [0.225, 0.523, 1.044, 6.157]
    assert chart["actual"] == [0.237, 0.697, 1.393, 6.359]
    # The distribution the job counted, and no start form for a viewer.
    assert 'data-testid="clv-alive-table"' in html and "below 1" in text and "2 and more" in text
    assert "60 % likely still active" in text and "average CLV 12.50, total 125.00" in text
    assert 'data-testid="clv-fit"' not in html


def test_start_form_defaults_and_validation(client, marketer):
    client.force_login(marketer)
    page = client.get(reverse("analytics:clv")).content.decode()
    today = dt.date.today()  # no orders: the holdout end defaults to today, 26 weeks of holdout
    assert f'name="holdout_end" value="{today.isoformat()}"' in page
    assert f'name="calibration_end" value="{(today - dt.timedelta(weeks=26)).isoformat()}"' in page

    data = {"calibration_end": "2025-03-31", "holdout_end": "2025-03-01", "time_unit": "week", "score": "on"}
    response = client.post(reverse("analytics:clv-fit"), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="error-holdout_end"' in html
    assert "The holdout end must be after the calibration end." in html
    assert not ClvFit.objects.exists()

    response = client.post(reverse("analytics:clv-fit"), {**data, "calibration_end": "31/03/2025"})
    assert response.status_code == 400
    assert 'data-testid="error-calibration_end"' in response.content.decode()


def test_start_queues_a_fit_and_viewers_cannot(client, marketer, viewer, django_capture_on_commit_callbacks):
    client.force_login(viewer)
    data = {"calibration_end": "2025-03-31", "holdout_end": "2025-06-30", "time_unit": "week", "score": "on"}
    assert client.post(reverse("analytics:clv-fit"), data).status_code == 403
    client.force_login(marketer)
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(reverse("analytics:clv-fit"), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert len(queued) == 1  # the task goes out once the fit and its job are committed
    fit = ClvFit.objects.get()
    assert f'id="job-{fit.job_id}"' in response.content.decode()
    assert fit.holdout_end is not None and fit.job.params["score"] is True
