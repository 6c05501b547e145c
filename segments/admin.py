"""Admin for the feature table (read-only: only the refresh writes it) and refresh runs."""

from django.contrib import admin

from segments.models import (
    ClusteringRun,
    ClusterMember,
    CustomerFeatures,
    FeatureRefresh,
    FeatureRefreshRange,
    Segment,
    SegmentMembership,
    SegmentSizeSnapshot,
)


@admin.register(CustomerFeatures)
class CustomerFeaturesAdmin(admin.ModelAdmin):
    list_display = ["customer_id", "rfm_segment", "consumption_tier", "recency_days", "frequency", "monetary", "as_of"]
    # Fixed-choice filters only: a distinct-values filter would scan a million rows per page.
    list_filter = ["rfm_segment", "consumption_tier"]
    raw_id_fields = ["customer"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class FeatureRefreshRangeInline(admin.TabularInline):
    model = FeatureRefreshRange
    extra = 0
    can_delete = False
    readonly_fields = ["low", "high", "customers", "finished_at"]


@admin.register(FeatureRefresh)
class FeatureRefreshAdmin(admin.ModelAdmin):
    list_display = ["started_at", "mode", "status", "as_of", "customers_refreshed", "finished_at"]
    list_filter = ["mode", "status"]
    readonly_fields = [field.name for field in FeatureRefresh._meta.fields]
    inlines = [FeatureRefreshRangeInline]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "size", "refreshed_at", "created_by"]
    list_filter = ["kind"]
    search_fields = ["name"]
    readonly_fields = ["size", "refreshed_at", "created_at", "updated_at"]


@admin.register(SegmentMembership)
class SegmentMembershipAdmin(admin.ModelAdmin):
    list_display = ["segment", "customer", "entered_at", "left_at"]
    list_filter = ["segment"]
    raw_id_fields = ["customer"]
    show_full_result_count = False


@admin.register(SegmentSizeSnapshot)
class SegmentSizeSnapshotAdmin(admin.ModelAdmin):
    list_display = ["segment", "at", "size", "entered", "left"]
    list_filter = ["segment"]


@admin.register(ClusteringRun)
class ClusteringRunAdmin(admin.ModelAdmin):
    """Runs are made by the clustering page and API; the admin shows them and deletes old
    ones (with their member rows)."""

    list_display = ["id", "algorithm", "scope", "k_used", "customers", "status", "applied", "created_at"]
    list_filter = ["algorithm", "scope", "status", "applied"]
    readonly_fields = [field.name for field in ClusteringRun._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def get_deleted_objects(self, objs, request):
        """Confirm with counts: listing a run's (up to a million) member rows one by one
        would not fit on a page. The member rows go with their run (one DELETE)."""
        runs = list(objs)
        counts = {
            ClusteringRun._meta.verbose_name_plural: len(runs),
            ClusterMember._meta.verbose_name_plural: ClusterMember.objects.filter(run__in=runs).count(),
        }
        return [str(run) for run in runs], counts, set(), []
