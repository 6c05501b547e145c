import pytest

from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

RULE = {
    "type": "group",
    "op": "and",
    "children": [{"type": "condition", "field": "profile.country", "operator": "in", "value": ["CN", "DE"]}],
}


def test_preview_counts_and_samples_the_audience(api_client):
    for i in range(25):
        CustomerFactory(external_id=f"P{i:02d}", country=["CN", "DE", "US"][i % 3])
    response = api_client.post("/api/segments/preview/", {"rule": RULE, "sample_size": 5}, format="json")
    assert response.status_code == 200
    body = response.json()
    expected = {f"P{i:02d}" for i in range(25) if i % 3 != 2}
    assert body["size"] == len(expected) == 17
    assert len(body["sample"]) == 5 and {row["external_id"] for row in body["sample"]} <= expected


def test_preview_names_the_bad_node(api_client):
    rule = {"type": "group", "op": "and", "children": [{"type": "condition", "field": "profile.age", "operator": "gt"}]}
    response = api_client.post("/api/segments/preview/", {"rule": rule}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"path": "rule.children[0].field", "code": "unknown_field", "message": "Unknown field 'profile.age'."}
    ]


def test_preview_needs_login(client):
    assert client.post("/api/segments/preview/", {}, content_type="application/json").status_code in (401, 403)
