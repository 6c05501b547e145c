"""The sending policy page and API, and a dispatch's progress over the API."""

import datetime as dt

import pytest

from campaigns.models import SendingPolicy
from campaigns.sending.policy import quiet_hours_release, sending_policy

pytestmark = pytest.mark.django_db


def test_policy_api_reads_and_changes_the_rules(api_client):
    response = api_client.put(
        "/api/campaigns/sending-policy/",
        {"quiet_hours_enabled": True, "quiet_start": "22:00", "quiet_end": "08:30",
         "frequency_cap_messages": 4, "frequency_cap_days": 10},
        format="json",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    policy = SendingPolicy.objects.get(pk=1)
    assert (policy.quiet_start, policy.quiet_end) == (dt.time(22), dt.time(8, 30))
    assert (policy.frequency_cap_messages, policy.frequency_cap_days) == (4, 10)
    assert api_client.get("/api/campaigns/sending-policy/").json()["quiet_end"] == "08:30:00"


def test_policy_api_refuses_equal_quiet_hours_naming_the_field(api_client):
    response = api_client.put(
        "/api/campaigns/sending-policy/",
        {"quiet_hours_enabled": True, "quiet_start": "22:00", "quiet_end": "22:00",
         "frequency_cap_messages": 3, "frequency_cap_days": 7},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["field"] == "quiet_end"
    assert sending_policy().quiet_end == dt.time(9)


def test_viewers_read_but_cannot_change_the_policy(client, viewer):
    client.force_login(viewer)
    before = sending_policy().frequency_cap_messages
    assert client.get("/campaigns/sending/policy/").status_code == 200
    response = client.post(
        "/campaigns/sending/policy/",
        {"quiet_start": "20:00", "quiet_end": "08:00", "frequency_cap_messages": 1, "frequency_cap_days": 1},
    )
    assert response.status_code == 403
    assert sending_policy().frequency_cap_messages == before


def test_marketer_saves_the_policy_page(marketer_client):
    response = marketer_client.post(
        "/campaigns/sending/policy/",
        {"quiet_hours_enabled": "on", "quiet_start": "21:30", "quiet_end": "07:00",
         "frequency_cap_messages": 2, "frequency_cap_days": 3},
    )  # fmt: skip
    assert response.status_code == 302
    assert sending_policy().quiet_start == dt.time(21, 30)


def test_quiet_hours_wrap_midnight():
    import pandas as pd

    now = dt.datetime(2026, 3, 1, 14, 30, tzinfo=dt.UTC)  # 22:30 in Shanghai, 09:30 in New York (EST)
    zones = pd.Series(["Asia/Shanghai", "America/New_York", "Asia/Shanghai"])
    release = quiet_hours_release(now, zones, start=dt.time(21), end=dt.time(9))
    assert release[0] == pd.Timestamp("2026-03-02 01:00", tz="UTC")  # 09:00 next morning in Shanghai
    assert pd.isna(release[1])
    assert release[2] == release[0]
