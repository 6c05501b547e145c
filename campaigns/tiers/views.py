"""The member tiers page: the definitions (added and edited in place with htmx), the
standard set, customers per tier, the latest tier changes, and "recalculate now" with the
job's progress bar. Every form also works without JavaScript (the view redirects back to
the page, or shows it again with the errors)."""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from campaigns.models import Tier
from campaigns.tiers.errors import TierError
from campaigns.tiers.selectors import tier_changes_latest, tier_distribution, tier_list, tiers_recalculation_latest
from campaigns.tiers.services import (
    NAME_MAX_LENGTH,
    RANK_MAX,
    STANDARD_WINDOW_DAYS,
    WINDOW_MAX_DAYS,
    WINDOW_MIN_DAYS,
    tier_create,
    tier_delete,
    tier_update,
    tiers_create_standard,
    tiers_recalculate_start,
)

PAGE = "campaigns/tiers/index.html"
DEFINITIONS = "campaigns/tiers/partials/definitions.html"


class TierForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=NAME_MAX_LENGTH)
    rank = forms.IntegerField(
        label=gettext_lazy("Rank"), min_value=0, max_value=RANK_MAX, help_text=gettext_lazy("Higher rank wins.")
    )
    metric = forms.ChoiceField(label=gettext_lazy("Measured by"), choices=Tier.Metric.choices)
    threshold = forms.DecimalField(
        label=gettext_lazy("Threshold"),
        max_digits=14,
        decimal_places=2,
        help_text=gettext_lazy("Spend, or number of orders, to reach over the window."),
    )
    window_days = forms.IntegerField(
        label=gettext_lazy("Rolling window (days)"),
        min_value=WINDOW_MIN_DAYS,
        max_value=WINDOW_MAX_DAYS,
        initial=STANDARD_WINDOW_DAYS,
    )
    description = forms.CharField(label=gettext_lazy("Description"), required=False, max_length=500)

    @classmethod
    def for_tier(cls, tier: Tier) -> "TierForm":
        threshold = tier.threshold
        if tier.metric == Tier.Metric.ORDERS:
            threshold = Decimal(int(threshold))
        return cls(
            initial={
                "name": tier.name,
                "rank": tier.rank,
                "metric": tier.metric,
                "threshold": threshold,
                "window_days": tier.window_days,
                "description": tier.description,
            }
        )


def _next_rank() -> int:
    last = tier_list().last()
    return last.rank + 1 if last is not None else 1


def _definitions_context(
    form: TierForm | None = None, editing: Tier | None = None, refusal: TierError | None = None
) -> dict:
    if form is None:
        form = TierForm(initial={"rank": _next_rank(), "window_days": STANDARD_WINDOW_DAYS})
    return {"tiers": tier_list(), "form": form, "editing": editing, "refusal": refusal}


def _page_context(form: TierForm | None = None, editing: Tier | None = None, refusal: TierError | None = None) -> dict:
    return {
        **_definitions_context(form, editing, refusal),
        "distribution": tier_distribution(),
        "changes": tier_changes_latest(limit=20),
        "job": tiers_recalculation_latest(),
    }


def _answer(
    request: HttpRequest,
    *,
    form: TierForm | None = None,
    editing: Tier | None = None,
    refusal: TierError | None = None,
) -> HttpResponse:
    """After a change: the definitions fragment (htmx), or back to the page; a refused
    change shows the definitions again with the reason."""
    if refusal is not None or (form is not None and form.errors):
        if request.htmx:  # htmx swaps only 2xx answers: the errors come back in the fragment
            return render(request, DEFINITIONS, _definitions_context(form, editing, refusal))
        return render(request, PAGE, _page_context(form, editing, refusal), status=400)
    if request.htmx:
        return render(request, DEFINITIONS, _definitions_context())
    return redirect("campaigns:tiers:index")


def _refusal_to_form(form: TierForm, refusal: TierError) -> None:
    form.add_error(refusal.field if refusal.field in form.fields else None, refusal.message)


@login_required
@permission_required("campaigns.view_tier", raise_exception=True)
def index(request: HttpRequest) -> HttpResponse:
    return render(request, PAGE, _page_context())


@login_required
@permission_required("campaigns.add_tier", raise_exception=True)
@require_POST
def tier_new(request: HttpRequest) -> HttpResponse:
    form = TierForm(request.POST)
    if form.is_valid():
        try:
            tier_create(user=request.user, **form.cleaned_data)
        except TierError as refusal:
            _refusal_to_form(form, refusal)
        else:
            if not request.htmx:
                messages.success(request, _("Tier added. Customers get it at the next recalculation."))
    return _answer(request, form=form)


@login_required
@permission_required("campaigns.change_tier", raise_exception=True)
def tier_edit(request: HttpRequest, tier_id: int) -> HttpResponse:
    """GET: the definitions with this tier's form (htmx: the fragment). POST: save."""
    tier = get_object_or_404(Tier, pk=tier_id)
    if request.method != "POST":
        form = TierForm.for_tier(tier)
        if request.htmx:
            return render(request, DEFINITIONS, _definitions_context(form, tier))
        return render(request, PAGE, _page_context(form, tier))
    form = TierForm(request.POST)
    if form.is_valid():
        try:
            tier_update(tier=tier, user=request.user, **form.cleaned_data)
        except TierError as refusal:
            _refusal_to_form(form, refusal)
        else:
            if not request.htmx:
                messages.success(request, _("Tier saved."))
    return _answer(request, form=form, editing=tier)


@login_required
@permission_required("campaigns.delete_tier", raise_exception=True)
@require_POST
def tier_remove(request: HttpRequest, tier_id: int) -> HttpResponse:
    tier_delete(tier=get_object_or_404(Tier, pk=tier_id), user=request.user)
    if not request.htmx:
        messages.success(request, _("Tier deleted. Its customers move at the next recalculation."))
    return _answer(request)


@login_required
@permission_required("campaigns.add_tier", raise_exception=True)
@require_POST
def tiers_standard(request: HttpRequest) -> HttpResponse:
    try:
        created = tiers_create_standard(user=request.user)
    except TierError as refusal:
        return _answer(request, refusal=refusal)
    if not request.htmx:
        if created:
            names = ", ".join(tier.name for tier in created)
            messages.success(request, _("Standard tiers added: %(names)s.") % {"names": names})
        else:
            messages.info(request, _("The standard tiers are already there."))
    return _answer(request)


@login_required
@permission_required("campaigns.change_tier", raise_exception=True)
@require_POST
def recalculate(request: HttpRequest) -> HttpResponse:
    """Start the recalculation job; with htmx answer its progress bar."""
    job = tiers_recalculate_start(user=request.user)
    job.refresh_from_db()
    if request.htmx:
        return render(request, "jobs/partials/progress.html", {"job": job})
    messages.success(request, _("Recalculation started."))
    return redirect("campaigns:tiers:index")
