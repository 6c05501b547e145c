from django.contrib import admin

from analytics.models import ScoredText, SentimentModel


@admin.register(SentimentModel)
class SentimentModelAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "active", "trained_at", "rated_reviews", "held_out_accuracy", "external_accuracy")
    list_filter = ("kind", "active")
    readonly_fields = ("trained_at", "metrics")
    exclude = ("pipeline",)


@admin.register(ScoredText)
class ScoredTextAdmin(admin.ModelAdmin):
    list_display = ("source", "source_id", "customer", "sku", "category", "label", "score", "created_at")
    list_filter = ("source", "label", "language")
    search_fields = ("sku__exact", "category__exact")
    raw_id_fields = ("customer", "model")
    show_full_result_count = False
