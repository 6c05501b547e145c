"""Lifetime-value REST API: the latest fits with their parameters and holdout check, one
fit, and starting a fit (a Celery job that fits, checks and scores every customer)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.clv.jobs import ClvFitRequestError, clv_fit_start, clv_moment_day
from analytics.clv.model import TIME_UNIT_DAYS
from analytics.clv.selectors import clv_fits
from analytics.models import ClvFit

CLV_VIEW_PERMISSION = "analytics.view_clvfit"
# Analysts own the models (analytics.*), marketers the feature table the scores land in
# (segments.*): either may start a fit. Viewers hold neither.
CLV_FIT_PERMISSIONS = ("analytics.add_clvfit", "segments.change_customerfeatures")
MAX_FITS_LISTED = 50


def clv_fit_allowed(user) -> bool:
    return bool(user and user.is_authenticated and any(user.has_perm(p) for p in CLV_FIT_PERMISSIONS))


class ClvFitPermission(BasePermission):
    """Reading needs the analytics view permission; starting a fit, ``clv_fit_allowed``."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            return user.has_perm(CLV_VIEW_PERMISSION)
        return clv_fit_allowed(user)


def _fit_status(fit: ClvFit) -> str:
    if fit.job is not None:
        return fit.job.status
    return "failed" if fit.error else ("succeeded" if fit.parameters else "queued")


class ClvFitSerializer(serializers.Serializer):
    class Meta:
        ref_name = "ClvFit"

    id = serializers.IntegerField()
    status = serializers.CharField(help_text='"queued", "running", "succeeded" or "failed".')
    job_id = serializers.UUIDField(allow_null=True, help_text="Poll /jobs/<id>/progress/ for the progress bar.")
    created_at = serializers.DateTimeField()
    calibration_end = serializers.DateField()
    holdout_end = serializers.DateField(allow_null=True)
    time_unit = serializers.CharField()
    customers = serializers.IntegerField(help_text="Customers with a purchase on or before the calibration end.")
    scored = serializers.IntegerField(help_text="Customers whose scores were written into the feature table.")
    parameters = serializers.DictField(
        help_text="r, alpha, a, b, log_likelihood (BG/NBD), p, q, v (Gamma-Gamma), customers, repeat_customers, "
        "mean_value, frequency_value_correlation, as_of, horizon_days, probability_alive_mean, alive_share."
    )
    holdout = serializers.DictField(
        help_text="Predicted vs actual repeat purchases after the calibration end: predicted_total, "
        "actual_total, relative_error, mean_absolute_error, by_frequency (0..6, 7+); {} without a holdout."
    )
    error = serializers.CharField(help_text="Why the fit failed; empty otherwise.")


def _fit_data(fit: ClvFit) -> dict:
    return ClvFitSerializer(
        {
            "id": fit.pk,
            "status": _fit_status(fit),
            "job_id": fit.job_id,
            "created_at": fit.created_at,
            "calibration_end": clv_moment_day(fit.calibration_end),
            "holdout_end": clv_moment_day(fit.holdout_end) if fit.holdout_end else None,
            "time_unit": fit.time_unit,
            "customers": fit.customers,
            "scored": fit.scored,
            "parameters": fit.parameters,
            "holdout": fit.holdout,
            "error": fit.error,
        }
    ).data


class ClvFitListApi(APIView):
    """The latest lifetime-value fits (GET), or start a fit (POST: a Celery job)."""

    permission_classes = [ClvFitPermission]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ClvFitRequest"

        calibration_end = serializers.DateField(help_text="Last day the models learn from.")
        holdout_end = serializers.DateField(
            required=False, allow_null=True, default=None, help_text="Last day of the holdout check (optional)."
        )
        time_unit = serializers.ChoiceField(choices=list(TIME_UNIT_DAYS), default="week")
        score = serializers.BooleanField(default=True, help_text="Write the scores into the feature table.")

        def validate(self, data: dict) -> dict:
            if data["holdout_end"] is not None and data["holdout_end"] <= data["calibration_end"]:
                message = _("The holdout end must be after the calibration end.")
                raise serializers.ValidationError({"holdout_end": message})
            return data

    @extend_schema(
        summary="The latest lifetime-value fits",
        parameters=[OpenApiParameter("limit", int, description=f"How many, newest first (1..{MAX_FITS_LISTED}).")],
        responses={200: ClvFitSerializer(many=True)},
    )
    def get(self, request):
        try:
            limit = min(max(int(request.query_params.get("limit", 10)), 1), MAX_FITS_LISTED)
        except ValueError:
            limit = 10
        return Response([_fit_data(fit) for fit in clv_fits(limit=limit)])

    @extend_schema(
        summary="Fit BG/NBD + Gamma-Gamma, check on a holdout and score every customer",
        request=InputSerializer,
        responses={201: ClvFitSerializer},
        examples=[
            OpenApiExample(
                "39 weeks with a holdout",
                request_only=True,
                value={"calibration_end": "2025-03-31", "holdout_end": "2025-06-30", "time_unit": "week"},
            )
        ],
    )
    def post(self, request):
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            fit = clv_fit_start(**params.validated_data, user=request.user)
        except ClvFitRequestError as refused:
            raise serializers.ValidationError({refused.field: [refused.message]}) from refused
        fit = ClvFit.objects.select_related("job").get(pk=fit.pk)
        return Response(_fit_data(fit), status=201)


class ClvFitDetailApi(APIView):
    """One lifetime-value fit with its parameters and holdout check."""

    permission_classes = [ClvFitPermission]

    @extend_schema(summary="One lifetime-value fit", responses={200: ClvFitSerializer})
    def get(self, request, fit_id: int):
        fit = ClvFit.objects.select_related("job").filter(pk=fit_id).first()
        if fit is None:
            raise NotFound()
        return Response(_fit_data(fit))
