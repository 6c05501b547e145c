"""Read API over customer profiles: the filtered list, one profile, its timeline.

The list takes the same filters and keyset cursors as the customer list page, so a
script can walk a million customers page by page without COUNT(*) or OFFSET.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.models import Customer, EventType, Gender
from customers.selectors import (
    CUSTOMER_PAGE_MAX,
    CUSTOMER_PAGE_SIZE,
    CUSTOMER_TIMELINE_PAGE,
    CustomerFilters,
    CustomerSort,
    InvalidCursor,
    customer_order_summary,
    customer_search,
    customer_timeline,
)

UNKNOWN_GENDER = "unknown"


class CustomerListApi(APIView):
    """Customers matching the filters, a page at a time; follow ``next`` with ``after``."""

    required_permissions = {"GET": "customers.view_customer"}

    class InputSerializer(serializers.Serializer):
        q = serializers.CharField(
            required=False, allow_blank=True, max_length=254,
            help_text="External id (exact), email or phone (prefix), or name (contains).",
        )  # fmt: skip
        country = serializers.CharField(required=False, allow_blank=True)
        city = serializers.CharField(required=False, allow_blank=True)
        gender = serializers.ChoiceField(
            required=False,
            choices=[value for value, _ in Gender.choices if value] + [UNKNOWN_GENDER],
        )
        member_tier = serializers.CharField(required=False, allow_blank=True)
        email_opt_in = serializers.BooleanField(required=False, allow_null=True, default=None)
        sms_opt_in = serializers.BooleanField(required=False, allow_null=True, default=None)
        signed_up_from = serializers.DateField(required=False)
        signed_up_to = serializers.DateField(required=False)
        sort = serializers.ChoiceField(choices=[sort.value for sort in CustomerSort], default=CustomerSort.NEWEST)
        after = serializers.CharField(required=False, help_text="The `next` cursor of the previous page.")
        before = serializers.CharField(required=False, help_text="The `previous` cursor of the following page.")
        limit = serializers.IntegerField(
            required=False, min_value=1, max_value=CUSTOMER_PAGE_MAX, default=CUSTOMER_PAGE_SIZE
        )

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CustomerPage"

        class CustomerRowSerializer(serializers.Serializer):
            class Meta:
                ref_name = "CustomerRow"

            external_id = serializers.CharField()
            name = serializers.CharField()
            email = serializers.CharField()
            phone = serializers.CharField()
            gender = serializers.CharField()
            country = serializers.CharField()
            city = serializers.CharField()
            member_tier = serializers.CharField()
            signed_up_at = serializers.DateTimeField(allow_null=True)
            email_opt_in = serializers.BooleanField()
            sms_opt_in = serializers.BooleanField()

        results = CustomerRowSerializer(many=True, source="customers")
        next = serializers.CharField(allow_null=True, source="next_cursor")
        previous = serializers.CharField(allow_null=True, source="previous_cursor")
        estimated_total = serializers.IntegerField(
            allow_null=True, help_text="Planner estimate of all customers; null when filtered."
        )

    @extend_schema(operation_id="customers_list", parameters=[InputSerializer], responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        gender = data.get("gender")
        filters = CustomerFilters(
            q=data.get("q", ""),
            country=data.get("country", ""),
            city=data.get("city", ""),
            gender="" if gender == UNKNOWN_GENDER else gender,
            member_tier=data.get("member_tier", ""),
            email_opt_in=data["email_opt_in"],
            sms_opt_in=data["sms_opt_in"],
            signed_up_from=data.get("signed_up_from"),
            signed_up_to=data.get("signed_up_to"),
            sort=CustomerSort(data["sort"]),
        )
        try:
            page = customer_search(filters, after=data.get("after"), before=data.get("before"), limit=data["limit"])
        except InvalidCursor as error:
            raise ValidationError({"cursor": ["Not a cursor issued for this sort order."]}) from error
        return Response(self.OutputSerializer(page).data)


class CustomerDetailApi(APIView):
    """One customer's profile fields, consent and order summary."""

    required_permissions = {"GET": "customers.view_customer"}

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CustomerDetail"

        class ProfileSerializer(serializers.Serializer):
            class Meta:
                ref_name = "CustomerProfile"

            external_id = serializers.CharField()
            name = serializers.CharField()
            email = serializers.CharField()
            phone = serializers.CharField()
            gender = serializers.CharField()
            birth_date = serializers.DateField(allow_null=True)
            country = serializers.CharField()
            region = serializers.CharField()
            city = serializers.CharField()
            occupation = serializers.CharField()
            signed_up_at = serializers.DateTimeField(allow_null=True)
            member_tier = serializers.CharField()
            email_opt_in = serializers.BooleanField()
            email_opt_in_at = serializers.DateTimeField(allow_null=True)
            sms_opt_in = serializers.BooleanField()
            sms_opt_in_at = serializers.DateTimeField(allow_null=True)
            attributes = serializers.DictField()

        class OrderSummarySerializer(serializers.Serializer):
            class Meta:
                ref_name = "CustomerOrderSummary"

            order_count = serializers.IntegerField()
            total_spend = serializers.DecimalField(max_digits=16, decimal_places=2)
            average_order_value = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
            first_order_at = serializers.DateTimeField(allow_null=True)
            last_order_at = serializers.DateTimeField(allow_null=True)
            currency = serializers.CharField(help_text="Empty when orders use several currencies.")
            cancelled_count = serializers.IntegerField()
            returned_count = serializers.IntegerField()

        profile = ProfileSerializer()
        order_summary = OrderSummarySerializer(help_text="Spend counts placed orders only.")

    @extend_schema(operation_id="customers_retrieve", responses=OutputSerializer)
    def get(self, request: Request, external_id: str) -> Response:
        customer = get_object_or_404(Customer, external_id=external_id)
        answer = {"profile": customer, "order_summary": customer_order_summary(customer)}
        return Response(self.OutputSerializer(answer).data)


class CustomerTimelineApi(APIView):
    """A customer's behaviour events, newest first; follow ``next`` with ``before``."""

    required_permissions = {"GET": "customers.view_customer"}

    class InputSerializer(serializers.Serializer):
        before = serializers.CharField(required=False, help_text="The `next` cursor of the previous page.")
        limit = serializers.IntegerField(
            required=False, min_value=1, max_value=CUSTOMER_PAGE_MAX, default=CUSTOMER_TIMELINE_PAGE
        )

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CustomerTimelinePage"

        class EventSerializer(serializers.Serializer):
            class Meta:
                ref_name = "CustomerTimelineEvent"

            external_id = serializers.CharField()
            type = serializers.ChoiceField(choices=EventType.choices)
            occurred_at = serializers.DateTimeField()
            sku = serializers.CharField()
            category = serializers.CharField()
            query = serializers.CharField()
            path = serializers.CharField()
            properties = serializers.DictField()

        results = EventSerializer(many=True, source="events")
        next = serializers.CharField(allow_null=True, source="next_cursor")

    @extend_schema(operation_id="customers_timeline", parameters=[InputSerializer], responses=OutputSerializer)
    def get(self, request: Request, external_id: str) -> Response:
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        customer = get_object_or_404(Customer, external_id=external_id)
        try:
            page = customer_timeline(
                customer, before=params.validated_data.get("before"), limit=params.validated_data["limit"]
            )
        except InvalidCursor as error:
            raise ValidationError({"before": ["Not a cursor issued by this timeline."]}) from error
        return Response(self.OutputSerializer(page).data)
