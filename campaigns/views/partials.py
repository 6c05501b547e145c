"""htmx fragments of the campaign pages: the live progress bar, the audience estimate and
template check of the form, and the preview rendered for one customer."""

from typing import Any

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from campaigns.forms import CampaignForm, VariantFormSet
from campaigns.models import Campaign, Dispatch, Variant
from campaigns.selectors import (
    Progress,
    audience_estimate,
    campaign_comparison,
    campaign_progress,
    customer_find,
    skip_reason_labels,
    variant_preview,
)

POLL_SECONDS = 2
TESTING_POLL_SECONDS = 60


def progress_context(campaign: Campaign, progress: Progress | None) -> dict[str, Any]:
    """The progress bar polls every 2 s while the campaign is sending and its latest send
    is not done."""
    polling = campaign.status == Campaign.Status.SENDING and (progress is None or not progress.done)
    # A test phase waits hours for its winner: a slow poll is enough to notice the release.
    testing = progress is not None and progress.dispatch_status == Dispatch.Status.TESTING
    return {
        "campaign": campaign,
        "progress": progress,
        "skipped_reasons": skip_reason_labels(progress.skipped_by_reason) if progress else [],
        "polling": polling,
        "poll_seconds": TESTING_POLL_SECONDS if testing else POLL_SECONDS,
    }


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _money(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def comparison_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """One table row per variant (then the holdout), numbers formatted for the page."""
    best = data.get("chance_to_be_best") or {}
    groups = list(data.get("variants") or [])
    if data.get("holdout"):
        groups.append(data["holdout"])
    return [
        {
            "key": group["key"],
            "name": group.get("name", ""),
            "is_holdout": group.get("kind") == "holdout",
            "is_control": group["key"] == data.get("control_key"),
            "recipients": group.get("recipients", 0),
            "sent": group.get("sent", 0),
            "opens": group.get("opens", 0),
            "open_rate": _percent(group.get("open_rate")),
            "clicks": group.get("clicks", 0),
            "click_rate": _percent(group.get("click_rate")),
            "converters": group.get("converters", 0),
            "conversion_rate": _percent(group.get("conversion_rate")),
            "revenue": _money(group.get("revenue")),
            "revenue_per_recipient": _money(group.get("revenue_per_recipient")),
            "chance_to_be_best": _percent(best.get(group["key"])) if group["key"] in best else "—",
        }
        for group in groups
    ]


def comparison_context(campaign: Campaign) -> dict[str, Any]:
    """The variant comparison as plain data, its table rows and the sentences to show: the
    verdict, each challenger against the control on the winner metric, and the lift
    against the holdout."""
    comparison = campaign_comparison(campaign_id=campaign.pk) if campaign.dispatches.exists() else None
    if comparison is None:
        return {"comparison": None, "comparison_rows": [], "comparison_sentences": []}
    data = comparison.as_dict()
    metric = data.get("winner_metric") or campaign.winner_metric
    sentences = [
        row["metrics"][metric]["sentence"]["text"]
        for row in data.get("comparisons") or []
        if metric in (row.get("metrics") or {})
    ]
    lift = data.get("holdout_lift") or {}
    for name in ("conversion", "revenue"):
        if lift.get(name):
            sentences.append(lift[name]["sentence"]["text"])
    verdict = (data.get("verdict") or {}).get("text", "")
    return {
        "comparison": data,
        "comparison_rows": comparison_rows(data),
        "comparison_sentences": [s for s in dict.fromkeys(sentences) if s and s != verdict],
        "verdict": verdict,
    }


@login_required
@permission_required("campaigns.view_campaign", raise_exception=True)
def progress(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """The progress fragment. When a poll finds the send finished it asks the page to
    reload once, so the status, buttons and comparison show the result."""
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    context = progress_context(campaign, campaign_progress(campaign_id=campaign.pk))
    response = render(request, "campaigns/partials/progress.html", context)
    if request.GET.get("polling") and not context["polling"] and request.htmx:
        response["HX-Refresh"] = "true"
    return response


@login_required
@permission_required("campaigns.view_campaign", raise_exception=True)
@require_POST
def audience(request: HttpRequest) -> HttpResponse:
    """The audience estimate of the form as it is being filled in."""
    form = CampaignForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    estimate = audience_estimate(
        channel=data.get("channel") or request.POST.get("channel", "email"),
        audience_segment_ids=[s.pk for s in data.get("audience_segments") or []],
        exclusion_segment_ids=[s.pk for s in data.get("exclusion_segments") or []],
        tiers=request.POST.getlist("tiers"),
        holdout_percent=data.get("holdout_percent") or 0,
    )
    return render(request, "campaigns/partials/audience.html", {"estimate": estimate})


@login_required
@permission_required("campaigns.view_campaign", raise_exception=True)
@require_POST
def template_check(request: HttpRequest) -> HttpResponse:
    """Errors of the one template text posted (the field that changed)."""
    name, text = next(
        ((name, value) for name, value in request.POST.items() if name.endswith(("subject", "body_text", "body_html"))),
        ("", ""),
    )
    errors: list[str] = []
    if text.strip():
        try:
            from campaigns.content.rendering import template_errors
        except ImportError:
            template_errors = None
        if template_errors is not None:
            errors = list(template_errors(text, html=name.endswith("body_html")))
    return render(request, "campaigns/partials/template_errors.html", {"errors": errors})


def _preview_answer(request: HttpRequest, variant: Variant | None, query: str) -> HttpResponse:
    customer = customer_find(query)
    context: dict[str, Any] = {"query": query, "customer": customer, "variant": variant}
    if customer is not None and variant is not None:
        context.update(variant_preview(variant=variant, customer=customer))
    status = 200 if customer is not None or not query.strip() else 404
    return render(request, "campaigns/partials/preview.html", context, status=status)


@login_required
@permission_required("campaigns.view_campaign", raise_exception=True)
def preview(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """A saved variant rendered for one customer (detail page)."""
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    variant = campaign.variants.filter(key=request.GET.get("variant", "")).first() or campaign.variants.first()
    return _preview_answer(request, variant, request.GET.get("customer", ""))


@login_required
@permission_required("campaigns.view_campaign", raise_exception=True)
@require_POST
def preview_draft(request: HttpRequest) -> HttpResponse:
    """A variant of the form being edited (not saved yet) rendered for one customer."""
    form = CampaignForm(request.POST)
    form.is_valid()
    formset = VariantFormSet(request.POST, prefix="variants")
    formset.is_valid()
    try:
        index = int(request.POST.get("preview_variant", "0"))
    except ValueError:
        index = 0
    rows = [f.cleaned_data for f in formset.forms if getattr(f, "cleaned_data", None)]
    variant = None
    if rows:
        row = rows[min(max(index, 0), len(rows) - 1)]
        pool = form.cleaned_data.get("coupon_pool")
        campaign = Campaign(
            name=form.cleaned_data.get("name") or "",
            channel=form.cleaned_data.get("channel") or "email",
            coupon_pool_id=pool.pk if pool else None,
        )
        variant = Variant(
            campaign=campaign,
            key=row.get("key") or "A",
            weight=row.get("weight") or 1,
            subject=row.get("subject") or "",
            body_text=row.get("body_text") or "",
            body_html=row.get("body_html") or "",
        )
    return _preview_answer(request, variant, request.POST.get("preview_customer", ""))
