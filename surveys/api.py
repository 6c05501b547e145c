"""Surveys REST API: build surveys, hand out links, take responses, read results and
export the responses. One view per operation; services do the writing."""

import csv
import io

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.models import Customer
from surveys.errors import AnswersInvalid, SurveyError
from surveys.links import anonymous_link, survey_link
from surveys.models import QuestionKind, ResponseChannel, Survey
from surveys.selectors import survey_list, survey_questions, survey_responses_frame, survey_results
from surveys.services import (
    ChoiceInput,
    QuestionInput,
    response_submit,
    survey_create,
    survey_delete,
    survey_questions_replace,
    survey_update,
)


class SurveyErrorSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True, help_text="The input at fault: a field, or a question id.")
    code = serializers.CharField(help_text="e.g. required, out_of_range, unknown_choice, survey_closed")
    message = serializers.CharField()


class SurveyErrorsSerializer(serializers.Serializer):
    errors = SurveyErrorSerializer(many=True)


def _refused(errors: list[SurveyError], status: int = 400) -> Response:
    return Response({"errors": [error.as_dict() for error in errors]}, status=status)


class ChoiceSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False, allow_null=True, help_text="Keep an existing option (PUT).")
    label_en = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    label_zh = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class QuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False, allow_null=True, help_text="Keep an existing question (PUT).")
    type = serializers.ChoiceField(
        choices=QuestionKind.choices, source="kind", help_text="nps (0–10), csat (1–5), single, multiple or text."
    )
    text_en = serializers.CharField(required=False, allow_blank=True, default="")
    text_zh = serializers.CharField(required=False, allow_blank=True, default="")
    required = serializers.BooleanField(default=True)
    choices = ChoiceSerializer(many=True, required=False, default=list)


def _question_inputs(rows: list[dict]) -> list[QuestionInput]:
    return [
        QuestionInput(
            kind=row["kind"],
            text_en=row["text_en"],
            text_zh=row["text_zh"],
            required=row["required"],
            id=row.get("id"),
            choices=[ChoiceInput(**choice) for choice in row["choices"]],
        )
        for row in rows
    ]


class SurveyOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "Survey"

    id = serializers.IntegerField()
    title_en = serializers.CharField()
    title_zh = serializers.CharField()
    intro_en = serializers.CharField()
    intro_zh = serializers.CharField()
    thank_you_en = serializers.CharField()
    thank_you_zh = serializers.CharField()
    opens_at = serializers.DateTimeField(allow_null=True)
    closes_at = serializers.DateTimeField(allow_null=True)
    anonymous_enabled = serializers.BooleanField()
    status = serializers.CharField(help_text="not_open, open or closed, now.")
    anonymous_link = serializers.SerializerMethodField()
    questions = serializers.SerializerMethodField()

    def get_anonymous_link(self, survey: Survey) -> str | None:
        return anonymous_link(survey) if survey.anonymous_enabled else None

    @extend_schema_field(QuestionSerializer(many=True))
    def get_questions(self, survey: Survey) -> list[dict]:
        return [
            {
                "id": q.pk,
                "type": q.kind,
                "text_en": q.text_en,
                "text_zh": q.text_zh,
                "required": q.required,
                "choices": [{"id": c.pk, "label_en": c.label_en, "label_zh": c.label_zh} for c in q.choices.all()],
            }
            for q in survey_questions(survey_id=survey.pk)
        ]


class SurveyFieldsSerializer(serializers.Serializer):
    title_en = serializers.CharField(max_length=200, required=False, allow_blank=True)
    title_zh = serializers.CharField(max_length=200, required=False, allow_blank=True)
    intro_en = serializers.CharField(required=False, allow_blank=True)
    intro_zh = serializers.CharField(required=False, allow_blank=True)
    thank_you_en = serializers.CharField(required=False, allow_blank=True)
    thank_you_zh = serializers.CharField(required=False, allow_blank=True)
    opens_at = serializers.DateTimeField(required=False, allow_null=True)
    closes_at = serializers.DateTimeField(required=False, allow_null=True)
    anonymous_enabled = serializers.BooleanField(required=False)


class SurveyListApi(APIView):
    """List surveys, or create one with its questions."""

    required_permissions = {"GET": "surveys.view_survey", "POST": "surveys.add_survey"}

    class InputSerializer(SurveyFieldsSerializer):
        class Meta:
            ref_name = "SurveyCreate"

        questions = QuestionSerializer(many=True, required=False, default=list)

        def validate(self, data):
            if not (data.get("title_en", "").strip() or data.get("title_zh", "").strip()):
                raise serializers.ValidationError({"title_en": "Give a title in English or Chinese."})
            return data

    @extend_schema(summary="List surveys", responses=SurveyOutputSerializer(many=True))
    def get(self, request):
        return Response(SurveyOutputSerializer(survey_list()[:500], many=True).data)

    @extend_schema(
        summary="Create a survey with its questions",
        request=InputSerializer,
        responses={201: SurveyOutputSerializer, 400: SurveyErrorsSerializer},
        examples=[
            OpenApiExample(
                "NPS, a choice and free text",
                request_only=True,
                value={
                    "title_en": "How did we do?",
                    "title_zh": "您的体验如何？",
                    "closes_at": "2026-12-31T23:59:00Z",
                    "questions": [
                        {
                            "type": "nps",
                            "text_en": "How likely are you to recommend us?",
                            "text_zh": "您向朋友推荐我们的可能性有多大？",
                        },
                        {
                            "type": "single",
                            "text_en": "How did you hear of us?",
                            "text_zh": "您是如何知道我们的？",
                            "choices": [
                                {"label_en": "A friend", "label_zh": "朋友"},
                                {"label_en": "An ad", "label_zh": "广告"},
                            ],
                        },
                        {"type": "text", "text_en": "Anything else?", "text_zh": "还有其他意见吗？", "required": False},
                    ],
                },
            )
        ],
    )
    def post(self, request):
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        questions = _question_inputs(data.pop("questions"))
        try:
            survey = survey_create(user=request.user, questions=questions, **data)
        except SurveyError as refusal:
            return _refused([refusal])
        return Response(SurveyOutputSerializer(survey).data, status=201)


class SurveyDetailApi(APIView):
    required_permissions = {
        "GET": "surveys.view_survey",
        "PATCH": "surveys.change_survey",
        "DELETE": "surveys.delete_survey",
    }

    class InputSerializer(SurveyFieldsSerializer):
        class Meta:
            ref_name = "SurveyUpdate"

    @extend_schema(summary="One survey with its questions", responses=SurveyOutputSerializer)
    def get(self, request, survey_id: int):
        return Response(SurveyOutputSerializer(get_object_or_404(Survey, pk=survey_id)).data)

    @extend_schema(
        summary="Change a survey's titles, texts, dates or anonymous link",
        request=InputSerializer,
        responses={200: SurveyOutputSerializer, 400: SurveyErrorsSerializer},
    )
    def patch(self, request, survey_id: int):
        survey = get_object_or_404(Survey, pk=survey_id)
        params = self.InputSerializer(data=request.data, partial=True)
        params.is_valid(raise_exception=True)
        try:
            survey = survey_update(survey=survey, user=request.user, **params.validated_data)
        except SurveyError as refusal:
            return _refused([refusal])
        return Response(SurveyOutputSerializer(survey).data)

    @extend_schema(summary="Delete a survey and its responses", responses={204: None})
    def delete(self, request, survey_id: int):
        survey_delete(survey=get_object_or_404(Survey, pk=survey_id), user=request.user)
        return Response(status=204)


class SurveyQuestionsApi(APIView):
    """Replace the survey's questions: send the whole list in order; questions (and options)
    with an ``id`` are kept and updated, the others created, those left out deleted."""

    required_permissions = {"PUT": "surveys.change_survey"}

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SurveyQuestionsReplace"

        questions = QuestionSerializer(many=True)

    @extend_schema(
        summary="Replace a survey's questions",
        request=InputSerializer,
        responses={200: SurveyOutputSerializer, 400: SurveyErrorsSerializer},
    )
    def put(self, request, survey_id: int):
        survey = get_object_or_404(Survey, pk=survey_id)
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            survey_questions_replace(
                survey=survey, questions=_question_inputs(params.validated_data["questions"]), user=request.user
            )
        except SurveyError as refusal:
            return _refused([refusal])
        return Response(SurveyOutputSerializer(survey).data)


class SurveyLinkApi(APIView):
    """A customer's personalised link (signed; the same customer always gets the same one)."""

    required_permissions = {"GET": "surveys.change_survey"}

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SurveyLink"

        customer = serializers.CharField(help_text="The customer's id (external id).")
        link = serializers.CharField()

    @extend_schema(
        summary="A customer's personalised survey link",
        responses=OutputSerializer,
        parameters=[OpenApiParameter("customer", str, required=True, description="Customer id")],
    )
    def get(self, request, survey_id: int):
        survey = get_object_or_404(Survey, pk=survey_id)
        customer = get_object_or_404(Customer, external_id=request.query_params.get("customer", ""))
        link = request.build_absolute_uri(survey_link(survey, customer))
        return Response(self.OutputSerializer({"customer": customer.external_id, "link": link}).data)


class AnswerInputSerializer(serializers.Serializer):
    question = serializers.IntegerField(help_text="Question id.")
    value = serializers.JSONField(
        help_text="NPS/CSAT: a number; single: a choice id; multiple: a list of choice ids; text: a string."
    )


class SurveyResponseSubmitApi(APIView):
    """Record a response on a customer's behalf (e.g. answers collected by a call centre),
    or an anonymous one. A customer's second response updates the first."""

    required_permissions = {"POST": "surveys.add_response"}

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SurveyResponseSubmit"

        customer = serializers.CharField(
            required=False, allow_null=True, default=None, help_text="Customer id; leave out for an anonymous response."
        )
        language = serializers.ChoiceField(choices=["en", "zh-hans"], default="en")
        answers = AnswerInputSerializer(many=True)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SurveyResponseSubmitted"

        response_id = serializers.IntegerField()
        created = serializers.BooleanField(help_text="False: the customer's earlier response was updated.")

    @extend_schema(
        summary="Submit a response",
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            200: OutputSerializer,
            400: SurveyErrorsSerializer,
            409: SurveyErrorsSerializer,
        },
        examples=[
            OpenApiExample(
                "NPS 9 and a comment",
                request_only=True,
                value={
                    "customer": "C000123",
                    "answers": [{"question": 11, "value": 9}, {"question": 12, "value": "Fast delivery"}],
                },
            )
        ],
    )
    def post(self, request, survey_id: int):
        survey = get_object_or_404(Survey, pk=survey_id)
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        customer = None
        if params.validated_data["customer"]:
            customer = get_object_or_404(Customer, external_id=params.validated_data["customer"])
        raw: dict[int, list[str]] = {}
        for answer in params.validated_data["answers"]:
            value = answer["value"]
            values = value if isinstance(value, list) else [value]
            raw[answer["question"]] = ["" if v is None else str(v) for v in values]
        try:
            result = response_submit(
                survey=survey,
                raw=raw,
                channel=ResponseChannel.API,
                customer=customer,
                language=params.validated_data["language"],
            )
        except AnswersInvalid as invalid:
            return _refused(invalid.errors)
        except SurveyError as refusal:
            return _refused([refusal], status=409)
        return Response(
            self.OutputSerializer({"response_id": result.response_id, "created": result.created}).data,
            status=201 if result.created else 200,
        )


class NpsSerializer(serializers.Serializer):
    responses = serializers.IntegerField()
    promoters = serializers.IntegerField()
    passives = serializers.IntegerField()
    detractors = serializers.IntegerField()
    promoters_percent = serializers.FloatField(allow_null=True)
    passives_percent = serializers.FloatField(allow_null=True)
    detractors_percent = serializers.FloatField(allow_null=True)
    nps = serializers.FloatField(allow_null=True, help_text="% promoters − % detractors (−100..100).")


class CsatSerializer(serializers.Serializer):
    responses = serializers.IntegerField()
    mean = serializers.FloatField(allow_null=True)
    satisfied = serializers.IntegerField(help_text="Answers of 4 or 5.")
    satisfied_percent = serializers.FloatField(allow_null=True)


class ChoiceCountSerializer(serializers.Serializer):
    choice_id = serializers.IntegerField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    percent = serializers.FloatField(allow_null=True, help_text="Of the respondents who answered the question.")


class TextAnswerSerializer(serializers.Serializer):
    response_id = serializers.IntegerField()
    customer_external_id = serializers.CharField(allow_null=True)
    text = serializers.CharField()
    sentiment_label = serializers.CharField(help_text="positive, neutral, negative; empty if not scored.")
    sentiment_score = serializers.FloatField(allow_null=True, help_text="−1..1")
    answered_at = serializers.DateTimeField()


class WeeklySerializer(serializers.Serializer):
    week = serializers.DateField(help_text="Monday of the week.")
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="Choice id → answers that week.")


class QuestionResultSerializer(serializers.Serializer):
    question = serializers.IntegerField()
    type = serializers.CharField(help_text="nps, csat, single, multiple or text.")
    text = serializers.CharField()
    answered = serializers.IntegerField()
    rating_counts = serializers.DictField(child=serializers.IntegerField(), help_text="NPS/CSAT: score → answers.")
    nps = NpsSerializer(allow_null=True)
    csat = CsatSerializer(allow_null=True)
    choices = ChoiceCountSerializer(many=True)
    weekly = WeeklySerializer(many=True)
    texts = TextAnswerSerializer(many=True)


class SurveyResultsApi(APIView):
    required_permissions = {"GET": "surveys.view_survey"}

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SurveyResults"

        survey = serializers.IntegerField()
        responses = serializers.IntegerField()
        questions = QuestionResultSerializer(many=True)

    @extend_schema(
        summary="Survey results: NPS, CSAT, choices per week, free text with sentiment",
        responses=OutputSerializer,
        parameters=[OpenApiParameter("language", str, description="en (default) or zh-hans: labels")],
    )
    def get(self, request, survey_id: int):
        survey = get_object_or_404(Survey, pk=survey_id)
        language = request.query_params.get("language", "en")
        results = survey_results(survey=survey, language=language)
        questions = [
            {
                "question": r.question.pk,
                "type": r.question.kind,
                "text": r.text,
                "answered": r.answered,
                "rating_counts": {str(score): count for score, count in sorted(r.rating_counts.items())},
                "nps": r.nps,
                "csat": r.csat,
                "choices": r.choices,
                "texts": r.texts,
                "weekly": [
                    {"week": week, "counts": {str(choice): series[i] for choice, series in r.weekly.items()}}
                    for i, week in enumerate(r.weeks)
                ],
            }
            for r in results.questions
        ]
        payload = {"survey": survey.pk, "responses": results.responses, "questions": questions}
        return Response(self.OutputSerializer(payload).data)


class CsvRenderer(BaseRenderer):
    """Lets clients ask for ``Accept: text/csv``; the view answers the CSV itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, (bytes, str)) else str(data)


class SurveyResponsesCsvApi(APIView):
    required_permissions = {"GET": "surveys.view_survey"}
    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        summary="Export the responses as CSV (one row per response, one column per question)",
        responses={(200, "text/csv"): bytes},
    )
    def get(self, request, survey_id: int):
        survey = get_object_or_404(Survey, pk=survey_id)
        buffer = io.StringIO()
        survey_responses_frame(survey=survey).to_csv(buffer, index=False, quoting=csv.QUOTE_MINIMAL)
        response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="survey-{survey.pk}-responses.csv"'
        return response
