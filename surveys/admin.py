"""Admin for surveys, their questions and choices, and the responses with their answers."""

from django.contrib import admin

from surveys.models import Answer, Choice, Question, Response, Survey


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0
    fields = ["position", "kind", "text_en", "text_zh", "required"]
    show_change_link = True


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "opens_at", "closes_at", "anonymous_enabled", "created_at"]
    search_fields = ["title_en", "title_zh"]
    readonly_fields = ["public_token", "created_by", "created_at", "updated_at"]
    inlines = [QuestionInline]


class ChoiceInline(admin.TabularInline):
    model = Choice
    extra = 0
    fields = ["position", "label_en", "label_zh"]


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "survey", "kind", "required", "position"]
    list_filter = ["kind"]
    raw_id_fields = ["survey"]
    inlines = [ChoiceInline]


@admin.register(Choice)
class ChoiceAdmin(admin.ModelAdmin):
    list_display = ["__str__", "question", "position"]
    raw_id_fields = ["question"]


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0
    fields = ["question", "number", "choices", "text", "sentiment_label", "sentiment_score"]
    raw_id_fields = ["question"]


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ["pk", "survey", "customer", "channel", "language", "submitted_at", "updated_at"]
    list_filter = ["channel"]
    raw_id_fields = ["survey", "customer"]
    readonly_fields = ["nonce"]
    show_full_result_count = False
    inlines = [AnswerInline]


@admin.register(Answer)
class AnswerAdmin(admin.ModelAdmin):
    list_display = ["pk", "response", "question", "number", "sentiment_label"]
    list_filter = ["sentiment_label"]
    raw_id_fields = ["response", "question"]
    filter_horizontal = ["choices"]
