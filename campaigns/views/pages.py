"""Campaign pages: the list, the form (new and edit), one campaign's page, and the buttons
that move it through its states. Viewers and analysts read; marketers and admins change.

The form posts back to itself for everything: saving, and adding or removing a variant
row (``variant_action``), so it works without JavaScript; with htmx the variant buttons
swap only the variants block.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaigns.errors import CampaignError
from campaigns.forms import CampaignForm, VariantForm, VariantFormSet, error_place, variant_rows
from campaigns.models import Campaign
from campaigns.selectors import (
    campaign_audience_estimate,
    campaign_events,
    campaign_get,
    campaign_latest_dispatch,
    campaign_list,
    campaign_progress,
    tier_choices,
)
from campaigns.services import (
    VARIANT_KEYS,
    campaign_cancel,
    campaign_create,
    campaign_duplicate,
    campaign_launch,
    campaign_launch_problems,
    campaign_pause,
    campaign_resume,
    campaign_update,
)
from campaigns.views.partials import comparison_context, progress_context

PAGE_SIZE = 50
VARIANT_PREFIX = "variants"
VARIANT_PARTS = ("subject", "body_text", "body_html")


def _url_or_empty(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


@login_required
@permission_required("campaigns.view_campaign", raise_exception=True)
def index(request: HttpRequest) -> HttpResponse:
    """Every campaign with its status, channel, audience size and messages sent."""
    status = request.GET.get("status", "")
    if status not in Campaign.Status.values:
        status = ""
    campaigns = Paginator(campaign_list(status=status or None, search=request.GET.get("q", "").strip()), PAGE_SIZE)
    page = campaigns.get_page(request.GET.get("page"))
    context = {
        "campaigns": page.object_list,
        "page": page,
        "statuses": Campaign.Status.choices,
        "status": status,
        "search": request.GET.get("q", ""),
        "coupons_url": _url_or_empty("campaigns:coupons:index"),
        "tiers_url": _url_or_empty("campaigns:tiers:index"),
    }
    return render(request, "campaigns/index.html", context)


# --- the form -----------------------------------------------------------------------------


def _posted_rows(data: QueryDict) -> list[dict[str, Any]]:
    """The variant rows as posted (not validated), to re-show after adding or removing one."""
    try:
        total = int(data.get(f"{VARIANT_PREFIX}-TOTAL_FORMS", 0))
    except ValueError:
        total = 0
    fields = VariantForm.base_fields
    return [{name: data.get(f"{VARIANT_PREFIX}-{i}-{name}", "") for name in fields} for i in range(min(total, 26))]


def _initial_from_post(data: QueryDict) -> dict[str, Any]:
    multiple = {"audience_segments", "exclusion_segments", "tiers"}
    return {
        name: data.getlist(name) if name in multiple else data.get(name)
        for name in CampaignForm.base_fields
        if name in data or name in multiple
    }


def _variant_action(data: QueryDict, action: str) -> list[dict[str, Any]]:
    rows = _posted_rows(data)
    if action == "add" and len(rows) < len(VARIANT_KEYS):
        used = {str(row.get("key", "")).upper() for row in rows}
        key = next(letter for letter in VARIANT_KEYS if letter not in used)
        rows.append({"key": key, "weight": 1})
    elif action.startswith("remove-") and len(rows) > 1:
        index = int(action.split("-", 1)[1]) if action.split("-", 1)[1].isdigit() else -1
        if 0 <= index < len(rows):
            rows.pop(index)
    return rows


def _template_check(formset) -> bool:
    """Show template errors next to each variant part; True when there are none."""
    try:
        from campaigns.content.rendering import template_errors
    except ImportError:
        return True
    clean = True
    for form in formset.forms:
        for part in VARIANT_PARTS:
            text = (form.cleaned_data or {}).get(part) or ""
            if text.strip():
                for error in template_errors(text, html=part == "body_html"):
                    form.add_error(part, error)
                    clean = False
    return clean


def _form_context(form, formset, campaign: Campaign | None) -> dict[str, Any]:
    return {
        "form": form,
        "formset": formset,
        "campaign": campaign,
        "schedule_kinds": Campaign.ScheduleKind,
        "triggers": Campaign.Trigger,
    }


def _form_page(request: HttpRequest, campaign: Campaign | None) -> HttpResponse:
    tier_names = tier_choices()
    status = 200
    if request.method == "POST":
        action = request.POST.get("variant_action", "")
        if action:
            form = CampaignForm(initial=_initial_from_post(request.POST), tier_names=tier_names)
            formset = VariantFormSet(initial=_variant_action(request.POST, action), prefix=VARIANT_PREFIX)
            context = _form_context(form, formset, campaign)
            return render(request, "campaigns/form.html", context)
        form = CampaignForm(request.POST, tier_names=tier_names)
        formset = VariantFormSet(request.POST, prefix=VARIANT_PREFIX)
        if form.is_valid() & formset.is_valid() and _template_check(formset):
            values = {**form.service_values(), "variants": variant_rows(formset)}
            try:
                if campaign is None:
                    campaign = campaign_create(user=request.user, **values)
                    messages.success(request, _("Campaign saved as a draft."))
                else:
                    campaign = campaign_update(campaign_id=campaign.pk, user=request.user, **values)
                    messages.success(request, _("Campaign saved."))
            except CampaignError as refusal:
                error_place(refusal, form, formset)
            else:
                return redirect("campaigns:detail", campaign_id=campaign.pk)
        status = 400
    elif campaign is not None:
        form = CampaignForm(initial=CampaignForm.initial_from(campaign), tier_names=tier_names)
        formset = VariantFormSet(
            initial=[VariantForm.initial_from(v) for v in campaign.variants.order_by("key")], prefix=VARIANT_PREFIX
        )
    else:
        form = CampaignForm(tier_names=tier_names)
        formset = VariantFormSet(initial=[{"key": "A", "weight": 1}], prefix=VARIANT_PREFIX)
    return render(request, "campaigns/form.html", _form_context(form, formset, campaign), status=status)


@login_required
@permission_required("campaigns.add_campaign", raise_exception=True)
def new(request: HttpRequest) -> HttpResponse:
    return _form_page(request, None)


@login_required
@permission_required("campaigns.change_campaign", raise_exception=True)
def edit(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    if campaign.status != Campaign.Status.DRAFT:
        messages.error(request, _("Only a draft campaign can be edited: duplicate it to change it."))
        return redirect("campaigns:detail", campaign_id=campaign.pk)
    return _form_page(request, campaign)


# --- one campaign -------------------------------------------------------------------------


@login_required
@permission_required("campaigns.view_campaign", raise_exception=True)
def detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Status, the buttons that move it, progress of the latest send, the variants compared,
    and the audit trail."""
    try:
        campaign = campaign_get(campaign_id=campaign_id)
    except Campaign.DoesNotExist:
        raise Http404 from None
    is_draft = campaign.status == Campaign.Status.DRAFT
    context = {
        "campaign": campaign,
        "variants": list(campaign.variants.order_by("key")),
        "estimate": campaign_audience_estimate(campaign=campaign),
        "problems": campaign_launch_problems(campaign=campaign) if is_draft else [],
        "events": campaign_events(campaign_id=campaign.pk, limit=100),
        "dispatch": campaign_latest_dispatch(campaign_id=campaign.pk),
        **progress_context(campaign, campaign_progress(campaign_id=campaign.pk)),
        **comparison_context(campaign),
    }
    return render(request, "campaigns/detail.html", context)


def _act(request: HttpRequest, campaign_id: int, action, done_message: str) -> HttpResponse:
    get_object_or_404(Campaign, pk=campaign_id)
    try:
        action(campaign_id=campaign_id, user=request.user)
    except CampaignError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, done_message)
    return redirect("campaigns:detail", campaign_id=campaign_id)


@login_required
@permission_required("campaigns.change_campaign", raise_exception=True)
@require_POST
def launch(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    message = _("Sending started.") if campaign.schedule_kind == Campaign.ScheduleKind.NOW else _("Campaign scheduled.")
    return _act(request, campaign_id, campaign_launch, message)


@login_required
@permission_required("campaigns.change_campaign", raise_exception=True)
@require_POST
def pause(request: HttpRequest, campaign_id: int) -> HttpResponse:
    return _act(request, campaign_id, campaign_pause, _("Campaign paused."))


@login_required
@permission_required("campaigns.change_campaign", raise_exception=True)
@require_POST
def resume(request: HttpRequest, campaign_id: int) -> HttpResponse:
    return _act(request, campaign_id, campaign_resume, _("Campaign resumed."))


@login_required
@permission_required("campaigns.change_campaign", raise_exception=True)
@require_POST
def cancel(request: HttpRequest, campaign_id: int) -> HttpResponse:
    return _act(request, campaign_id, campaign_cancel, _("Campaign cancelled."))


@login_required
@permission_required("campaigns.add_campaign", raise_exception=True)
@require_POST
def duplicate(request: HttpRequest, campaign_id: int) -> HttpResponse:
    get_object_or_404(Campaign, pk=campaign_id)
    copy = campaign_duplicate(campaign_id=campaign_id, user=request.user)
    messages.success(request, _("A copy was saved as a draft: change what you need and launch it."))
    return redirect("campaigns:edit", campaign_id=copy.pk)
