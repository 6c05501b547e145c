import pytest

from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

RULE = {
    "type": "group",
    "op": "and",
    "children": [{"type": "condition", "field": "profile.country", "operator": "in", "value": ["CN", "DE"]}],
}
CN_ONLY = {
    "type": "group",
    "op": "and",
    "children": [{"type": "condition", "field": "profile.country", "operator": "equals", "value": "cn"}],
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


def test_preview_is_one_query_with_the_newest_customers_first(django_assert_num_queries):
    from segments.selectors import segment_preview

    customers = [CustomerFactory(external_id=f"Q{i:02d}", country=["CN", "DE"][i % 2]) for i in range(9)]
    newest_chinese = [c.external_id for c in sorted(customers, key=lambda c: -c.pk) if c.country == "CN"][:3]
    with django_assert_num_queries(1):
        preview = segment_preview(rule=RULE, sample_size=3)
    assert preview.size == 5 + 4  # RULE keeps CN and DE
    with django_assert_num_queries(1):
        chinese = segment_preview(rule=CN_ONLY, sample_size=3)
    assert chinese.size == 5
    assert [row["external_id"] for row in chinese.sample] == newest_chinese
    assert set(chinese.sample[0]) == {"external_id", "name", "email", "country", "city"}


def test_preview_of_an_empty_audience_and_without_a_sample():
    from segments.selectors import segment_preview

    CustomerFactory(external_id="Z1", country="DE")
    assert segment_preview(rule=CN_ONLY, sample_size=20).size == 0
    assert segment_preview(rule=RULE, sample_size=0).size == 1
    assert segment_preview(rule=RULE, sample_size=0).sample == []
