"""A small generated shop for the dashboard tests, and every dashboard figure computed from
it by hand (plain Python over the rows as created, one at a time) to check against.

``shop_build`` is a plain function, not a fixture: each test module wraps it in its own.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from analytics.models import ScoredText
from campaigns.models import Campaign, Conversion, Dispatch, Message
from customers.models import Order
from segments.models import CustomerFeatures, Segment
from surveys.models import Answer, Question, QuestionKind, Response, Survey
from tests.factories import CustomerFactory, EventFactory, OrderFactory

NOW = dt.datetime(2025, 6, 18, 12, 0, tzinfo=dt.UTC)


@dataclass
class Shop:
    customers: list = field(default_factory=list)
    orders: list = field(default_factory=list)
    events: list = field(default_factory=list)
    risks: dict = field(default_factory=dict)  # customer id → churn risk
    segments: list = field(default_factory=list)
    campaigns: list = field(default_factory=list)  # (campaign, sent messages, conversions)
    nps_answers: list = field(default_factory=list)  # (moment, score)
    reviews: list = field(default_factory=list)  # (moment, label, score)


def shop_build(seed: int = 6, now: dt.datetime = NOW) -> Shop:
    """40 customers; orders from 400 days before NOW to just before it (every 7th cancelled,
    every 11th returned, odd totals), events in the last 70 days, churn risks (with the bin
    edges 0, 0.5 and 1), 10 segments, 12 campaigns (11 launched) with sent and skipped
    messages and conversions (some holdout), NPS answers and scored reviews over 14 months."""
    chance = random.Random(seed)
    shop = Shop()
    for number in range(40):
        customer = CustomerFactory()
        shop.customers.append(customer)
        for _ in range(chance.choice([0, 1, 1, 2, 3, 5])):
            days_back = chance.choice([chance.uniform(0, 5), chance.uniform(0, 100), chance.uniform(0, 400)])
            moment = now - dt.timedelta(days=days_back, minutes=1)
            index = len(shop.orders)
            status = (Order.Status.CANCELLED if index % 7 == 3 else
                      Order.Status.RETURNED if index % 11 == 5 else Order.Status.PLACED)  # fmt: skip
            total = Decimal(chance.randint(500, 50000)) / 100
            shop.orders.append(OrderFactory(customer=customer, ordered_at=moment, status=status, total=total))
        if number % 3:
            for _ in range(chance.randint(1, 3)):
                moment = now - dt.timedelta(days=chance.uniform(0, 70))
                shop.events.append(EventFactory(customer=customer, occurred_at=moment))
    # Just outside and just inside the 30-day activity window.
    shop.events.append(EventFactory(customer=shop.customers[0], occurred_at=now - dt.timedelta(days=30)))
    shop.events.append(EventFactory(customer=shop.customers[3], occurred_at=now - dt.timedelta(days=30, seconds=-1)))
    shop.events.append(EventFactory(customer=shop.customers[6], occurred_at=now + dt.timedelta(hours=1)))

    edges = [0.0, 0.5, 1.0]
    for number, customer in enumerate(shop.customers[:33]):
        risk = edges[number] if number < len(edges) else None if number % 8 == 0 else round(chance.random(), 4)
        CustomerFeatures.objects.create(customer=customer, as_of=now, computed_at=now, churn_risk=risk)
        if risk is not None:
            shop.risks[customer.pk] = risk

    for number in range(10):
        shop.segments.append(Segment.objects.create(name=f"Segment {number:02d}", size=chance.randint(0, 40),
                                                    refreshed_at=now - dt.timedelta(hours=number)))  # fmt: skip

    for number in range(12):
        launched = None if number == 4 else now - dt.timedelta(days=number * 3, hours=number)
        campaign = Campaign.objects.create(
            name=f"Campaign {number:02d}", status=Campaign.Status.SENT if launched else Campaign.Status.DRAFT,
            launched_at=launched, fixed_cost=Decimal(0 if number % 5 == 0 else chance.choice([0, 50, 120, 300])),
            cost_per_message=Decimal("0" if number % 5 == 0 else chance.choice(["0", "0.5", "1.2525", "5"])),
        )  # fmt: skip
        sent, conversions = [], []
        if launched:
            dispatch = Dispatch.objects.create(campaign=campaign, status=Dispatch.Status.DONE)
            recipients = chance.sample(shop.customers, chance.randint(0, 15))
            for position, customer in enumerate(recipients):
                status, reason = Message.Status.SENT, ""
                if position % 5 == 4:
                    status, reason = Message.Status.SKIPPED, Message.SkipReason.HOLDOUT
                elif position % 7 == 6:
                    status = Message.Status.FAILED
                message = Message.objects.create(
                    dispatch=dispatch, campaign=campaign, customer=customer, status=status, skip_reason=reason,
                    created_at=launched, sent_at=launched if status == Message.Status.SENT else None,
                )  # fmt: skip
                if status == Message.Status.SENT:
                    sent.append(message)
                if status != Message.Status.FAILED and chance.random() < 0.5:
                    total = Decimal(chance.randint(1000, 30000)) / 100
                    order = OrderFactory(customer=customer, ordered_at=launched + dt.timedelta(hours=2), total=total)
                    shop.orders.append(order)
                    basis = Conversion.Basis.HOLDOUT if reason else Conversion.Basis.SEND
                    conversions.append(Conversion.objects.create(order=order, message=message, campaign=campaign,
                                                                 revenue=total, converted_at=order.ordered_at,
                                                                 basis=basis))  # fmt: skip
        shop.campaigns.append((campaign, sent, conversions))

    survey = Survey.objects.create(title_en="How likely are you to recommend us?")
    nps = Question.objects.create(survey=survey, kind=QuestionKind.NPS, text_en="Recommend?")
    csat = Question.objects.create(survey=survey, kind=QuestionKind.CSAT, text_en="Satisfied?", position=1)
    for number, customer in enumerate(shop.customers[:36]):
        moment = now - dt.timedelta(days=chance.uniform(0, 420))
        response = Response.objects.create(survey=survey, customer=customer, channel="personal",
                                           submitted_at=moment - dt.timedelta(days=2), updated_at=moment)  # fmt: skip
        Answer.objects.create(response=response, question=csat, number=chance.randint(1, 5))
        if number % 9 != 8:  # some responses skip the NPS question
            score = chance.randint(0, 10)
            Answer.objects.create(response=response, question=nps, number=score)
            shop.nps_answers.append((moment, score))
    for number in range(60):
        moment = now - dt.timedelta(days=chance.uniform(0, 420))
        score = round(chance.uniform(-1, 1), 3)
        label = "positive" if score >= 0.2 else "negative" if score <= -0.2 else "neutral"
        source = "review" if number % 6 else "transcript"
        ScoredText.objects.create(source=source, source_id=number, created_at=moment, label=label, score=score,
                                  scored_at=now)  # fmt: skip
        if source == "review":
            shop.reviews.append((moment, label, score))
    return shop


# --- the hand computation -------------------------------------------------------------------


def local_day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def month_of(moment: dt.datetime) -> dt.date:
    return local_day(moment).replace(day=1)


def hand_daily(orders: list[Order]) -> dict[dt.date, dict]:
    """Orders, revenue, buyers and new buyers per local day, one order at a time."""
    placed = sorted((o for o in orders if o.status == Order.Status.PLACED), key=lambda o: o.ordered_at)
    days: dict[dt.date, dict] = defaultdict(lambda: {"orders": 0, "revenue": Decimal("0"), "buyers": set(), "new": 0})
    seen = set()
    for order in placed:
        row = days[local_day(order.ordered_at)]
        row["orders"] += 1
        row["revenue"] += order.total
        row["buyers"].add(order.customer_id)
        if order.customer_id not in seen:
            seen.add(order.customer_id)
            row["new"] += 1
    return {day: {"orders": r["orders"], "revenue": r["revenue"], "buyers": len(r["buyers"]), "new_buyers": r["new"]}
            for day, r in days.items()}  # fmt: skip


def hand_months(today: dt.date, count: int = 12) -> list[dt.date]:
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        months.insert(0, dt.date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months


def hand_figures(shop: Shop, now: dt.datetime = NOW) -> dict:
    today = local_day(now)
    placed = [o for o in shop.orders if o.status == Order.Status.PLACED]
    daily = hand_daily(shop.orders)

    active = set()
    for order in placed:
        if now - dt.timedelta(days=30) < order.ordered_at <= now:
            active.add(order.customer_id)
    for event in shop.events:
        if now - dt.timedelta(days=30) < event.occurred_at <= now:
            active.add(event.customer_id)

    per_customer = Counter(o.customer_id for o in placed)
    buyers = len(per_customer)
    repeat = sum(1 for count in per_customer.values() if count >= 2)

    def window(first_back: int, last_back: int) -> tuple[Decimal, int]:
        days = {today - dt.timedelta(days=back) for back in range(first_back, last_back + 1)}
        return (sum((daily[d]["revenue"] for d in days if d in daily), Decimal("0")),
                sum(daily[d]["orders"] for d in days if d in daily))  # fmt: skip

    current_revenue, current_orders = window(0, 29)
    previous_revenue, previous_orders = window(30, 59)

    histogram = [0] * 10
    for risk in shop.risks.values():
        bucket = 9
        for index in range(10):
            if risk < (index + 1) / 10:
                bucket = index
                break
        histogram[bucket] += 1

    launched = sorted((c for c in shop.campaigns if c[0].launched_at), key=lambda c: c[0].launched_at, reverse=True)
    campaigns = []
    for campaign, sent, conversions in launched[:10]:
        revenue = sum((c.revenue for c in conversions if c.basis != Conversion.Basis.HOLDOUT), Decimal("0"))
        cost = campaign.fixed_cost + campaign.cost_per_message * len(sent)
        campaigns.append({"id": campaign.pk, "sent": len(sent), "revenue": revenue, "cost": cost,
                          "conversions": sum(1 for c in conversions if c.basis != Conversion.Basis.HOLDOUT),
                          "roi": float((revenue - cost) / cost) if cost else None})  # fmt: skip

    months = hand_months(today)
    nps = []
    for month in months:
        scores = [score for moment, score in shop.nps_answers if month_of(moment) == month]
        promoters = sum(1 for s in scores if s >= 9)
        detractors = sum(1 for s in scores if s <= 6)
        nps.append({"month": month, "responses": len(scores), "promoters": promoters, "detractors": detractors,
                    "passives": len(scores) - promoters - detractors,
                    "nps": 100 * (promoters - detractors) / len(scores) if scores else None})  # fmt: skip
    sentiment = []
    for month in months:
        rows = [(label, score) for moment, label, score in shop.reviews if month_of(moment) == month]
        sentiment.append({"month": month, "reviews": len(rows),
                          "mean_score": sum(s for _, s in rows) / len(rows) if rows else None,
                          **{label: sum(1 for lab, _ in rows if lab == label)
                             for label in ("positive", "neutral", "negative")}})  # fmt: skip

    chart = [today - dt.timedelta(days=back) for back in range(89, -1, -1)]
    empty = {"orders": 0, "revenue": Decimal("0"), "buyers": 0, "new_buyers": 0}
    return {
        "today": today,
        "customers": len(shop.customers),
        "active_customers": len(active),
        "buyers": buyers,
        "repeat_buyers": repeat,
        "repurchase_rate": repeat / buyers if buyers else None,
        "daily": daily,
        "chart": [(day, daily.get(day, empty)) for day in chart],
        "current_revenue": current_revenue,
        "current_orders": current_orders,
        "previous_revenue": previous_revenue,
        "previous_orders": previous_orders,
        "change": float((current_revenue - previous_revenue) / previous_revenue) if previous_revenue else None,
        "histogram": histogram,
        "campaigns": campaigns,
        "segments": [s.pk for s in sorted(shop.segments, key=lambda s: (-s.size, s.name))[:8]],
        "nps": nps,
        "sentiment": sentiment,
    }
