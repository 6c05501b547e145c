"""factory_boy factories for the customer data, shared by every app's tests.

Defaults are plausible and unique (sequence-numbered ids), so a test states only the
fields it is about: ``CustomerFactory(country="CN", email_opt_in=True)``.
"""

import datetime as dt
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from customers.models import Customer, Event, EventType, Gender, Order, OrderLine, Product, Review

BASE_TIME = dt.datetime(2024, 1, 1, 9, 0, tzinfo=dt.UTC)


class CustomerFactory(DjangoModelFactory):
    class Meta:
        model = Customer

    external_id = factory.Sequence(lambda n: f"C{n:06d}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    phone = factory.Sequence(lambda n: f"+86138{n:08d}")
    name = factory.Faker("name")
    gender = factory.Iterator([Gender.FEMALE, Gender.MALE, Gender.OTHER, Gender.UNKNOWN])
    birth_date = factory.Faker("date_of_birth", minimum_age=18, maximum_age=80)
    country = "CN"
    region = "Shanghai"
    city = "Shanghai"
    occupation = factory.Faker("job")
    signed_up_at = factory.Sequence(lambda n: BASE_TIME - dt.timedelta(days=n % 700, minutes=n))
    member_tier = factory.Iterator(["", "silver", "gold"])
    email_opt_in = True
    email_opt_in_at = factory.LazyAttribute(lambda c: c.signed_up_at if c.email_opt_in else None)
    sms_opt_in = False
    sms_opt_in_at = None
    attributes = factory.Dict({})


class ProductFactory(DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Faker("word")
    category = factory.Iterator(["shoes", "bags", "beauty", "home"])
    brand = factory.Iterator(["Acme", "Lumen", "Orchid"])
    price = factory.Sequence(lambda n: Decimal(10 + n % 90) + Decimal("0.99"))
    attributes = factory.Dict({})


class OrderFactory(DjangoModelFactory):
    """An order without lines. ``total`` is set on its own (default 100.00), because in
    imported data the order total and the lines arrive separately too."""

    class Meta:
        model = Order

    external_id = factory.Sequence(lambda n: f"O{n:07d}")
    customer = factory.SubFactory(CustomerFactory)
    ordered_at = factory.Sequence(lambda n: BASE_TIME + dt.timedelta(hours=n))
    total = Decimal("100.00")
    currency = "CNY"
    coupon_code = ""
    status = Order.Status.PLACED
    attributes = factory.Dict({})


class OrderLineFactory(DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = 1
    unit_price = factory.LazyAttribute(lambda line: line.product.price or Decimal("0"))
    attributes = factory.Dict({})


class EventFactory(DjangoModelFactory):
    class Meta:
        model = Event

    external_id = factory.Sequence(lambda n: f"E{n:08d}")
    customer = factory.SubFactory(CustomerFactory)
    type = EventType.VIEW
    occurred_at = factory.Sequence(lambda n: BASE_TIME + dt.timedelta(minutes=n))
    sku = ""
    category = ""
    query = ""
    path = ""
    properties = factory.Dict({})


class ReviewFactory(DjangoModelFactory):
    class Meta:
        model = Review

    external_id = factory.Sequence(lambda n: f"R{n:07d}")
    customer = factory.SubFactory(CustomerFactory)
    product = factory.SubFactory(ProductFactory)
    sku = factory.LazyAttribute(lambda review: review.product.sku if review.product else "")
    rating = 5
    text = "Great quality, fast delivery."
    language = Review.Language.ENGLISH
    created_at = factory.Sequence(lambda n: BASE_TIME + dt.timedelta(hours=n))
    attributes = factory.Dict({})
