"""Clustering pages: the form that starts a run and the list of runs, one run's clusters
(profiles, charts, "save as segment"), and placing new customers in the applied run."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from segments.clustering import model
from segments.clustering.catalogue import CLUSTER_FEATURES, GROUP_LABELS, feature_label, traits_description
from segments.clustering.errors import ClusteringError
from segments.clustering.selectors import clustering_run_applied, clustering_runs
from segments.clustering.services import (
    cluster_default_name,
    cluster_segment_create,
    clustering_run_start,
    clusters_assign_new,
)
from segments.models import ClusteringRun, Segment


def _feature_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Checkbox groups; a callable, so the labels come in the language of each request."""
    groups: dict = {}
    for name, spec in CLUSTER_FEATURES.items():
        groups.setdefault(spec.group, []).append((name, capfirst(feature_label(name))))
    return [(str(GROUP_LABELS[group]), choices) for group, choices in groups.items()]


class ClusteringRunForm(forms.Form):
    features = forms.MultipleChoiceField(
        label=gettext_lazy("Features"), choices=_feature_choices, widget=forms.CheckboxSelectMultiple
    )
    algorithm = forms.ChoiceField(
        label=gettext_lazy("Algorithm"), choices=ClusteringRun.Algorithm.choices, initial="kmeans",
        widget=forms.RadioSelect,
    )  # fmt: skip
    k = forms.TypedChoiceField(
        label=gettext_lazy("Number of clusters"),
        choices=[("", gettext_lazy("Choose automatically (best silhouette, 2 to 8)"))]
        + [(k, str(k)) for k in range(model.MIN_K, model.MAX_K + 1)],
        coerce=int,
        empty_value=None,
        required=False,
    )
    scope = forms.ChoiceField(
        label=gettext_lazy("Customers"), choices=ClusteringRun.Scope.choices, initial="all", widget=forms.RadioSelect
    )
    segment = forms.ModelChoiceField(
        label=gettext_lazy("Segment"), queryset=Segment.objects.order_by("name"), required=False
    )
    sample_size = forms.IntegerField(label=gettext_lazy("Sample size"), min_value=3, required=False)
    include_non_buyers = forms.BooleanField(
        label=gettext_lazy("Include customers without orders"),
        required=False,
        help_text=gettext_lazy(
            "Off: only customers with at least one order are clustered. On: customers without orders too; "
            "their days since the last order count as one more than the longest, their average order value "
            "and coupon share as 0."
        ),
    )


def _start(form: ClusteringRunForm, user) -> ClusteringRun | None:
    data = form.cleaned_data
    try:
        return clustering_run_start(
            algorithm=data["algorithm"],
            features=data["features"],
            k=data["k"],
            scope=data["scope"],
            segment_id=data["segment"].pk if data["segment"] else None,
            sample_size=data["sample_size"],
            include_non_buyers=data["include_non_buyers"],
            user=user,
        )
    except ClusteringError as refusal:
        form.add_error(refusal.field if refusal.field in form.fields else None, refusal.message)
        return None


@login_required
@permission_required("segments.view_segment", raise_exception=True)
def clustering_index(request):
    """The form that starts a run, the applied run, and the latest runs (the list is an htmx
    partial that polls itself while a run is unfinished)."""
    runs = list(clustering_runs(limit=30))
    for run in runs:
        run.feature_labels = [capfirst(feature_label(name)) for name in run.features]
    listing = {"runs": runs, "runs_pending": any(not run.is_finished for run in runs)}
    if request.htmx and request.method == "GET":
        return render(request, "segments/partials/clustering_runs.html", listing)
    form = ClusteringRunForm()
    status = 200
    if request.method == "POST":
        if not request.user.has_perm("segments.add_segment"):
            raise PermissionDenied
        form = ClusteringRunForm(request.POST)
        if form.is_valid() and (run := _start(form, request.user)) is not None:
            messages.success(request, _("Clustering run #%(run)d started.") % {"run": run.pk})
            return redirect("segments:clustering-run", run_id=run.pk)
        status = 400
    context = {
        **listing,
        "form": form,
        "applied": clustering_run_applied(),
        "ward_limit": model.WARD_MAX_CUSTOMERS,
    }
    return render(request, "segments/clustering.html", context, status=status)


def _chart_data(run: ClusteringRun) -> dict:
    clusters = [_("Cluster %(number)d") % {"number": profile["number"]} for profile in run.profiles]
    return {
        "clusters": clusters,
        "sizes": run.sizes,
        "features": [capfirst(feature_label(name)) for name in run.features],
        "z": [[round(profile["z"][name], 3) for name in run.features] for profile in run.profiles],
        "silhouette": [{"k": int(k), "score": round(score, 4)} for k, score in sorted(
            run.silhouette_scores.items(), key=lambda item: int(item[0]))],
        "labels": {
            "customers": _("Customers"),
            "z": _("Standard deviations from the average"),
            "silhouette": _("Silhouette"),
            "k": _("Number of clusters"),
        },
    }  # fmt: skip


@login_required
@permission_required("segments.view_segment", raise_exception=True)
def clustering_run_detail(request, run_id: int):
    run = get_object_or_404(ClusteringRun.objects.select_related("job", "segment", "created_by"), pk=run_id)
    context: dict = {"run": run, "job": run.job, "features": [capfirst(feature_label(n)) for n in run.features]}
    if run.status == ClusteringRun.Status.SUCCEEDED:
        context["clusters"] = [
            {
                **profile,
                "description": traits_description(profile["traits"]),
                "default_name": cluster_default_name(run=run, cluster=profile["number"]),
                "share_percent": round(100 * profile["share"], 1),
                "cells": [{"mean": profile["means"][name], "z": f"{profile['z'][name]:+.2f}"} for name in run.features],
            }
            for profile in run.profiles
        ]
        context["chart_data"] = _chart_data(run)
        context["trait_threshold"] = model.TRAIT_THRESHOLD
    return render(request, "segments/clustering_run.html", context)


@login_required
@permission_required("segments.add_segment", raise_exception=True)
@require_POST
def cluster_segment_save(request, run_id: int, cluster: int):
    """Save one cluster as a static segment; the name field may be edited first."""
    get_object_or_404(ClusteringRun, pk=run_id)
    try:
        segment = cluster_segment_create(run_id=run_id, cluster=cluster, name=request.POST.get("name", ""),
                                         user=request.user)  # fmt: skip
    except ClusteringError as refusal:
        messages.error(request, refusal.message)
        return redirect("segments:clustering-run", run_id=run_id)
    messages.success(request, _("%(count)d customers are in the new segment.") % {"count": segment.size})
    return redirect("segments:detail", segment_id=segment.pk)


@login_required
@permission_required("segments.add_segment", raise_exception=True)
@require_POST
def clusters_assign(request):
    try:
        result = clusters_assign_new()
    except ClusteringError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(
            request,
            _("%(count)d new customers placed in the clusters of run #%(run)d.")
            % {"count": result.assigned, "run": result.run_id},
        )
    return redirect("segments:clustering")
