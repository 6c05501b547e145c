"""Data subject requests over the API: export one customer's data, erase it."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.models import Customer
from customers.privacy import customer_data_export, customer_erase


class CustomerExportApi(APIView):
    required_permissions = {"GET": "customers.view_customer"}

    @extend_schema(
        summary="Export everything stored about one customer (GDPR access request)",
        responses=inline_serializer(
            "CustomerExport",
            {
                "exported_at": serializers.DateTimeField(),
                "profile": serializers.DictField(),
                "orders": serializers.ListField(child=serializers.DictField()),
                "events": serializers.ListField(child=serializers.DictField()),
                "reviews": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    def get(self, request, external_id: str):
        customer = get_object_or_404(Customer, external_id=external_id)
        response = Response(customer_data_export(customer=customer))
        response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}.json"'
        return response


class CustomerEraseApi(APIView):
    required_permissions = {"POST": "customers.delete_customer"}

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CustomerErasure"

        erased = serializers.BooleanField()
        anonymous_id = serializers.CharField()

    @extend_schema(
        summary="Erase a customer's personal data (GDPR erasure); orders stay, anonymised",
        request=None,
        responses=OutputSerializer,
    )
    def post(self, request, external_id: str):
        customer = get_object_or_404(Customer, external_id=external_id)
        customer = customer_erase(customer=customer, actor=request.user)
        return Response(self.OutputSerializer({"erased": True, "anonymous_id": customer.external_id}).data)
