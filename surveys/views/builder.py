"""The survey builder: the survey's settings and its questions, edited with htmx.

Every button of a question card posts the card's form (so unsaved text is kept) to its own
URL via ``formaction``: with htmx the view answers the re-rendered card or question list;
without JavaScript it redirects back to the builder, so the page works either way.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from surveys.errors import SurveyError
from surveys.models import Choice, Question, QuestionKind, Survey
from surveys.selectors import survey_questions
from surveys.services import (
    choice_add,
    choice_delete,
    choice_move,
    question_add,
    question_delete,
    question_move,
    question_update,
    survey_update,
)


class SurveySettingsForm(forms.ModelForm):
    class Meta:
        model = Survey
        fields = [
            "title_en",
            "title_zh",
            "intro_en",
            "intro_zh",
            "thank_you_en",
            "thank_you_zh",
            "opens_at",
            "closes_at",
            "anonymous_enabled",
        ]
        widgets = {
            "intro_en": forms.Textarea(attrs={"rows": 2}),
            "intro_zh": forms.Textarea(attrs={"rows": 2}),
            "thank_you_en": forms.Textarea(attrs={"rows": 2}),
            "thank_you_zh": forms.Textarea(attrs={"rows": 2}),
            "opens_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "closes_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        }


class QuestionAddForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Question type"), choices=QuestionKind.choices)


def _questions_context(survey: Survey) -> dict:
    return {"survey": survey, "questions": survey_questions(survey_id=survey.pk), "kinds": QuestionKind.choices}


def _questions_answer(request: HttpRequest, survey: Survey) -> HttpResponse:
    if request.htmx:
        return render(request, "surveys/partials/questions.html", _questions_context(survey))
    return redirect("surveys:edit", survey_id=survey.pk)


def _card_answer(request: HttpRequest, question: Question) -> HttpResponse:
    if request.htmx:
        question = next(q for q in survey_questions(survey_id=question.survey_id) if q.pk == question.pk)
        return render(
            request,
            "surveys/partials/question.html",
            {"survey": question.survey, "question": question, "kinds": QuestionKind.choices},
        )
    return redirect(f"{_builder_url(question.survey_id)}#question-{question.pk}")


def _builder_url(survey_id: int) -> str:
    return reverse("surveys:edit", kwargs={"survey_id": survey_id})


@login_required
@permission_required("surveys.change_survey", raise_exception=True)
def edit(request: HttpRequest, survey_id: int) -> HttpResponse:
    survey = get_object_or_404(Survey, pk=survey_id)
    form = SurveySettingsForm(instance=survey)
    status = 200
    if request.method == "POST":
        form = SurveySettingsForm(request.POST, instance=Survey.objects.get(pk=survey.pk))
        if form.is_valid():
            try:
                survey_update(
                    survey=survey,
                    user=request.user,
                    **{name: form.cleaned_data[name] for name in SurveySettingsForm.Meta.fields},
                )
            except SurveyError as refusal:
                form.add_error(refusal.field, refusal.message)
            else:
                messages.success(request, _("Survey saved."))
                return redirect("surveys:edit", survey_id=survey.pk)
        status = 400
    context = {**_questions_context(survey), "form": form, "add_form": QuestionAddForm()}
    return render(request, "surveys/builder.html", context, status=status)


def _question(survey_id: int, question_id: int) -> Question:
    return get_object_or_404(Question.objects.select_related("survey"), pk=question_id, survey_id=survey_id)


def _save_card(request: HttpRequest, question: Question) -> None:
    """Store what the card's form holds: texts, required flag, option labels."""
    if "text_en" not in request.POST:
        return
    labels = {
        choice.pk: (
            request.POST.get(f"choice-{choice.pk}-en", choice.label_en),
            request.POST.get(f"choice-{choice.pk}-zh", choice.label_zh),
        )
        for choice in question.choices.all()
    }
    question_update(
        question=question,
        text_en=request.POST.get("text_en", ""),
        text_zh=request.POST.get("text_zh", ""),
        required=request.POST.get("required") == "on",
        choice_labels=labels,
    )


@login_required
@permission_required("surveys.change_survey", raise_exception=True)
@require_POST
def question_new(request: HttpRequest, survey_id: int) -> HttpResponse:
    survey = get_object_or_404(Survey, pk=survey_id)
    form = QuestionAddForm(request.POST)
    if form.is_valid():
        question_add(survey=survey, kind=form.cleaned_data["kind"])
    return _questions_answer(request, survey)


@login_required
@permission_required("surveys.change_survey", raise_exception=True)
@require_POST
def question_save(request: HttpRequest, survey_id: int, question_id: int) -> HttpResponse:
    question = _question(survey_id, question_id)
    _save_card(request, question)
    if not request.htmx:
        messages.success(request, _("Question saved."))
    return _card_answer(request, question)


@login_required
@permission_required("surveys.change_survey", raise_exception=True)
@require_POST
def question_remove(request: HttpRequest, survey_id: int, question_id: int) -> HttpResponse:
    question = _question(survey_id, question_id)
    question_delete(question=question)
    return _questions_answer(request, question.survey)


@login_required
@permission_required("surveys.change_survey", raise_exception=True)
@require_POST
def question_reorder(request: HttpRequest, survey_id: int, question_id: int, direction: str) -> HttpResponse:
    question = _question(survey_id, question_id)
    _save_card(request, question)
    question_move(question=question, offset=-1 if direction == "up" else 1)
    return _questions_answer(request, question.survey)


@login_required
@permission_required("surveys.change_survey", raise_exception=True)
@require_POST
def choice_new(request: HttpRequest, survey_id: int, question_id: int) -> HttpResponse:
    question = _question(survey_id, question_id)
    _save_card(request, question)
    choice_add(question=question)
    return _card_answer(request, question)


def _choice(question: Question, choice_id: int) -> Choice:
    return get_object_or_404(Choice, pk=choice_id, question=question)


@login_required
@permission_required("surveys.change_survey", raise_exception=True)
@require_POST
def choice_remove(request: HttpRequest, survey_id: int, question_id: int, choice_id: int) -> HttpResponse:
    question = _question(survey_id, question_id)
    choice = _choice(question, choice_id)
    _save_card(request, question)
    choice_delete(choice=choice)
    return _card_answer(request, question)


@login_required
@permission_required("surveys.change_survey", raise_exception=True)
@require_POST
def choice_reorder(
    request: HttpRequest, survey_id: int, question_id: int, choice_id: int, direction: str
) -> HttpResponse:
    question = _question(survey_id, question_id)
    choice = _choice(question, choice_id)
    _save_card(request, question)
    choice_move(choice=choice, offset=-1 if direction == "up" else 1)
    return _card_answer(request, question)
