import datetime as dt
import json

import pytest

from segments.models import Segment
from segments.services import segment_create, segment_refresh
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
RULE = {
    "type": "group",
    "op": "and",
    "children": [{"type": "condition", "field": "profile.city", "operator": "equals", "value": "Hangzhou"}],
}


def test_list_detail_refresh_and_freeze(marketer_client, marketer):
    CustomerFactory(external_id="H1", city="Hangzhou", name="周杰")
    CustomerFactory(external_id="H2", city="Boston")
    segment = segment_create(name="Hangzhou", rule=RULE, user=marketer)
    segment_refresh(segment_id=segment.pk, now=dt.datetime(2026, 5, 1, tzinfo=dt.UTC))

    listing = marketer_client.get("/segments/").content.decode()
    assert f'href="/segments/{segment.pk}/"' in listing and "Hangzhou" in listing

    CustomerFactory(external_id="H3", city="Hangzhou")
    response = marketer_client.post(f"/segments/{segment.pk}/refresh/", follow=True)
    page = response.content.decode()
    assert "2 members: 1 entered, 0 left." in page
    assert 'data-testid="segment-size">2<' in page
    assert 'id="segment-size-data"' in page and "周杰" in page

    marketer_client.post(f"/segments/{segment.pk}/freeze/")
    assert Segment.objects.get(pk=segment.pk).kind == Segment.Kind.STATIC


def test_upload_a_list_from_the_page(marketer_client):
    CustomerFactory(external_id="L1", email="l1@example.com")
    response = marketer_client.post(
        "/segments/", {"name": "Fans", "identifiers": "L1\nnobody@example.com\n"}, follow=True
    )
    page = response.content.decode()
    assert "1 customers are in the new segment." in page
    assert "nobody@example.com" in page
    assert Segment.objects.get(name="Fans").size == 1


def test_viewer_sees_segments_but_cannot_change_them(client, viewer, marketer):
    client.force_login(viewer)
    segment = segment_create(name="All", rule=RULE, user=marketer)
    assert client.get(f"/segments/{segment.pk}/").status_code == 200
    assert client.post(f"/segments/{segment.pk}/refresh/").status_code == 403
    assert client.post("/segments/", {"name": "x", "identifiers": "a"}).status_code == 403


def test_builder_saves_a_rule_and_refuses_a_broken_one(marketer_client, django_capture_on_commit_callbacks):
    CustomerFactory(external_id="B1", city="Hangzhou")
    broken = {"type": "group", "op": "and", "children": [{"type": "condition", "field": "profile.shoe"}]}
    page = marketer_client.post("/segments/new/", {"name": "Broken", "rule": json.dumps(broken)}).content.decode()
    assert "rule.children[0].field" in page and not Segment.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = marketer_client.post("/segments/new/", {"name": "Hangzhou", "rule": json.dumps(RULE)})
    segment = Segment.objects.get(name="Hangzhou")
    assert response["Location"] == f"/segments/{segment.pk}/"
    assert segment.rule == RULE and segment.size == 1  # the first refresh ran after commit

    copy = marketer_client.get(f"/segments/new/?from={segment.pk}").content.decode()
    assert "Copy of Hangzhou" in copy and "Hangzhou" in copy


def test_preview_partial_counts_or_asks_to_finish(marketer_client):
    CustomerFactory(external_id="P1", city="Hangzhou")
    CustomerFactory(external_id="P2", city="Hangzhou")
    page = marketer_client.post("/segments/preview/", {"rule": json.dumps(RULE)}).content.decode()
    assert 'data-testid="preview-size">2<' in page
    unfinished = {"type": "group", "op": "and", "children": []}
    page = marketer_client.post("/segments/preview/", {"rule": json.dumps(unfinished)}).content.decode()
    assert 'data-testid="preview-incomplete"' in page


def test_rfm_segments_are_added_once_and_filled(marketer_client, django_capture_on_commit_callbacks):
    from segments.models import RfmSegmentChoice
    from segments.services import features_refresh_full
    from tests.factories import OrderFactory

    for i in range(10):
        customer = CustomerFactory(external_id=f"F{i}")
        for days in range(i % 4 + 1):
            OrderFactory(
                customer=customer, ordered_at=dt.datetime(2026, 5, 1, tzinfo=dt.UTC) - dt.timedelta(days=30 * days + i)
            )
    features_refresh_full(as_of=dt.datetime(2026, 5, 2, tzinfo=dt.UTC))
    with django_capture_on_commit_callbacks(execute=True):
        marketer_client.post("/segments/rfm/")
    marketer_client.post("/segments/rfm/")  # a second click adds nothing
    rfm = Segment.objects.filter(name__startswith="RFM: ")
    assert rfm.count() == len([choice for choice in RfmSegmentChoice if choice.value]) == 11
    from segments.models import CustomerFeatures

    for segment in rfm:
        value = segment.rule["children"][0]["value"]
        assert segment.size == CustomerFeatures.objects.filter(rfm_segment=value).count()
    assert sum(segment.size for segment in rfm) == CustomerFeatures.objects.exclude(rfm_segment="").count() > 0
