from django.contrib import admin

from analytics.models import (
    BehaviourPaths,
    ChurnAlert,
    ChurnModel,
    ClvFit,
    ProductAssociation,
    ProductRecommendation,
    RecommendationRun,
    ScoredText,
    SentimentModel,
)


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


@admin.register(ChurnModel)
class ChurnModelAdmin(admin.ModelAdmin):
    list_display = ("id", "status", "created_at", "horizon_days", "chosen", "active")
    list_filter = ("status", "active")
    readonly_fields = ("evaluations", "baseline", "timings")
    exclude = ("pipelines",)


@admin.register(ChurnAlert)
class ChurnAlertAdmin(admin.ModelAdmin):
    list_display = ("day", "customer", "risk", "previous_risk", "monetary", "enrolled_in")
    list_filter = ("day",)
    raw_id_fields = ("customer", "model")
    show_full_result_count = False


@admin.register(ClvFit)
class ClvFitAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "calibration_end", "holdout_end", "time_unit", "customers", "scored")
    readonly_fields = ("parameters", "holdout")


@admin.register(RecommendationRun)
class RecommendationRunAdmin(admin.ModelAdmin):
    list_display = ("id", "status", "created_at", "active")
    list_filter = ("status", "active")


@admin.register(ProductRecommendation)
class ProductRecommendationAdmin(admin.ModelAdmin):
    list_display = ("run", "customer", "product", "rank", "score", "source")
    raw_id_fields = ("run", "customer", "product")
    show_full_result_count = False


@admin.register(ProductAssociation)
class ProductAssociationAdmin(admin.ModelAdmin):
    list_display = ("run", "antecedent", "consequent", "support", "confidence", "lift")
    raw_id_fields = ("run", "antecedent", "consequent")


@admin.register(BehaviourPaths)
class BehaviourPathsAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "gap_minutes", "path_steps")
