"""The shop's customer data: profiles, catalogue, orders, behaviour events and reviews.

Every imported row carries the shop's own identifier in ``external_id`` (unique), which is
what makes re-imports idempotent: ingestion upserts on it. Internal integer keys are used
for joins. Indexes are chosen for the per-customer time-window queries that segments,
features and reports run (customer + time, type + time).
"""

from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")
    UNKNOWN = "", _("Unknown")


class Customer(models.Model):
    external_id = models.CharField(_("customer id"), max_length=64, unique=True)
    email = models.CharField(_("email"), max_length=254, blank=True, default="")
    phone = models.CharField(_("phone"), max_length=32, blank=True, default="")
    name = models.CharField(_("name"), max_length=200, blank=True, default="")
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices, blank=True, default="")
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    country = models.CharField(_("country"), max_length=64, blank=True, default="")
    region = models.CharField(_("region"), max_length=100, blank=True, default="")
    city = models.CharField(_("city"), max_length=100, blank=True, default="")
    occupation = models.CharField(_("occupation"), max_length=100, blank=True, default="")
    signed_up_at = models.DateTimeField(_("signed up"), null=True, blank=True)
    member_tier = models.CharField(_("member tier"), max_length=32, blank=True, default="")
    email_opt_in = models.BooleanField(_("email consent"), default=False)
    email_opt_in_at = models.DateTimeField(_("email consent changed"), null=True, blank=True)
    sms_opt_in = models.BooleanField(_("SMS consent"), default=False)
    sms_opt_in_at = models.DateTimeField(_("SMS consent changed"), null=True, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["email"], name="customer_email_idx"),
            models.Index(fields=["phone"], name="customer_phone_idx"),
            models.Index(fields=["country", "city"], name="customer_country_city_idx"),
            models.Index(fields=["signed_up_at"], name="customer_signed_up_idx"),
            models.Index(fields=["member_tier"], name="customer_tier_idx"),
            models.Index(fields=["name", "id"], name="customer_name_id_idx"),
            # Segment rules compare profile text case-insensitively (UPPER(col) = UPPER(value)).
            models.Index(Upper("country"), name="customer_country_upper_idx"),
            models.Index(Upper("city"), name="customer_city_upper_idx"),
            # PostgreSQL also has a trigram index for "name contains" (migration 0003).
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.external_id


class Product(models.Model):
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=255, blank=True, default="")
    category = models.CharField(_("category"), max_length=100, blank=True, default="")
    brand = models.CharField(_("brand"), max_length=100, blank=True, default="")
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2, null=True, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        indexes = [
            models.Index(fields=["category"], name="product_category_idx"),
            models.Index(fields=["brand"], name="product_brand_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}".strip()


class Order(models.Model):
    class Status(models.TextChoices):
        PLACED = "placed", _("Placed")
        CANCELLED = "cancelled", _("Cancelled")
        RETURNED = "returned", _("Returned")

    # Unique through Meta.constraints: unlike unique=True, that adds no second (LIKE) index on
    # PostgreSQL, which every insert into a 10M-row table would have to maintain.
    external_id = models.CharField(_("order id"), max_length=64)
    # No single-column index: (customer, ordered_at) below serves customer lookups too.
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders", db_index=False)
    ordered_at = models.DateTimeField(_("ordered at"))
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3, blank=True, default="")
    coupon_code = models.CharField(_("coupon code"), max_length=64, blank=True, default="")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PLACED)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [models.UniqueConstraint(fields=["external_id"], name="order_external_id_uniq")]
        indexes = [
            models.Index(fields=["customer", "ordered_at"], name="order_customer_time_idx"),
            models.Index(fields=["ordered_at"], name="order_time_idx"),
            models.Index(fields=["coupon_code"], name="order_coupon_idx", condition=~models.Q(coupon_code="")),
        ]

    def __str__(self) -> str:
        return self.external_id


class OrderLine(models.Model):
    # The (order, product) unique constraint's index serves order lookups.
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", db_index=False)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines")
    quantity = models.IntegerField(_("quantity"), default=1)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2, default=0)
    attributes = models.JSONField(
        _("attributes"), default=dict, db_default=models.Value({}, models.JSONField()), blank=True
    )

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [models.UniqueConstraint(fields=["order", "product"], name="orderline_order_product_uniq")]

    def __str__(self) -> str:
        return f"{self.order_id}:{self.product_id} x{self.quantity}"


class EventType(models.TextChoices):
    VIEW = "view", _("View")
    SEARCH = "search", _("Search")
    ADD_TO_CART = "add_to_cart", _("Add to cart")
    FAVORITE = "favorite", _("Favourite")
    PURCHASE = "purchase", _("Purchase")
    REVIEW = "review", _("Review")
    PAGE = "page", _("Page view")


class Event(models.Model):
    external_id = models.CharField(_("event id"), max_length=64)  # unique: see Meta.constraints
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="events", db_index=False)
    type = models.CharField(_("type"), max_length=16, choices=EventType.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    sku = models.CharField(_("SKU"), max_length=64, blank=True, default="")
    category = models.CharField(_("category"), max_length=100, blank=True, default="")
    query = models.CharField(_("search query"), max_length=255, blank=True, default="")
    path = models.CharField(_("page path"), max_length=500, blank=True, default="")
    properties = models.JSONField(_("properties"), default=dict, blank=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        constraints = [models.UniqueConstraint(fields=["external_id"], name="event_external_id_uniq")]
        indexes = [
            models.Index(fields=["customer", "type", "occurred_at"], name="event_customer_type_time_idx"),
            models.Index(fields=["type", "occurred_at"], name="event_type_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.external_id}"


class Review(models.Model):
    class Language(models.TextChoices):
        ENGLISH = "en", _("English")
        CHINESE = "zh", _("Chinese")
        OTHER = "", _("Other")

    external_id = models.CharField(_("review id"), max_length=64, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="reviews", db_index=False)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews")
    sku = models.CharField(_("SKU"), max_length=64, blank=True, default="")
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    text = models.TextField(_("text"), blank=True, default="")
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, blank=True, default="")
    created_at = models.DateTimeField(_("created at"))
    attributes = models.JSONField(
        _("attributes"), default=dict, db_default=models.Value({}, models.JSONField()), blank=True
    )

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5) | models.Q(rating__isnull=True),
                name="review_rating_1_to_5",
            )
        ]
        indexes = [
            models.Index(fields=["customer", "created_at"], name="review_customer_time_idx"),
            models.Index(fields=["product", "created_at"], name="review_product_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.rating}★ {self.external_id}"


class Transcript(models.Model):
    """A customer-service conversation (chat, call, email thread) as one text, imported like
    reviews; sentiment and aspects are scored from it (analytics.sentiment)."""

    external_id = models.CharField(_("transcript id"), max_length=64, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="transcripts", db_index=False)
    channel = models.CharField(_("channel"), max_length=32, blank=True, default="")
    text = models.TextField(_("text"), blank=True, default="")
    language = models.CharField(_("language"), max_length=8, choices=Review.Language.choices, blank=True, default="")
    occurred_at = models.DateTimeField(_("occurred at"))
    attributes = models.JSONField(
        _("attributes"), default=dict, db_default=models.Value({}, models.JSONField()), blank=True
    )

    class Meta:
        verbose_name = _("customer-service transcript")
        verbose_name_plural = _("customer-service transcripts")
        indexes = [models.Index(fields=["customer", "occurred_at"], name="transcript_customer_time_idx")]

    def __str__(self) -> str:
        return self.external_id
