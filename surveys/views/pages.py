"""Survey pages for the team: the list (with "new survey"), one survey's results and links,
the CSV export of its responses. Viewers read; marketers and admins change."""

import csv
import io

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from customers.models import Customer
from surveys.links import anonymous_link, survey_link
from surveys.models import QuestionKind, Survey
from surveys.selectors import survey_list, survey_responses_frame, survey_results
from surveys.services import survey_create, survey_delete


class SurveyNewForm(forms.Form):
    title_en = forms.CharField(label=gettext_lazy("Title (English)"), max_length=200, required=False)
    title_zh = forms.CharField(label=gettext_lazy("Title (Chinese)"), max_length=200, required=False)

    def clean(self):
        data = super().clean()
        if not (data.get("title_en", "").strip() or data.get("title_zh", "").strip()):
            raise forms.ValidationError(_("Give the survey a title in English or Chinese."))
        return data


def page_language() -> str:
    return get_language() or "en"


@login_required
@permission_required("surveys.view_survey", raise_exception=True)
def index(request):
    form = SurveyNewForm()
    status = 200
    if request.method == "POST":
        if not request.user.has_perm("surveys.add_survey"):
            raise PermissionDenied
        form = SurveyNewForm(request.POST)
        if form.is_valid():
            survey = survey_create(
                title_en=form.cleaned_data["title_en"], title_zh=form.cleaned_data["title_zh"], user=request.user
            )
            messages.success(request, _("Survey created: add its questions."))
            return redirect("surveys:edit", survey_id=survey.pk)
        status = 400
    language = page_language()
    surveys = list(survey_list())
    for survey in surveys:
        survey.display_title = survey.title(language)
    return render(request, "surveys/index.html", {"surveys": surveys, "form": form}, status=status)


def _chart_data(results) -> dict:
    """What static/js/surveys.js draws: one entry per NPS, CSAT and choice question."""
    charts = []
    for result in results.questions:
        question = result.question
        if question.kind == QuestionKind.NPS and result.nps and result.nps.responses:
            charts.append(
                {
                    "id": f"chart-{question.pk}",
                    "type": "nps",
                    "labels": [_("Detractors (0–6)"), _("Passives (7–8)"), _("Promoters (9–10)")],
                    "data": [result.nps.detractors, result.nps.passives, result.nps.promoters],
                }
            )
        elif question.kind == QuestionKind.CSAT and result.csat and result.csat.responses:
            charts.append(
                {
                    "id": f"chart-{question.pk}",
                    "type": "csat",
                    "labels": ["1", "2", "3", "4", "5"],
                    "data": [result.rating_counts.get(r, 0) for r in range(1, 6)],
                }
            )
        elif question.has_choices and result.weeks:
            charts.append(
                {
                    "id": f"chart-{question.pk}",
                    "type": "weekly",
                    "labels": [week.isoformat() for week in result.weeks],
                    "series": [
                        {"label": choice.label, "data": result.weekly.get(choice.choice_id, [])}
                        for choice in result.choices
                    ],
                }
            )
    return {"charts": charts, "labels": {"answers": _("Answers"), "week": _("Week starting")}}


@login_required
@permission_required("surveys.view_survey", raise_exception=True)
def detail(request, survey_id: int):
    """Status, links and results (NPS, CSAT, choices per week, free text with sentiment)."""
    survey = get_object_or_404(Survey, pk=survey_id)
    language = page_language()
    results = survey_results(survey=survey, language=language)
    context = {
        "survey": survey,
        "survey_title": survey.title(language),
        "results": results,
        "chart_data": _chart_data(results),
        "anonymous_link": request.build_absolute_uri(anonymous_link(survey)) if survey.anonymous_enabled else "",
    }
    return render(request, "surveys/detail.html", context)


@login_required
@permission_required("surveys.change_survey", raise_exception=True)
def personal_link(request, survey_id: int):
    """A customer's personalised link (htmx partial, or the detail page without JS)."""
    survey = get_object_or_404(Survey, pk=survey_id)
    external_id = request.GET.get("customer", "").strip()
    customer = Customer.objects.filter(external_id=external_id).first() if external_id else None
    context = {
        "survey": survey,
        "customer": customer,
        "external_id": external_id,
        "link": request.build_absolute_uri(survey_link(survey, customer)) if customer else "",
    }
    template = "surveys/partials/personal_link.html" if request.htmx else "surveys/personal_link_page.html"
    return render(request, template, context, status=200 if customer or not external_id else 404)


@login_required
@permission_required("surveys.view_survey", raise_exception=True)
def responses_csv(request, survey_id: int):
    """One row per response, one column per question."""
    survey = get_object_or_404(Survey, pk=survey_id)
    frame = survey_responses_frame(survey=survey)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, quoting=csv.QUOTE_MINIMAL)
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="survey-{survey.pk}-responses.csv"'
    return response


@login_required
@permission_required("surveys.delete_survey", raise_exception=True)
@require_POST
def delete(request, survey_id: int):
    survey = get_object_or_404(Survey, pk=survey_id)
    survey_delete(survey=survey, user=request.user)
    messages.success(request, _("Survey deleted."))
    return redirect("surveys:index")
