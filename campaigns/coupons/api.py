"""Coupons REST API: pools, code generation, the codes as CSV, and redeeming a code for an
order. One view per operation; services do the writing."""

import csv

from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.coupons.errors import CouponError
from campaigns.coupons.selectors import (
    CODES_EXPORT_HEADER,
    coupon_codes_export_rows,
    coupon_pool_counts,
    coupon_pool_list,
)
from campaigns.coupons.services import (
    GENERATE_INLINE_MAX,
    GENERATE_MAX,
    coupon_codes_generate_start,
    coupon_pool_create,
    coupon_redeem,
)
from campaigns.models import CouponPool, Redemption
from customers.models import Order


class CouponErrorSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True, help_text="The input at fault.")
    code = serializers.CharField(help_text="e.g. percent_out_of_range, shared_code_taken, unknown_code")
    message = serializers.CharField()


class CouponErrorsSerializer(serializers.Serializer):
    errors = CouponErrorSerializer(many=True)


def _refused(error: CouponError, status: int = 400) -> Response:
    return Response({"errors": [error.as_api()]}, status=status)


class PoolSerializer(serializers.Serializer):
    class Meta:
        ref_name = "CouponPool"

    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField(help_text="shared (one code for everyone) or unique (one code per recipient).")
    shared_code = serializers.CharField(help_text="Shared pools: the code.")
    prefix = serializers.CharField()
    code_length = serializers.IntegerField(help_text="Unique pools: random characters after the prefix.")
    discount_kind = serializers.CharField(help_text="percent or fixed.")
    discount_value = serializers.DecimalField(max_digits=12, decimal_places=2)
    min_spend = serializers.DecimalField(max_digits=12, decimal_places=2)
    expires_at = serializers.DateTimeField(allow_null=True)
    single_use = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class PoolCountsSerializer(serializers.Serializer):
    codes = serializers.IntegerField()
    assigned = serializers.IntegerField(help_text="Codes given to a recipient.")
    free = serializers.IntegerField(help_text="Unique pools: codes not given out yet.")
    redeemed = serializers.IntegerField(help_text="Accepted redemptions.")
    refused = serializers.IntegerField(help_text="Refused redemptions.")


class PoolListItemSerializer(PoolSerializer):
    class Meta:
        ref_name = "CouponPoolListItem"

    code_count = serializers.IntegerField()
    redeemed_count = serializers.IntegerField()


class CouponPoolListApi(APIView):
    """List coupon pools, or create one."""

    required_permissions = {"GET": "campaigns.view_couponpool", "POST": "campaigns.add_couponpool"}

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CouponPoolCreate"

        name = serializers.CharField(max_length=200)
        kind = serializers.ChoiceField(choices=CouponPool.Kind.choices, default=CouponPool.Kind.UNIQUE)
        discount_kind = serializers.ChoiceField(choices=CouponPool.DiscountKind.choices)
        discount_value = serializers.DecimalField(max_digits=12, decimal_places=2)
        min_spend = serializers.DecimalField(max_digits=12, decimal_places=2, default=0)
        expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
        single_use = serializers.BooleanField(default=True)
        shared_code = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
        prefix = serializers.CharField(max_length=16, required=False, allow_blank=True, default="")
        code_length = serializers.IntegerField(default=10)

    @extend_schema(summary="List coupon pools", responses=PoolListItemSerializer(many=True))
    def get(self, request):
        return Response(PoolListItemSerializer(coupon_pool_list()[:500], many=True).data)

    @extend_schema(
        summary="Create a coupon pool",
        request=InputSerializer,
        responses={201: PoolSerializer, 400: CouponErrorsSerializer},
        examples=[
            OpenApiExample(
                "Unique codes, 15 % off from 200",
                request_only=True,
                value={
                    "name": "Spring win-back",
                    "kind": "unique",
                    "discount_kind": "percent",
                    "discount_value": "15",
                    "min_spend": "200",
                    "expires_at": "2026-06-30T23:59:00Z",
                    "prefix": "SPRING-",
                },
            ),
            OpenApiExample(
                "One shared code",
                request_only=True,
                value={
                    "name": "Welcome",
                    "kind": "shared",
                    "discount_kind": "fixed",
                    "discount_value": "20",
                    "shared_code": "WELCOME20",
                },  # fmt: skip
            ),
        ],
    )
    def post(self, request):
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            pool = coupon_pool_create(user=request.user, **params.validated_data)
        except CouponError as refusal:
            return _refused(refusal)
        return Response(PoolSerializer(pool).data, status=201)


class CouponPoolDetailApi(APIView):
    required_permissions = {"GET": "campaigns.view_couponpool"}

    class OutputSerializer(PoolSerializer):
        class Meta:
            ref_name = "CouponPoolDetail"

        counts = PoolCountsSerializer()

    @extend_schema(summary="One coupon pool with its counts", responses=OutputSerializer)
    def get(self, request, pool_id: int):
        pool = get_object_or_404(CouponPool, pk=pool_id)
        pool.counts = coupon_pool_counts(pool_id=pool.pk)
        return Response(self.OutputSerializer(pool).data)


class CouponCodesGenerateApi(APIView):
    """Add new unique codes to a pool: up to GENERATE_INLINE_MAX at once (201), more in a
    job whose progress is at /jobs/<job>/progress/ (202)."""

    required_permissions = {"POST": "campaigns.add_coupon"}

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CouponCodesGenerate"

        count = serializers.IntegerField(min_value=1, max_value=GENERATE_MAX)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CouponCodesGenerated"

        generated = serializers.IntegerField(help_text="Codes added now (0 when a job was started).")
        job = serializers.UUIDField(allow_null=True, help_text="The generation job, for larger counts.")

    @extend_schema(
        summary="Generate unique codes",
        description=f"Up to {GENERATE_INLINE_MAX:,} codes are generated at once; more are generated by a job.",
        request=InputSerializer,
        responses={201: OutputSerializer, 202: OutputSerializer, 400: CouponErrorsSerializer},
    )
    def post(self, request, pool_id: int):
        pool = get_object_or_404(CouponPool, pk=pool_id)
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            started = coupon_codes_generate_start(pool=pool, count=params.validated_data["count"], user=request.user)
        except CouponError as refusal:
            return _refused(refusal)
        payload = {"generated": started.generated, "job": started.job.pk if started.job else None}
        return Response(self.OutputSerializer(payload).data, status=202 if started.job else 201)


class CsvRenderer(BaseRenderer):
    """Lets clients ask for ``Accept: text/csv``; the view streams the CSV itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, (bytes, str)) else str(data)


class _Echo:
    def write(self, value: str) -> str:
        return value


def codes_csv_response(pool: CouponPool) -> StreamingHttpResponse:
    """The pool's codes as a streamed CSV (shared by the API and the page)."""
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff" + writer.writerow(CODES_EXPORT_HEADER)
        for row in coupon_codes_export_rows(pool_id=pool.pk):
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="coupon-pool-{pool.pk}-codes.csv"'
    return response


class CouponCodesCsvApi(APIView):
    required_permissions = {"GET": "campaigns.view_coupon"}
    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        summary="Export the pool's codes as CSV (code, customer_id, assigned_at, redeemed)",
        responses={(200, "text/csv"): bytes},
    )
    def get(self, request, pool_id: int):
        return codes_csv_response(get_object_or_404(CouponPool, pk=pool_id))


class RedemptionSerializer(serializers.Serializer):
    class Meta:
        ref_name = "CouponRedemption"

    id = serializers.IntegerField()
    code = serializers.CharField(source="coupon.code")
    pool = serializers.IntegerField(source="coupon.pool_id")
    order_id = serializers.CharField(source="order.external_id")
    customer_id = serializers.CharField(source="customer.external_id")
    status = serializers.CharField(help_text="accepted or refused")
    reason = serializers.CharField(
        help_text="Refused: expired, below_min_spend, not_assigned, not_issued or already_redeemed."
    )
    message = serializers.CharField(source="get_reason_display")
    redeemed_at = serializers.DateTimeField()


class CouponRedeemApi(APIView):
    """Record that an order used a code. 201: accepted; 409: refused, with the reason code
    (the refusal is recorded too). Asking again for the same order answers the same."""

    required_permissions = {"POST": "campaigns.add_redemption"}

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CouponRedeem"

        code = serializers.CharField(max_length=64)
        order_id = serializers.CharField(max_length=64, help_text="The order's id (external id).")

    @extend_schema(
        summary="Redeem a coupon code for an order",
        request=InputSerializer,
        responses={201: RedemptionSerializer, 409: RedemptionSerializer, 400: CouponErrorsSerializer},
        examples=[
            OpenApiExample(
                "A code on an order", request_only=True, value={"code": "SPRING-7KQ2M9XD4H", "order_id": "O0012345"}
            )
        ],  # fmt: skip
    )
    def post(self, request):
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        order = get_object_or_404(
            Order.objects.select_related("customer"), external_id=params.validated_data["order_id"]
        )
        try:
            redemption = coupon_redeem(code=params.validated_data["code"], order=order)
        except CouponError as refusal:
            return _refused(refusal)
        status = 201 if redemption.status == Redemption.Status.ACCEPTED else 409
        return Response(RedemptionSerializer(redemption).data, status=status)
