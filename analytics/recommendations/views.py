"""The recommendations page: CF against popularity on the time split, "Fit now" with a
progress bar, the strongest association rules, and one customer's recommendations."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from analytics.recommendations.api import VIEW_PERMISSION, recommendations_fit_allowed
from analytics.recommendations.selectors import (
    association_rules_top,
    customer_recommendations,
    recommendation_run_active,
    recommendation_runs,
)
from analytics.recommendations.services import FIT_JOB_KIND, recommendations_fit_start
from customers.models import Customer
from jobs.models import Job


def _lookup(query: str) -> dict:
    """The customer named by pk, external id or email, and their recommendations."""
    query = query.strip()
    if not query:
        return {"query": ""}
    match = Q(external_id=query) | Q(email=query)  # both indexed
    if query.isdigit():
        match |= Q(pk=int(query))
    customer = Customer.objects.filter(match).order_by("pk").first()
    products = customer_recommendations(customer.pk, 10) if customer else []
    return {"query": query, "customer": customer, "products": products}


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def recommendations_page(request):
    run = recommendation_run_active()
    context = {
        "run": run,
        "figures": [
            {"name": name, **run.figures[key]}
            for key, name in (("cf", "cf"), ("popularity", "popularity"))
            if run and key in run.figures
        ],
        "rules": association_rules_top(limit=25),
        "runs": recommendation_runs(limit=10),
        "job": Job.objects.filter(kind=FIT_JOB_KIND).order_by("-created_at").first(),
        "can_fit": recommendations_fit_allowed(request.user),
        "lookup": _lookup(request.GET.get("customer", "")),
    }
    return render(request, "analytics/recommendations.html", context)


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def recommendations_customer(request):
    """One customer's recommendations (htmx partial; the full page without JS)."""
    if not request.htmx:
        return recommendations_page(request)
    return render(request, "analytics/partials/recommendations_customer.html",
                  {"lookup": _lookup(request.GET.get("customer", ""))})  # fmt: skip


@login_required
@require_POST
def recommendations_fit(request):
    """Start the fit job; with htmx answer the progress bar, else back to the page."""
    if not recommendations_fit_allowed(request.user):
        raise PermissionDenied
    job = recommendations_fit_start(user=request.user)
    job.refresh_from_db()
    if request.htmx:
        return render(request, "jobs/partials/progress.html", {"job": job})
    return redirect("analytics:recommendations")
