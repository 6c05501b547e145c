"""Django admin for the customer data, tuned for a million customers and ten million orders.

Foreign keys are raw id inputs (a select box would load every customer), big tables skip
the second, unfiltered COUNT(*) and their paginator uses the planner's row estimate when
no filter is applied, and list filters are limited to fields with fixed choices or dates,
because a distinct-values filter would scan the table on every page view.
"""

from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, Event, Order, OrderLine, Product, Review, Transcript
from customers.selectors import table_row_count


class EstimatedCountPaginator(Paginator):
    """An unfiltered changelist counts its rows from the planner's statistics."""

    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if query is not None and not query.where:
            return table_row_count(self.object_list.model)
        return super().count


class RatingFilter(admin.SimpleListFilter):
    """Fixed 1-5 choices: the default filter would SELECT DISTINCT over every review."""

    title = _("rating")
    parameter_name = "rating"

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        return [(str(stars), f"{stars}★") for stars in range(5, 0, -1)]

    def queryset(self, request, queryset):
        stars = self.value()
        return queryset.filter(rating=int(stars)) if stars in {"1", "2", "3", "4", "5"} else queryset


class BigTableAdmin(admin.ModelAdmin):
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50


@admin.register(Customer)
class CustomerAdmin(BigTableAdmin):
    list_display = (
        "external_id", "name", "email", "phone", "country", "city", "member_tier",
        "email_opt_in", "sms_opt_in", "signed_up_at",
    )  # fmt: skip
    list_display_links = ("external_id", "name")
    search_fields = ("external_id__exact", "email__startswith", "phone__startswith")
    search_help_text = _("Customer id (exact), email or phone (starts with).")
    list_filter = ("gender", "email_opt_in", "sms_opt_in", "signed_up_at")
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("external_id", "name", "email", "phone")}),
        (_("Demographics"), {"fields": ("gender", "birth_date", "country", "region", "city", "occupation")}),
        (_("Membership and consent"), {
            "fields": ("signed_up_at", "member_tier", ("email_opt_in", "email_opt_in_at"),
                       ("sms_opt_in", "sms_opt_in_at")),
        }),
        (_("Other"), {"fields": ("attributes", "created_at", "updated_at")}),
    )  # fmt: skip


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("sku", "name", "category", "brand", "price")
    search_fields = ("sku__exact", "name")
    list_filter = ("category", "brand")
    list_per_page = 50


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    raw_id_fields = ("product",)
    extra = 0


@admin.register(Order)
class OrderAdmin(BigTableAdmin):
    list_display = ("external_id", "customer", "ordered_at", "total", "currency", "status", "coupon_code")
    list_select_related = ("customer",)
    search_fields = ("external_id__exact", "customer__external_id__exact", "coupon_code__exact")
    search_help_text = _("Order id, customer id or coupon code (exact).")
    list_filter = ("status", "ordered_at")
    raw_id_fields = ("customer",)
    inlines = (OrderLineInline,)


@admin.register(OrderLine)
class OrderLineAdmin(BigTableAdmin):
    list_display = ("order", "product", "quantity", "unit_price")
    list_select_related = ("order", "product")
    search_fields = ("order__external_id__exact", "product__sku__exact")
    search_help_text = _("Order id or SKU (exact).")
    raw_id_fields = ("order", "product")


@admin.register(Event)
class EventAdmin(BigTableAdmin):
    list_display = ("external_id", "customer", "type", "occurred_at", "sku", "category")
    list_select_related = ("customer",)
    search_fields = ("external_id__exact", "customer__external_id__exact", "sku__exact")
    search_help_text = _("Event id, customer id or SKU (exact).")
    list_filter = ("type", "occurred_at")
    raw_id_fields = ("customer",)


@admin.register(Review)
class ReviewAdmin(BigTableAdmin):
    list_display = ("external_id", "customer", "product", "rating", "language", "created_at")
    list_select_related = ("customer", "product")
    search_fields = ("external_id__exact", "customer__external_id__exact", "sku__exact")
    search_help_text = _("Review id, customer id or SKU (exact).")
    list_filter = (RatingFilter, "language", "created_at")
    raw_id_fields = ("customer", "product")


@admin.register(Transcript)
class TranscriptAdmin(BigTableAdmin):
    list_display = ("external_id", "customer", "channel", "language", "occurred_at")
    list_select_related = ("customer",)
    search_fields = ("external_id__exact", "customer__external_id__exact")
    search_help_text = _("Transcript id or customer id (exact).")
    list_filter = ("channel", "language", "occurred_at")
    raw_id_fields = ("customer",)
