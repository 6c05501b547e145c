"""Admin for campaigns. Messages, tracking events, conversions, redemptions and tier
history are written by the product only (read-only here); big tables use raw ids and skip
the full count."""

from django.contrib import admin

from campaigns.models import (
    Campaign,
    CampaignEvent,
    Conversion,
    Coupon,
    CouponPool,
    Dispatch,
    Message,
    Redemption,
    SendingPolicy,
    Tier,
    TierChange,
    TrackingEvent,
    Variant,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class VariantInline(admin.StackedInline):
    model = Variant
    extra = 0


class CampaignEventInline(admin.TabularInline):
    model = CampaignEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "actor", "action", "from_status", "to_status", "details"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "channel", "status", "schedule_kind", "launched_at", "finished_at"]
    list_filter = ["status", "channel", "schedule_kind", "goal"]
    search_fields = ["name"]
    filter_horizontal = ["audience_segments", "exclusion_segments"]
    readonly_fields = ["status", "launched_at", "finished_at", "periodic_task", "trigger_checked_at"]
    inlines = [VariantInline, CampaignEventInline]


@admin.register(Dispatch)
class DispatchAdmin(ReadOnlyAdmin):
    list_display = ["campaign", "occurrence", "status", "audience", "frozen_at", "finished_at"]
    list_filter = ["status"]
    exclude = ["customer_ids"]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["pk", "campaign", "customer_id", "variant", "status", "skip_reason", "attempts", "sent_at"]
    list_filter = ["status", "skip_reason"]
    raw_id_fields = ["dispatch", "campaign", "customer", "variant"]


@admin.register(TrackingEvent)
class TrackingEventAdmin(ReadOnlyAdmin):
    list_display = ["message_id", "kind", "at", "url"]
    list_filter = ["kind"]
    raw_id_fields = ["message"]


@admin.register(Conversion)
class ConversionAdmin(ReadOnlyAdmin):
    list_display = ["order_id", "campaign", "variant", "basis", "revenue", "converted_at"]
    list_filter = ["basis"]
    raw_id_fields = ["order", "message", "campaign", "variant"]


@admin.register(SendingPolicy)
class SendingPolicyAdmin(admin.ModelAdmin):
    list_display = ["quiet_hours_enabled", "quiet_start", "quiet_end", "frequency_cap_messages", "frequency_cap_days"]

    def has_add_permission(self, request) -> bool:
        return not SendingPolicy.objects.exists()


@admin.register(CouponPool)
class CouponPoolAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "discount_kind", "discount_value", "min_spend", "expires_at", "single_use"]
    list_filter = ["kind", "discount_kind"]
    search_fields = ["name", "shared_code"]


@admin.register(Coupon)
class CouponAdmin(ReadOnlyAdmin):
    list_display = ["code", "pool", "customer_id", "assigned_at"]
    search_fields = ["code"]
    raw_id_fields = ["pool", "customer", "message"]


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    list_display = ["coupon", "order_id", "customer_id", "status", "reason", "redeemed_at"]
    list_filter = ["status", "reason"]
    raw_id_fields = ["coupon", "order", "customer"]


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = ["name", "rank", "metric", "threshold", "window_days"]


@admin.register(TierChange)
class TierChangeAdmin(ReadOnlyAdmin):
    list_display = ["customer_id", "from_tier", "to_tier", "changed_at", "reason"]
    list_filter = ["to_tier", "reason"]
    raw_id_fields = ["customer"]
