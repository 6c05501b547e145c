"""How demo customers behave: archetypes, orders and lines, the event funnel, reviews.

Pure NumPy / pandas and no Django, so it can be tested and timed on arrays. Everything is
computed for a whole chunk of customers at once: per-customer parameters are arrays, and
orders, lines and events are "exploded" from them with ``np.repeat``.

Time is measured in fractional days since ``day0`` (the start of the simulated history)
until ``now`` (the fixed anchor of a run); the writer turns it into timestamps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import people
from .reviews_text import compose_reviews

HISTORY_DAYS = 3 * 365  # customers signed up within the last three years
NEW_CUSTOMER_DAYS = 60
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Archetype:
    name: str
    share: float
    orders_per_year: float  # at an average season, while active
    coupon_share: float  # share of orders placed with a coupon
    sessions_per_180d: float  # browsing sessions that do not end in an order
    review_share: float
    ratings: tuple[float, float, float, float, float]  # P(1..5 stars)
    email_consent: float


ARCHETYPES: tuple[Archetype, ...] = (
    Archetype("loyal", 0.10, 14.0, 0.08, 4.0, 0.18, (0.01, 0.02, 0.07, 0.30, 0.60), 0.85),
    Archetype("bargain_hunter", 0.18, 7.0, 0.75, 6.0, 0.10, (0.04, 0.06, 0.15, 0.35, 0.40), 0.90),
    Archetype("occasional", 0.30, 2.5, 0.06, 1.5, 0.08, (0.04, 0.05, 0.12, 0.34, 0.45), 0.60),
    Archetype("new", 0.12, 10.0, 0.30, 4.0, 0.10, (0.03, 0.04, 0.12, 0.33, 0.48), 0.75),
    Archetype("drifting", 0.14, 9.0, 0.10, 3.0, 0.12, (0.10, 0.12, 0.22, 0.30, 0.26), 0.55),
    Archetype("churned", 0.16, 7.0, 0.08, 0.3, 0.10, (0.18, 0.17, 0.20, 0.25, 0.20), 0.40),
)
LOYAL, BARGAIN, OCCASIONAL, NEW, DRIFTING, CHURNED = range(len(ARCHETYPES))
ARCHETYPE_NAMES = np.array([a.name for a in ARCHETYPES], dtype=object)
CHURN_MIN_DAYS = 120  # churned customers bought nothing in at least this many days
DRIFT_HALF_LIFE_DAYS = 45.0

FX = {"USD": 1.0, "CNY": 7.2, "EUR": 0.92, "GBP": 0.79}  # list prices are in USD
LINE_COUNT_P = np.array([0.52, 0.28, 0.14, 0.06])  # 1..4 lines per order
LOCAL_HOUR_WEIGHTS = np.array(
    [2, 1, 0.5, 0.3, 0.3, 0.5, 1, 2, 3, 3.5, 4, 4.5, 5, 4.5, 4, 4, 4.5, 5, 5.5, 6.5, 8, 9, 7.5, 4.5]
)
CHINESE_NEW_YEAR = np.array(
    [
        "2018-02-16",
        "2019-02-05",
        "2020-01-25",
        "2021-02-12",
        "2022-02-01",
        "2023-01-22",
        "2024-02-10",
        "2025-01-29",
        "2026-02-17",
        "2027-02-06",
        "2028-01-26",
        "2029-02-13",
        "2030-02-03",
        "2031-01-23",
        "2032-02-11",
        "2033-01-31",
        "2034-02-19",
        "2035-02-08",
    ],
    dtype="datetime64[D]",
)
CHINA_CURVE, WEST_CURVE = 0, 1

# Coupon campaigns: (code prefix, discount share). Seasonal codes win on their days.
COUPONS = (
    ("WELCOME", 0.10),
    ("SAVE", 0.15),
    ("VIP", 0.20),
    ("FLASH", 0.10),
    ("D11-", 0.20),
    ("BF", 0.25),
    ("CNY", 0.12),
    ("XMAS", 0.15),
)
COUPON_D11, COUPON_BF, COUPON_CNY, COUPON_XMAS = 4, 5, 6, 7
ORDER_CHANNELS = np.array(["app", "web", "mini_program"], dtype=object)
LANDING_PATHS = np.array(
    ["/", "/", "/new-arrivals", "/promo/flash-sale", "/account/orders", "/account/coupons"], dtype=object
)


@dataclass(frozen=True)
class Season:
    """Daily demand multipliers (mean 1) for Chinese and Western shoppers, with their integrals."""

    day0: np.datetime64  # datetime64[D], day index 0
    daily: np.ndarray  # (2, days)
    cumulative: np.ndarray  # (2, days + 1), cumulative[:, d] = sum of daily before day d
    promo: np.ndarray  # (days,) coupon campaign running that day (-1 for none), China and West
    promo_west: np.ndarray


def _black_friday(years: np.ndarray) -> np.ndarray:
    nov1 = (years - 1970).astype("datetime64[Y]").astype("datetime64[M]") + np.timedelta64(10, "M")
    nov1 = nov1.astype("datetime64[D]")
    weekday = (nov1.astype(np.int64) + 3) % 7  # Monday = 0
    first_thursday = nov1 + ((3 - weekday) % 7).astype("timedelta64[D]")
    return first_thursday + np.timedelta64(22, "D")


def build_season(day0: np.datetime64, days: int) -> Season:
    """Weekly pattern, yearly growth, Double 11, 618, Black Friday, Christmas and the CNY dip."""
    dates = day0 + np.arange(days).astype("timedelta64[D]")
    weekday = (dates.astype(np.int64) + 3) % 7
    month_start = dates.astype("datetime64[M]")
    month = month_start.astype(np.int64) % 12 + 1
    dom = (dates - month_start.astype("datetime64[D]")).astype(np.int64) + 1
    years = np.unique(dates.astype("datetime64[Y]").astype(np.int64) + 1970)
    base = np.array([0.95, 0.95, 0.97, 1.0, 1.04, 1.1, 1.1])[weekday]
    base = base * np.exp(0.2 * (np.arange(days) - days) / 365.0)  # the shop grows ~20% a year

    china = base.copy()
    nov = month == 11
    china[nov & (dom <= 10)] *= 1.5
    china[nov & (dom == 11)] *= 6.0
    china[nov & (dom == 12)] *= 1.6
    june = month == 6
    china[june & (dom < 18)] *= 1.2
    china[june & (dom == 18)] *= 3.0
    china[month == 12] *= 1.1
    cny_promo = np.zeros(days, dtype=bool)
    for cny in CHINESE_NEW_YEAR:
        offset = (dates - cny).astype(np.int64)
        china[(offset >= -4) & (offset <= 7)] *= 0.4  # shops and couriers rest
        china[(offset >= -21) & (offset < -4)] *= 1.3  # New Year goods
        cny_promo |= (offset >= -21) & (offset < -4)

    west = base.copy()
    bf = np.zeros(days, dtype=bool)
    xmas = (month == 12) & (dom <= 20)
    west[xmas] *= 1.4
    west[(month == 12) & (dom >= 24) & (dom <= 25)] *= 0.6
    west[(month == 12) & (dom == 26)] *= 1.8
    west[month == 1] *= 0.85
    west[nov & (dom == 11)] *= 1.3
    for friday in _black_friday(years):
        offset = (dates - friday).astype(np.int64)
        west[(offset >= -6) & (offset < 0)] *= 1.5
        west[offset == 0] *= 4.0
        west[(offset >= 1) & (offset <= 2)] *= 1.6
        west[offset == 3] *= 2.5  # Cyber Monday
        bf |= (offset >= -6) & (offset <= 3)
    china[bf] *= 1.1

    daily = np.vstack([china / china.mean(), west / west.mean()])
    cumulative = np.concatenate([np.zeros((2, 1)), np.cumsum(daily, axis=1)], axis=1)
    promo = np.full(days, -1)
    promo[nov & (dom >= 1) & (dom <= 11)] = COUPON_D11
    promo[cny_promo] = COUPON_CNY
    promo_west = np.full(days, -1)
    promo_west[xmas] = COUPON_XMAS
    promo_west[bf] = COUPON_BF
    return Season(day0, daily, cumulative, promo, promo_west)


def _explode(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Owner index and position within owner for ``counts`` children per owner."""
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(owner.size) - starts[owner]


def _seasonal_times(
    rng: np.random.Generator,
    season: Season,
    curve: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    rate_per_day: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson arrival times in [start, end) whose intensity follows the season curve.

    Uses the inverse of the cumulative intensity, so peaks get more orders without
    rejection sampling. Returns (owner index, time in days).
    """
    grid = np.arange(season.cumulative.shape[1], dtype=float)
    owners, times = [], []
    for g in (CHINA_CURVE, WEST_CURVE):
        rows = np.flatnonzero((curve == g) & (end > start))
        if rows.size == 0:
            continue
        cum = season.cumulative[g]
        lo = np.interp(start[rows], grid, cum)
        hi = np.interp(end[rows], grid, cum)
        counts = rng.poisson(rate_per_day[rows] * (hi - lo))
        owner, _ = _explode(counts)
        u = lo[owner] + rng.random(owner.size) * (hi - lo)[owner]
        owners.append(rows[owner])
        times.append(np.interp(u, cum, grid))
    if not owners:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    return np.concatenate(owners), np.concatenate(times)


def _local_time_of_day(rng: np.random.Generator, day: np.ndarray, utc_offset: np.ndarray) -> np.ndarray:
    """Keep the day, redraw the hour from a shopper's day (evening peak), convert to UTC."""
    p = LOCAL_HOUR_WEIGHTS / LOCAL_HOUR_WEIGHTS.sum()
    hour = rng.choice(24, size=day.size, p=p) + rng.random(day.size)
    return np.floor(day) + (hour - utc_offset) / 24.0


@dataclass
class ChunkNumbers:
    """First external-id numbers of this chunk (ids continue across chunks and runs)."""

    customer: int
    order: int
    line: int
    event: int
    review: int


@dataclass
class Chunk:
    customers: pd.DataFrame
    orders: pd.DataFrame
    lines: pd.DataFrame
    events: pd.DataFrame
    reviews: pd.DataFrame


def _money(cents: np.ndarray) -> np.ndarray:
    """Exact decimal strings from integer cents ("12.30"), without float formatting."""
    cents = np.asarray(cents, dtype=np.int64)
    units = pd.Series(cents // 100).astype(str)
    frac = pd.Series(cents % 100).astype(str).str.zfill(2)
    return (units + "." + frac).to_numpy(dtype=object)


def _ids(prefix: str, first: int, n: int, width: int) -> np.ndarray:
    return (prefix + pd.Series(np.arange(first, first + n)).astype(str).str.zfill(width)).to_numpy(dtype=object)


def simulate_chunk(
    rng: np.random.Generator,
    *,
    n_customers: int,
    numbers: ChunkNumbers,
    season: Season,
    catalogue: pd.DataFrame,
    event_days: int,
) -> Chunk:
    """Simulate ``n_customers`` customers with their orders, lines, events and reviews.

    Times are float days since ``season.day0``; ``now`` is the end of the season grid.
    Row numbers start at ``numbers`` so that chunks concatenate into one id sequence.
    """
    n = n_customers
    now = float(season.daily.shape[1])
    share = np.array([a.share for a in ARCHETYPES])
    arch = rng.choice(len(ARCHETYPES), size=n, p=share / share.sum())
    country = people.country_index(rng, n)
    customer_no = np.arange(numbers.customer, numbers.customer + n)
    profile = people.people_frame(rng, country, customer_no, season.day0 + np.timedelta64(int(now), "D"))
    china = country == people.CHINA
    curve = np.where(china, CHINA_CURVE, WEST_CURVE)
    utc_offset = profile["utc_offset"].to_numpy()

    # --- lifecycle: signup, end of activity, order rate -------------------------------
    history = min(HISTORY_DAYS, int(now) - 1)
    signup = now - history * rng.random(n) ** 0.8  # more recent signups: the shop grows
    signup = np.where(arch == LOYAL, now - history * rng.random(n) ** 0.5, signup)
    signup = np.where(arch == NEW, now - NEW_CUSTOMER_DAYS * rng.random(n), signup)
    churn_at = now - CHURN_MIN_DAYS - rng.random(n) * max(history - CHURN_MIN_DAYS - 60, 1) * 0.6
    signup = np.where(arch == CHURNED, np.minimum(signup, churn_at - 30 - 200 * rng.random(n)), signup)
    signup = np.maximum(signup, 0.0)
    drift_at = now - 60 - 180 * rng.random(n)
    signup = np.where(arch == DRIFTING, np.minimum(signup, drift_at - 60 - 300 * rng.random(n)), signup)
    signup = np.maximum(signup, 0.0)
    active_end = np.where(arch == CHURNED, churn_at, now)

    yearly = np.array([a.orders_per_year for a in ARCHETYPES])[arch] * rng.lognormal(-0.18, 0.6, n)
    first_order = signup + rng.exponential(3.0, n)  # nobody orders before signing up
    cust_idx, t = _seasonal_times(rng, season, curve, first_order, active_end, yearly / 365.0)
    # Drifting customers keep buying, less and less often after their drift date.
    decayed = (arch[cust_idx] == DRIFTING) & (t > drift_at[cust_idx])
    keep = ~decayed | (rng.random(t.size) < 0.5 ** ((t - drift_at[cust_idx]) / DRIFT_HALF_LIFE_DAYS))
    cust_idx, t = cust_idx[keep], t[keep]
    # Churned customers were buyers; new customers usually buy soon after signing up.
    has_order = np.bincount(cust_idx, minlength=n) > 0
    force = ~has_order & (
        (arch == CHURNED) | ((arch == NEW) & (rng.random(n) < 0.85)) | ((arch == DRIFTING) | (arch == LOYAL))
    )
    forced = np.flatnonzero(force & (first_order < active_end))
    cust_idx = np.concatenate([cust_idx, forced])
    t = np.concatenate([t, first_order[forced]])
    t = _local_time_of_day(rng, t, utc_offset[cust_idx])
    t = np.clip(t, signup[cust_idx] + 1e-3, active_end[cust_idx] - 1e-3)
    order_sort = np.lexsort((t, cust_idx))
    cust_idx, t = cust_idx[order_sort], t[order_sort]
    n_orders = t.size

    # --- order lines ------------------------------------------------------------------
    n_cat = catalogue["category_index"].max() + 1
    cat_sizes = np.bincount(catalogue["category_index"], minlength=n_cat)
    cat_start = np.cumsum(cat_sizes) - cat_sizes
    cat_pop = np.array([1.4, 0.8, 1.2, 1.3, 1.4, 0.6, 0.8, 1.0, 0.5, 0.6])[:n_cat]
    female = (profile["gender"] == "female").to_numpy()
    fav_w = np.tile(cat_pop, (n, 1))
    fav_w[female, 2] *= 2.5  # beauty
    fav_w[female, 5] *= 1.8  # mother & baby
    fav_w = fav_w / fav_w.sum(axis=1, keepdims=True)
    # Two favourite categories per customer, drawn without a Python loop (Gumbel top-2).
    gumbel = np.log(fav_w) - np.log(-np.log(rng.random((n, n_cat))))
    fav = np.argsort(-gumbel, axis=1)[:, :2]

    lines_per_order = rng.choice(4, size=n_orders, p=LINE_COUNT_P) + 1
    line_order, _ = _explode(lines_per_order)
    line_cust = cust_idx[line_order]
    pick = rng.random(line_order.size)
    line_cat = np.where(
        pick < 0.55, fav[line_cust, 0], np.where(pick < 0.8, fav[line_cust, 1], rng.integers(0, n_cat, line_order.size))
    )
    rank = np.floor(cat_sizes[line_cat] * rng.random(line_order.size) ** 2.2).astype(np.int64)
    line_product = cat_start[line_cat] + rank
    dedupe = ~pd.Series(line_order * 10_000 + line_product).duplicated().to_numpy()
    line_order, line_product = line_order[dedupe], line_product[dedupe]
    bulk = catalogue["bulk"].to_numpy()[line_product]
    quantity = np.minimum(1 + rng.poisson(bulk * 1.2), 6)

    currency = profile["currency"].to_numpy()
    fx = pd.Series(currency).map(FX).to_numpy()
    order_day = np.clip(np.floor(t).astype(np.int64), 0, season.daily.shape[1] - 1)
    promo = np.where(china[cust_idx], season.promo[order_day], season.promo_west[order_day])
    price_usd = catalogue["price"].to_numpy()[line_product]
    sale = np.where(promo[line_order] >= 0, 0.9, 1.0)  # sitewide sale prices on campaign days
    unit_cents = np.round(price_usd * fx[cust_idx[line_order]] * sale * 100).astype(np.int64)
    subtotal = np.bincount(line_order, weights=quantity * unit_cents, minlength=n_orders).astype(np.int64)

    # --- coupons, totals, status ------------------------------------------------------
    coupon_p = np.array([a.coupon_share for a in ARCHETYPES])[arch[cust_idx]]
    with_coupon = rng.random(n_orders) < coupon_p
    first_of_customer = np.r_[True, cust_idx[1:] != cust_idx[:-1]]
    kind = rng.choice([1, 2, 3], size=n_orders, p=[0.5, 0.2, 0.3])  # SAVE / VIP / FLASH
    kind = np.where(first_of_customer, 0, kind)
    kind = np.where(promo >= 0, promo, kind)
    kind = np.where((kind == 2) & (arch[cust_idx] != LOYAL), 1, kind)
    with_coupon |= first_of_customer & (arch[cust_idx] == BARGAIN)
    rate = np.array([c[1] for c in COUPONS])[kind]
    discount = np.where(with_coupon, np.round(subtotal * rate), 0).astype(np.int64)
    total = subtotal - discount
    year = (season.day0 + order_day.astype("timedelta64[D]")).astype("datetime64[Y]").astype(np.int64) + 1970
    prefix = np.array([c[0] for c in COUPONS], dtype=object)[kind]
    suffix = np.where(
        kind >= COUPON_D11,
        pd.Series(year).astype(str).to_numpy(dtype=object),
        (pd.Series(rate * 100).round().astype(int).astype(str)).to_numpy(dtype=object),
    )
    coupon_code = np.where(with_coupon, prefix + suffix, "")
    status_draw = rng.random(n_orders)
    status = np.where(
        status_draw < 0.02, "cancelled", np.where((status_draw < 0.05) & (t < now - 14), "returned", "placed")
    )
    channel = ORDER_CHANNELS[rng.choice(3, size=n_orders, p=[0.55, 0.25, 0.2])]

    order_no = np.arange(numbers.order, numbers.order + n_orders)
    order_ext = _ids("O", numbers.order, n_orders, 8)
    subtotal_s, discount_s, total_s = _money(subtotal), _money(discount), _money(total)
    orders = pd.DataFrame(
        {
            "number": order_no,
            "external_id": order_ext,
            "customer_number": customer_no[cust_idx],
            "ordered_at": t,
            "total": total_s,
            "currency": currency[cust_idx],
            "coupon_code": coupon_code,
            "status": status,
            "attributes": '{"subtotal": "'
            + subtotal_s
            + '", "discount": "'
            + discount_s
            + '", "channel": "'
            + channel
            + '"}',
        }
    )
    lines = pd.DataFrame(
        {
            "number": np.arange(numbers.line, numbers.line + line_order.size),
            "order_number": order_no[line_order],
            "product_index": line_product,
            "quantity": quantity,
            "unit_price": _money(unit_cents),
        }
    )

    # --- reviews ----------------------------------------------------------------------
    review_p = np.array([a.review_share for a in ARCHETYPES])[arch[cust_idx]]
    reviewed = np.flatnonzero((rng.random(n_orders) < review_p) & (status != "cancelled"))
    first_line = np.searchsorted(line_order, reviewed)  # lines are grouped by order
    review_t = t[reviewed] + 2 + 12 * rng.random(reviewed.size)
    ok = review_t < now - 1e-3
    reviewed, first_line, review_t = reviewed[ok], first_line[ok], review_t[ok]
    rating_p = np.array([a.ratings for a in ARCHETYPES])
    review_arch = arch[cust_idx[reviewed]]
    cum = np.cumsum(rating_p[review_arch], axis=1)
    rating = (rng.random(reviewed.size)[:, None] > cum).sum(axis=1) + 1
    review_zh = china[cust_idx[reviewed]]
    review_sort = np.lexsort((review_t, cust_idx[reviewed]))
    reviewed, first_line, review_t = reviewed[review_sort], first_line[review_sort], review_t[review_sort]
    rating, review_zh = rating[review_sort], review_zh[review_sort]
    review_ext = _ids("R", numbers.review, reviewed.size, 8)
    reviews = pd.DataFrame(
        {
            "number": np.arange(numbers.review, numbers.review + reviewed.size),
            "external_id": review_ext,
            "customer_number": customer_no[cust_idx[reviewed]],
            "product_index": line_product[first_line],
            "rating": rating,
            "text": compose_reviews(rng, rating, review_zh),
            "language": np.where(review_zh, "zh", "en"),
            "created_at": review_t,
        }
    )

    # --- events -----------------------------------------------------------------------
    window_start = now - event_days
    events = _events(
        rng,
        n=n,
        now=now,
        window_start=window_start,
        season=season,
        curve=curve,
        arch=arch,
        signup=signup,
        active_end=active_end,
        drift_at=drift_at,
        fav=fav,
        china=china,
        utc_offset=utc_offset,
        catalogue=catalogue,
        cat_start=cat_start,
        cat_sizes=cat_sizes,
        cust_idx=cust_idx,
        t=t,
        line_order=line_order,
        line_product=line_product,
        order_ext=order_ext,
        total_s=total_s,
        currency=currency,
        reviews=reviews,
        review_cust=cust_idx[reviewed],
    )
    events.insert(0, "number", np.arange(numbers.event, numbers.event + len(events)))
    events.insert(1, "external_id", _ids("E", numbers.event, len(events), 9))
    events["customer_number"] = customer_no[events.pop("customer_index").to_numpy()]

    # --- customers --------------------------------------------------------------------
    spend_usd = np.bincount(cust_idx, weights=total / fx[cust_idx] / 100.0, minlength=n)
    tier = np.select(
        [spend_usd >= 8000, spend_usd >= 3000, spend_usd >= 800, spend_usd > 0],
        ["platinum", "gold", "silver", "bronze"],
        default="",
    )
    email_p = np.array([a.email_consent for a in ARCHETYPES])[arch]
    email_opt = rng.random(n) < email_p
    sms_opt = rng.random(n) < np.where(china, 0.6, 0.3) * (email_p + 0.2)
    # Consent is recorded at signup; 30% of those without consent once opted out later.
    email_at = np.where(
        email_opt, signup + 0.001, np.where(rng.random(n) < 0.3, signup + (now - signup) * rng.random(n), np.nan)
    )
    sms_at = np.where(
        sms_opt, signup + 0.001, np.where(rng.random(n) < 0.3, signup + (now - signup) * rng.random(n), np.nan)
    )
    customers = pd.DataFrame(
        {
            "number": customer_no,
            "external_id": _ids("C", numbers.customer, n, 7),
            **{col: profile[col].to_numpy() for col in ("email", "phone", "name", "gender")},
            "birth_date": profile["birth_date"].to_numpy(),
            **{col: profile[col].to_numpy() for col in ("country", "region", "city", "occupation")},
            "signed_up_at": signup,
            "member_tier": tier,
            "email_opt_in": email_opt,
            "email_opt_in_at": email_at,
            "sms_opt_in": sms_opt,
            "sms_opt_in_at": sms_at,
            "attributes": '{"archetype": "' + ARCHETYPE_NAMES[arch] + '", "simulated": true}',
            "archetype": ARCHETYPE_NAMES[arch],
        }
    )
    return Chunk(customers, orders, lines, events, reviews)


def _events(
    rng: np.random.Generator,
    *,
    n: int,
    now: float,
    window_start: float,
    season: Season,
    curve: np.ndarray,
    arch: np.ndarray,
    signup: np.ndarray,
    active_end: np.ndarray,
    drift_at: np.ndarray,
    fav: np.ndarray,
    china: np.ndarray,
    utc_offset: np.ndarray,
    catalogue: pd.DataFrame,
    cat_start: np.ndarray,
    cat_sizes: np.ndarray,
    cust_idx: np.ndarray,
    t: np.ndarray,
    line_order: np.ndarray,
    line_product: np.ndarray,
    order_ext: np.ndarray,
    total_s: np.ndarray,
    currency: np.ndarray,
    reviews: pd.DataFrame,
    review_cust: np.ndarray,
) -> pd.DataFrame:
    """The behaviour log of the last ``event_days``: view → add_to_cart → purchase and the rest.

    Every order in the window gets a purchase event at its own time (carrying its order id),
    preceded by a cart add and views for each line; browsing sessions that end without an
    order add views, searches, abandoned carts, favourites and page views.
    """
    skus = catalogue["sku"].to_numpy(dtype=object)
    categories = catalogue["category"].to_numpy(dtype=object)
    frames: list[dict[str, np.ndarray]] = []

    def add(
        customer: np.ndarray,
        kind: str,
        when: np.ndarray,
        product: np.ndarray | None = None,
        query: np.ndarray | None = None,
        path: np.ndarray | None = None,
        properties: np.ndarray | None = None,
    ) -> None:
        size = customer.size
        blank = np.full(size, "", dtype=object)
        frames.append(
            {
                "customer_index": customer,
                "type": np.full(size, kind, dtype=object),
                "occurred_at": when,
                "sku": skus[product] if product is not None else blank,
                "category": categories[product] if product is not None else blank,
                "query": query if query is not None else blank,
                "path": path if path is not None else blank,
                "properties": properties if properties is not None else np.full(size, "{}", dtype=object),
            }
        )

    # Purchases and the steps that led to them.
    in_window = np.flatnonzero(t >= window_start)
    add(
        cust_idx[in_window],
        "purchase",
        t[in_window],
        path=np.full(in_window.size, "/checkout/done", dtype=object),
        properties='{"order_id": "'
        + order_ext[in_window]
        + '", "total": "'
        + total_s[in_window]
        + '", "currency": "'
        + currency[cust_idx[in_window]]
        + '"}',
    )
    checkout_t = t[in_window] - (1 + 4 * rng.random(in_window.size)) / 1440
    add(cust_idx[in_window], "page", checkout_t, path=np.full(in_window.size, "/checkout", dtype=object))
    window_lines = np.flatnonzero(t[line_order] >= window_start)
    lo = line_order[window_lines]
    cart_t = t[lo] - (5 + rng.exponential(25, lo.size)) / 1440
    add(
        cust_idx[lo],
        "add_to_cart",
        cart_t,
        product=line_product[window_lines],
        path=_product_paths(skus, line_product[window_lines]),
    )
    views = 1 + rng.poisson(0.4, lo.size)
    view_line, view_pos = _explode(views)
    view_t = cart_t[view_line] - (view_pos + rng.random(view_line.size)) * rng.exponential(20, view_line.size) / 1440
    add(
        cust_idx[lo][view_line],
        "view",
        view_t,
        product=line_product[window_lines][view_line],
        path=_product_paths(skus, line_product[window_lines][view_line]),
    )

    # Browsing sessions that do not end in an order.
    session_rate = np.array([a.sessions_per_180d for a in ARCHETYPES])[arch] / 180.0
    start = np.maximum(window_start, signup)
    session_cust, session_t = _seasonal_times(rng, season, curve, start, np.full(n, now), session_rate)
    fading = ((arch[session_cust] == DRIFTING) & (session_t > drift_at[session_cust])) | (
        (arch[session_cust] == CHURNED) & (session_t > active_end[session_cust])
    )
    keep = ~fading | (rng.random(session_t.size) < 0.5 ** ((session_t - drift_at[session_cust]) / 60.0))
    session_cust, session_t = session_cust[keep], session_t[keep]
    session_t = _local_time_of_day(rng, session_t, utc_offset[session_cust])
    session_t = np.clip(session_t, start[session_cust], now - 0.05)
    s = session_t.size
    pick = rng.random(s)
    n_cat = len(cat_sizes)
    s_cat = np.where(
        pick < 0.6, fav[session_cust, 0], np.where(pick < 0.85, fav[session_cust, 1], rng.integers(0, n_cat, s))
    )
    slugs = np.array(
        [
            "/c/" + name.lower().replace(" & ", "-").replace(" ", "-")
            for name in catalogue.drop_duplicates("category_index")["category"]
        ],
        dtype=object,
    )
    landing = np.where(rng.random(s) < 0.5, slugs[s_cat], LANDING_PATHS[rng.integers(0, len(LANDING_PATHS), s)])
    add(session_cust, "page", session_t, path=landing)

    searched = np.flatnonzero(rng.random(s) < 0.45)
    search_product = cat_start[s_cat[searched]] + np.floor(
        cat_sizes[s_cat[searched]] * rng.random(searched.size) ** 2
    ).astype(np.int64)
    query = _search_queries(rng, catalogue, search_product, china[session_cust[searched]])
    add(session_cust[searched], "search", session_t[searched] + 0.5 / 1440, query=query, path="/search?q=" + query)

    n_views = 1 + rng.poisson(0.9, s)
    v_session, v_pos = _explode(n_views)
    v_product = cat_start[s_cat[v_session]] + np.floor(
        cat_sizes[s_cat[v_session]] * rng.random(v_session.size) ** 2
    ).astype(np.int64)
    v_t = session_t[v_session] + (1 + v_pos * (0.5 + rng.exponential(1.5, v_session.size))) / 1440
    add(session_cust[v_session], "view", v_t, product=v_product, path=_product_paths(skus, v_product))
    last_view = np.cumsum(n_views) - 1
    abandoned = np.flatnonzero(rng.random(s) < 0.25)
    add(
        session_cust[abandoned],
        "add_to_cart",
        v_t[last_view[abandoned]] + 1 / 1440,
        product=v_product[last_view[abandoned]],
        path=_product_paths(skus, v_product[last_view[abandoned]]),
    )
    add(
        session_cust[abandoned],
        "page",
        v_t[last_view[abandoned]] + 1.5 / 1440,
        path=np.full(abandoned.size, "/cart", dtype=object),
    )
    favourite = np.flatnonzero(rng.random(v_session.size) < 0.05)
    add(
        session_cust[v_session[favourite]],
        "favorite",
        v_t[favourite] + 0.3 / 1440,
        product=v_product[favourite],
        path=_product_paths(skus, v_product[favourite]),
    )

    # Reviews written in the window.
    created = reviews["created_at"].to_numpy()
    recent = np.flatnonzero(created >= window_start)
    add(
        review_cust[recent],
        "review",
        created[recent],
        product=reviews["product_index"].to_numpy()[recent],
        path=_product_paths(skus, reviews["product_index"].to_numpy()[recent]) + "#reviews",
        properties='{"review_id": "'
        + reviews["external_id"].to_numpy()[recent]
        + '", "rating": '
        + reviews["rating"].astype(str).to_numpy(dtype=object)[recent]
        + "}",
    )

    events = pd.DataFrame({key: np.concatenate([f[key] for f in frames]) for key in frames[0]})
    occurred = events["occurred_at"].to_numpy()
    customer = events["customer_index"].to_numpy()
    # Steps before a purchase may not reach back before signup or the window.
    occurred = np.clip(occurred, np.maximum(signup[customer], window_start) if len(customer) else occurred, now - 1e-6)
    events["occurred_at"] = occurred
    order = np.lexsort((occurred, customer))
    return events.iloc[order].reset_index(drop=True)


def _product_paths(skus: np.ndarray, product: np.ndarray) -> np.ndarray:
    return "/p/" + skus[product]


def _search_queries(
    rng: np.random.Generator, catalogue: pd.DataFrame, product: np.ndarray, chinese: np.ndarray
) -> np.ndarray:
    """What shoppers type: a product kind, brand plus kind, or a category, in their language."""
    kind_en = catalogue["kind"].str.lower().to_numpy(dtype=object)
    brand = catalogue["brand"].to_numpy(dtype=object)
    options_en = np.stack([kind_en, brand + " " + kind_en, catalogue["category"].str.lower().to_numpy(dtype=object)])
    kind_zh = catalogue["kind_zh"].to_numpy(dtype=object)
    options_zh = np.stack([kind_zh, brand + kind_zh, catalogue["category_zh"].to_numpy(dtype=object)])
    choice = rng.choice(3, size=product.size, p=[0.5, 0.35, 0.15])
    return np.where(chinese, options_zh[choice, product], options_en[choice, product])
