"""Coupon pages: the pools with "new pool", one pool's terms, counts, code generation (with
the job progress bar for large counts), the codes export and its latest redemptions.
Viewers read; marketers and admins change. Each form works without JavaScript too."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from campaigns.coupons.api import codes_csv_response
from campaigns.coupons.codes import MAX_LENGTH, MIN_LENGTH
from campaigns.coupons.errors import CouponError
from campaigns.coupons.selectors import coupon_pool_counts, coupon_pool_list, coupon_pool_redemptions
from campaigns.coupons.services import GENERATE_MAX, coupon_codes_generate_start, coupon_pool_create
from campaigns.models import CouponPool
from jobs.models import Job


class CouponPoolForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    kind = forms.ChoiceField(
        label=gettext_lazy("Codes"), choices=CouponPool.Kind.choices, initial=CouponPool.Kind.UNIQUE,
        widget=forms.RadioSelect,
    )  # fmt: skip
    discount_kind = forms.ChoiceField(label=gettext_lazy("Discount"), choices=CouponPool.DiscountKind.choices)
    discount_value = forms.DecimalField(label=gettext_lazy("Discount value"), max_digits=12, decimal_places=2)
    min_spend = forms.DecimalField(
        label=gettext_lazy("Minimum spend"), max_digits=12, decimal_places=2, initial=0, required=False
    )
    expires_at = forms.DateTimeField(
        label=gettext_lazy("Expires"), required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )  # fmt: skip
    shared_code = forms.CharField(
        label=gettext_lazy("Shared code"), max_length=64, required=False,
        help_text=gettext_lazy("Shared pools: the one code everybody uses (once per customer)."),
    )  # fmt: skip
    prefix = forms.CharField(
        label=gettext_lazy("Code prefix"), max_length=16, required=False,
        help_text=gettext_lazy("Unique pools: e.g. SPRING- (letters, digits, '-' or '_')."),
    )  # fmt: skip
    code_length = forms.IntegerField(
        label=gettext_lazy("Random characters"), min_value=MIN_LENGTH, max_value=MAX_LENGTH, initial=10,
        required=False,
    )  # fmt: skip


class GenerateForm(forms.Form):
    count = forms.IntegerField(label=gettext_lazy("How many codes"), min_value=1, max_value=GENERATE_MAX, initial=1000)


@login_required
@permission_required("campaigns.view_couponpool", raise_exception=True)
def index(request: HttpRequest) -> HttpResponse:
    form = CouponPoolForm()
    status = 200
    if request.method == "POST":
        if not request.user.has_perm("campaigns.add_couponpool"):
            raise PermissionDenied
        form = CouponPoolForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                pool = coupon_pool_create(
                    name=data["name"],
                    kind=data["kind"],
                    discount_kind=data["discount_kind"],
                    discount_value=data["discount_value"],
                    min_spend=data["min_spend"] or 0,
                    expires_at=data["expires_at"],
                    shared_code=data["shared_code"],
                    prefix=data["prefix"],
                    code_length=data["code_length"] or 10,
                    user=request.user,
                )
            except CouponError as refusal:
                form.add_error(refusal.field if refusal.field in form.fields else None, refusal.message)
            else:
                messages.success(request, _("Coupon pool created."))
                return redirect("campaigns:coupons:detail", pool_id=pool.pk)
        status = 400
    return render(request, "campaigns/coupons/index.html", {"pools": coupon_pool_list()[:200], "form": form},
                  status=status)  # fmt: skip


def _detail_context(pool: CouponPool, **extra) -> dict:
    latest_job = Job.objects.filter(kind="coupons.generate", params__pool_id=pool.pk).order_by("-created_at").first()
    return {
        "pool": pool,
        "counts": coupon_pool_counts(pool_id=pool.pk),
        "redemptions": coupon_pool_redemptions(pool_id=pool.pk),
        "generate_form": GenerateForm(),
        "job": latest_job if latest_job and not latest_job.is_finished else None,
        **extra,
    }


@login_required
@permission_required("campaigns.view_couponpool", raise_exception=True)
def detail(request: HttpRequest, pool_id: int) -> HttpResponse:
    pool = get_object_or_404(CouponPool, pk=pool_id)
    return render(request, "campaigns/coupons/detail.html", _detail_context(pool))


@login_required
@permission_required("campaigns.add_coupon", raise_exception=True)
@require_POST
def generate(request: HttpRequest, pool_id: int) -> HttpResponse:
    """Generate codes now, or start a job for many; with htmx answer the generate panel."""
    pool = get_object_or_404(CouponPool, pk=pool_id)
    form = GenerateForm(request.POST)
    error, job, generated = "", None, 0
    if form.is_valid():
        try:
            started = coupon_codes_generate_start(pool=pool, count=form.cleaned_data["count"], user=request.user)
        except CouponError as refusal:
            error = refusal.message
        else:
            job, generated = started.job, started.generated
    else:
        error = "; ".join(message for errors in form.errors.values() for message in errors)
    if request.htmx:
        context = _detail_context(pool, job=job, generated=generated, error=error)
        return render(request, "campaigns/coupons/partials/generate.html", context, status=400 if error else 200)
    if error:
        messages.error(request, error)
    elif job:
        messages.success(request, _("Generating the codes: the progress bar shows how far it got."))
    else:
        messages.success(request, _("%(count)s codes generated.") % {"count": f"{generated:,}"})
    return redirect("campaigns:coupons:detail", pool_id=pool.pk)


@login_required
@permission_required("campaigns.view_coupon", raise_exception=True)
def codes_csv(request: HttpRequest, pool_id: int) -> HttpResponse:
    return codes_csv_response(get_object_or_404(CouponPool, pk=pool_id))
