"""Pools (terms checked, shared code stored) and code generation (exact counts, collisions)."""

from decimal import Decimal

import numpy as np
import pytest

from campaigns.coupons import services
from campaigns.coupons.codes import codes_random
from campaigns.coupons.errors import CouponError, CouponErrorCode
from campaigns.coupons.services import coupon_codes_generate, coupon_pool_create
from campaigns.models import Coupon, CouponPool
from tests.campaigns.coupons.conftest import shared_pool, unique_pool

pytestmark = pytest.mark.django_db


def test_a_unique_pool_keeps_its_terms():
    pool = unique_pool(prefix="spring-", code_length=8, min_spend="200", discount_value="15")
    pool.refresh_from_db()
    assert (pool.kind, pool.prefix, pool.code_length) == ("unique", "SPRING-", 8)
    assert (pool.discount_value, pool.min_spend) == (Decimal("15.00"), Decimal("200.00"))
    assert not pool.coupons.exists()


def test_a_shared_pool_stores_its_code_in_upper_case():
    pool = shared_pool(shared_code=" welcome5 ")
    assert pool.shared_code == "WELCOME5"
    assert list(pool.coupons.values_list("code", "customer", "message")) == [("WELCOME5", None, None)]


@pytest.mark.parametrize(
    ("terms", "code", "field"),
    [
        ({"discount_kind": "percent", "discount_value": "0"}, "percent_out_of_range", "discount_value"),
        ({"discount_kind": "percent", "discount_value": "100.01"}, "percent_out_of_range", "discount_value"),
        ({"discount_kind": "fixed", "discount_value": "-1"}, "amount_not_positive", "discount_value"),
        ({"min_spend": "-5"}, "min_spend_negative", "min_spend"),
        ({"kind": "shared"}, "shared_code_needed", "shared_code"),
        ({"kind": "shared", "shared_code": "TWO WORDS"}, "shared_code_invalid", "shared_code"),
        ({"code_length": 5}, "code_length_out_of_range", "code_length"),
        ({"code_length": 33}, "code_length_out_of_range", "code_length"),
        ({"prefix": "no spaces"}, "prefix_invalid", "prefix"),
        ({"single_use": False}, "unique_codes_single_use", "single_use"),
        ({"kind": "bulk"}, "unknown_kind", "kind"),
        ({"discount_kind": "bogof"}, "unknown_discount_kind", "discount_kind"),
    ],
)
def test_bad_terms_are_refused_with_the_field_and_reason(terms, code, field):
    with pytest.raises(CouponError) as refused:
        unique_pool(**terms)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert refused.value.message
    assert not CouponPool.objects.exists()


def test_percent_of_exactly_100_is_allowed():
    assert unique_pool(discount_value="100").discount_value == 100


def test_a_shared_code_already_used_is_refused():
    shared_pool(shared_code="SUMMER")
    with pytest.raises(CouponError) as refused:
        shared_pool(shared_code="summer")
    assert refused.value.code == CouponErrorCode.SHARED_CODE_TAKEN
    assert CouponPool.objects.count() == 1


def test_generation_makes_exactly_the_count_asked(pool):
    steps = []
    assert coupon_codes_generate(pool_id=pool.pk, count=2_500, progress=lambda done, total: steps.append(done)) == 2_500
    assert coupon_codes_generate(pool_id=pool.pk, count=500) == 500
    codes = list(pool.coupons.values_list("code", flat=True))
    assert len(codes) == len(set(codes)) == 3_000
    assert all(len(code) == 10 for code in codes)
    assert steps[-1] == 2_500


def test_codes_colliding_with_stored_ones_are_topped_up(pool, monkeypatch):
    """Every batch repeats up to 300 codes already stored (in this pool or another): exactly the
    asked number of new codes still arrives, over several rounds."""
    other = unique_pool(name="Other")
    coupon_codes_generate(pool_id=other.pk, count=300)
    taken = np.array(sorted(Coupon.objects.values_list("code", flat=True)), dtype="S10")
    rounds = []

    def colliding(count, **kwargs):
        rounds.append(count)
        fresh = codes_random(count, **kwargs)
        clash = taken[: min(300, count // 2)]
        return np.concatenate([clash, fresh[len(clash) :]])

    monkeypatch.setattr(services, "codes_random", colliding)
    monkeypatch.setattr(services, "GENERATE_CHUNK", 1_000)
    assert coupon_codes_generate(pool_id=pool.pk, count=2_000) == 2_000
    assert pool.coupons.count() == 2_000
    assert other.coupons.count() == 300
    assert len(rounds) > 2  # 700 new per round of 1,000: top-up rounds were needed
    assert Coupon.objects.count() == len(set(Coupon.objects.values_list("code", flat=True))) == 2_300


def test_an_exhausted_code_space_is_reported(pool, monkeypatch):
    coupon_codes_generate(pool_id=pool.pk, count=10)
    taken = np.array(sorted(pool.coupons.values_list("code", flat=True)), dtype="S10")
    monkeypatch.setattr(services, "codes_random", lambda count, **kwargs: taken[:count])
    with pytest.raises(CouponError) as refused:
        coupon_codes_generate(pool_id=pool.pk, count=5)
    assert refused.value.code == CouponErrorCode.CODES_EXHAUSTED


def test_a_shared_pool_generates_nothing():
    pool = shared_pool()
    with pytest.raises(CouponError) as refused:
        coupon_codes_generate(pool_id=pool.pk, count=10)
    assert refused.value.code == CouponErrorCode.SHARED_POOL_HAS_ONE_CODE


@pytest.mark.parametrize("count", [0, -3, services.GENERATE_MAX + 1])
def test_counts_out_of_range_are_refused(pool, count):
    with pytest.raises(CouponError) as refused:
        coupon_codes_generate(pool_id=pool.pk, count=count)
    assert refused.value.code == CouponErrorCode.COUNT_OUT_OF_RANGE


def test_a_large_count_runs_as_a_job_and_tops_up_once(pool, monkeypatch, django_capture_on_commit_callbacks):
    """Above the inline limit a job is queued (eager Celery here); running its task again
    does not add codes a second time."""
    from campaigns.coupons.tasks import coupon_codes_generate_task

    monkeypatch.setattr(services, "GENERATE_INLINE_MAX", 100)
    coupon_codes_generate(pool_id=pool.pk, count=50)
    with django_capture_on_commit_callbacks(execute=True):
        started = services.coupon_codes_generate_start(pool=pool, count=400)
    started.job.refresh_from_db()
    assert started.job.status == "succeeded"
    assert started.job.result["summary"] == {"codes generated": 400, "codes in the pool": 450}
    assert pool.coupons.count() == 450
    coupon_codes_generate_task(str(started.job.pk))
    assert pool.coupons.count() == 450


def test_create_validation_through_the_function_signature():
    pool = coupon_pool_create(
        name="Fixed 20", kind="unique", discount_kind="fixed", discount_value=20, min_spend=100, code_length=6
    )
    assert (pool.discount_kind, pool.discount_value, pool.code_length) == ("fixed", 20, 6)
