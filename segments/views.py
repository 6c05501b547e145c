"""Segment pages: the list (with a static-segment upload), one segment's detail, and the
rule builder with its live preview."""

import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from segments.models import Segment
from segments.rules.catalogue import rule_catalogue
from segments.rules.schema import RuleInvalid
from segments.selectors import (
    product_categories_by_size,
    segment_members,
    segment_membership_history,
    segment_preview,
    segment_size_history,
)
from segments.services import (
    INTEREST_DEFAULT_CATEGORIES,
    INTEREST_MIN_VIEWS,
    INTEREST_WINDOW_DAYS,
    interest_segments_create,
    rfm_segments_create,
    segment_create,
    segment_create_from_list,
    segment_freeze,
    segment_refresh,
    segment_update,
)
from segments.tasks import segment_refresh_task


class SegmentUploadForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    identifiers = forms.CharField(
        label=gettext_lazy("Customer ids or emails, one per line"),
        widget=forms.Textarea(attrs={"rows": 6}),
    )


@login_required
@permission_required("segments.view_segment", raise_exception=True)
def index(request):
    form = SegmentUploadForm()
    if request.method == "POST":
        if not request.user.has_perm("segments.add_segment"):
            raise PermissionDenied
        form = SegmentUploadForm(request.POST)
        if form.is_valid():
            upload = segment_create_from_list(
                name=form.cleaned_data["name"],
                identifiers=form.cleaned_data["identifiers"].splitlines(),
                user=request.user,
            )
            messages.success(request, _("%(count)d customers are in the new segment.") % {"count": upload.matched})
            if upload.unknown:
                shown = ", ".join(upload.unknown[:20])
                messages.warning(
                    request,
                    _("%(count)d identifiers match no customer: %(list)s")
                    % {"count": len(upload.unknown), "list": shown + (" …" if len(upload.unknown) > 20 else "")},
                )
            return redirect("segments:detail", segment_id=upload.segment.pk)
    segments = Segment.objects.order_by("name")
    return render(
        request,
        "segments/index.html",
        {
            "segments": segments,
            "form": form,
            "interest_categories": product_categories_by_size(),
            "interest_rule": {
                "views": INTEREST_MIN_VIEWS,
                "days": INTEREST_WINDOW_DAYS,
                "top": INTEREST_DEFAULT_CATEGORIES,
            },
        },
    )


@login_required
@permission_required("segments.view_segment", raise_exception=True)
def detail(request, segment_id: int):
    segment = get_object_or_404(Segment, pk=segment_id)
    history = [
        {"at": point["at"].isoformat(), "size": point["size"]} for point in segment_size_history(segment_id=segment.pk)
    ]
    context = {
        "segment": segment,
        "size_history": history,
        "changes": segment_membership_history(segment_id=segment.pk, limit=20),
        "members": segment_members(segment_id=segment.pk)[:20],
        "rule_json": json.dumps(segment.rule, indent=2, ensure_ascii=False) if segment.rule else "",
    }
    return render(request, "segments/detail.html", context)


@login_required
@permission_required("segments.change_segment", raise_exception=True)
@require_POST
def refresh(request, segment_id: int):
    segment = get_object_or_404(Segment, pk=segment_id)
    result = segment_refresh(segment_id=segment.pk)
    messages.success(
        request,
        _("%(size)d members: %(entered)d entered, %(left)d left.")
        % {"size": result.size, "entered": result.entered, "left": result.left},
    )
    return redirect("segments:detail", segment_id=segment.pk)


@login_required
@permission_required("segments.change_segment", raise_exception=True)
@require_POST
def freeze(request, segment_id: int):
    segment = segment_freeze(segment=get_object_or_404(Segment, pk=segment_id), user=request.user)
    messages.success(request, _("The segment is now a static snapshot."))
    return redirect("segments:detail", segment_id=segment.pk)


class SegmentRuleForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    description = forms.CharField(label=gettext_lazy("Description"), required=False)
    rule = forms.JSONField(widget=forms.Textarea(attrs={"hidden": True}))


@login_required
@permission_required("segments.add_segment", raise_exception=True)
def builder(request, segment_id: int | None = None):
    """Build or edit a dynamic segment's rule, with the live preview beside it."""
    segment = get_object_or_404(Segment, pk=segment_id, kind=Segment.Kind.DYNAMIC) if segment_id else None
    rule_errors = []
    if request.method == "POST":
        form = SegmentRuleForm(request.POST)
        if form.is_valid():
            try:
                if segment is None:
                    segment = segment_create(user=request.user, **form.cleaned_data)
                else:
                    segment = segment_update(segment=segment, user=request.user, **form.cleaned_data)
            except RuleInvalid as invalid:
                rule_errors = invalid.errors
            else:
                segment_id = segment.pk
                transaction.on_commit(lambda: segment_refresh_task.delay(segment_id))
                messages.success(request, _("Segment saved; its members are being computed."))
                return redirect("segments:detail", segment_id=segment.pk)
    else:
        source = segment or Segment.objects.filter(pk=request.GET.get("from") or 0).first()
        initial = {"rule": source.rule if source and source.rule else None}
        if segment:
            initial |= {"name": segment.name, "description": segment.description}
        elif source:
            initial["name"] = _("Copy of %(name)s") % {"name": source.name}
        form = SegmentRuleForm(initial=initial)
    context = {
        "form": form,
        "segment": segment,
        "catalogue": rule_catalogue(exclude_segment_id=segment.pk if segment else None),
        "rule_errors": rule_errors,
    }
    return render(request, "segments/builder.html", context)


@login_required
@permission_required("segments.view_segment", raise_exception=True)
@require_POST
def preview(request):
    """The audience size and a sample for the rule being edited (htmx partial)."""
    try:
        rule = json.loads(request.POST.get("rule") or "null")
        result = segment_preview(rule=rule, sample_size=20)
    except (ValueError, RuleInvalid) as problem:
        errors = problem.errors if isinstance(problem, RuleInvalid) else []
        return render(request, "segments/partials/preview.html", {"errors": errors, "invalid": True})
    return render(request, "segments/partials/preview.html", {"preview": result})


@login_required
@permission_required("segments.add_segment", raise_exception=True)
@require_POST
def rfm_segments(request):
    """Add the standard RFM segments and compute their members."""
    created = rfm_segments_create(user=request.user)
    for segment in created:
        transaction.on_commit(lambda segment_id=segment.pk: segment_refresh_task.delay(segment_id))
    messages.success(request, _("%(count)d RFM segments added.") % {"count": len(created)})
    return redirect("segments:index")


@login_required
@permission_required("segments.add_segment", raise_exception=True)
@require_POST
def interest_segments(request):
    """Add "Interested in <category>" segments for the picked categories (none picked: the
    largest ones) and compute their members."""
    created = interest_segments_create(categories=request.POST.getlist("categories") or None, user=request.user)
    for segment in created:
        transaction.on_commit(lambda segment_id=segment.pk: segment_refresh_task.delay(segment_id))
    if created:
        messages.success(request, _("%(count)d interest segments added.") % {"count": len(created)})
    else:
        messages.info(request, _("Those interest segments exist already."))
    return redirect("segments:index")
