"""Segments benchmarks: the full feature refresh and five reference rules, each next to
hand-written SQL for the same result in the same run.

- ``refresh``: ``features_refresh_full(parallel=2)`` against one hand-written
  ``CREATE TABLE … AS`` computing the core feature columns (checked equal to the product's).
- ``rules``: the audience count of five reference rules through the product path
  (``rule_audience(rule).count()``, the count ``segment_preview`` runs) against a
  hand-written count of the same audience; the counts must be equal.
- ``preview``: ``segment_preview`` (count + 20-customer sample, one query) of the same
  rules against one hand-written statement giving the count (``count(*) OVER ()``) and the
  newest 20 customers.
- ``kmeans``: a k-means clustering run over every buyer (k chosen by silhouette), the
  whole service path (load, scale, choose k, fit, profiles) against the raw library calls
  for the same job: one ``COPY`` into pandas, log1p + standardise in NumPy, scikit-learn's
  ``KMeans`` and ``silhouette_score`` to choose k on a sample, one full fit; same
  customers asserted.

Every operation uses one reference time: the refresh writes the features ``as_of`` the
suite's start, and the rules are evaluated with ``now`` = the ``as_of`` of the features
they read. Each entry of ``BENCHES`` is a function taking that ``Bench`` state and returning
a list of measurements, so another operation (e.g. k-means) is one more function and key.
"""

import datetime as dt
import time
from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone

from bench.harness import Measurement, percentile, timed, vacuum, write_results
from segments.models import FEATURE_WINDOWS, ORDER_WINDOWS

REFRESH_PARALLEL = 2
REFRESH_REPEAT = 3
RULE_REPEAT = 5
PREVIEW_REPEAT = 5
SAMPLE_SIZE = 20
BENCH_SEGMENT = "bench: high spenders"
REF_FEATURES = "bench_ref_features"
EVENT_TYPES = ("view", "search", "add_to_cart", "favorite", "purchase", "review", "page")


@dataclass
class Bench:
    """State shared by the operations of one run: the reference time and what was set up."""

    as_of: dt.datetime
    features_as_of: dt.datetime | None = None
    segment_id: int | None = None
    notes: dict = field(default_factory=dict)


def _sql(statement: str, params=None, fetch: bool = True):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if fetch else None


# --- 1. full feature refresh -------------------------------------------------------------


def _window_params(as_of: dt.datetime) -> dict:
    params = {"as_of": as_of}
    for days in sorted({*ORDER_WINDOWS, *FEATURE_WINDOWS}):
        params[f"since_{days}"] = as_of - dt.timedelta(days=days)
    return params


def _reference_features_sql() -> str:
    order_windows = ",\n".join(
        f"        count(*) FILTER (WHERE ordered_at >= %(since_{d})s) AS frequency_{d}d,\n"
        f"        coalesce(sum(total) FILTER (WHERE ordered_at >= %(since_{d})s), 0) AS monetary_{d}d"
        for d in ORDER_WINDOWS
    )
    event_counts = ",\n".join(
        f"        count(*) FILTER (WHERE type = '{t}' AND occurred_at >= %(since_{d})s) AS {t}_count_{d}d"
        for t in EVENT_TYPES
        for d in FEATURE_WINDOWS
    )
    order_select = ",\n".join(
        f"    coalesce(o.frequency_{d}d, 0) AS frequency_{d}d, coalesce(o.monetary_{d}d, 0) AS monetary_{d}d"
        for d in ORDER_WINDOWS
    )
    event_select = ",\n".join(
        f"    coalesce(e.{t}_count_{d}d, 0) AS {t}_count_{d}d" for t in EVENT_TYPES for d in FEATURE_WINDOWS
    )
    favourites = "\n".join(
        f"""favourite_{kind} AS (
    SELECT DISTINCT ON (customer_id) customer_id, {kind}
    FROM (SELECT customer_id, {kind}, sum(quantity) AS quantity FROM bought WHERE {kind} <> ''
          GROUP BY customer_id, {kind}) t
    ORDER BY customer_id, quantity DESC, {kind}
),"""
        for kind in ("category", "brand")
    )
    # Quintile scores with ntile() over the buyers (the product uses nearest-rank cut points).
    scores = ",\n".join(
        f"    CASE WHEN o.customer_id IS NOT NULL THEN ntile(5) OVER (PARTITION BY o.customer_id IS NULL "
        f"ORDER BY {order}) END AS {name}"
        for name, order in (("r_score", "o.last_order_at"), ("f_score", "o.frequency"), ("m_score", "o.monetary"))
    )
    return f"""
CREATE TABLE {REF_FEATURES} AS
WITH orders AS (
    SELECT customer_id, count(*) AS frequency, sum(total) AS monetary,
{order_windows},
        min(ordered_at) AS first_order_at, max(ordered_at) AS last_order_at,
        count(*) FILTER (WHERE coupon_code <> '') AS coupon_orders
    FROM customers_order WHERE status = 'placed' AND ordered_at <= %(as_of)s
    GROUP BY customer_id
),
bought AS (
    SELECT o.customer_id, p.category, p.brand, sum(l.quantity) AS quantity
    FROM customers_order o
    JOIN customers_orderline l ON l.order_id = o.id
    JOIN customers_product p ON p.id = l.product_id
    WHERE o.status = 'placed' AND o.ordered_at <= %(as_of)s
    GROUP BY o.customer_id, p.category, p.brand
),
{favourites}
events AS (
    SELECT customer_id,
{event_counts}
    FROM customers_event WHERE occurred_at >= %(since_90)s AND occurred_at <= %(as_of)s
    GROUP BY customer_id
),
reviews AS (
    SELECT customer_id, count(*) AS review_count, avg(rating) AS avg_rating
    FROM customers_review WHERE created_at <= %(as_of)s GROUP BY customer_id
)
SELECT c.id AS customer_id,
    floor(extract(epoch FROM %(as_of)s - o.last_order_at) / 86400)::int AS recency_days,
    coalesce(o.frequency, 0) AS frequency, coalesce(o.monetary, 0) AS monetary,
{order_select},
    o.monetary / o.frequency AS avg_order_value, o.first_order_at, o.last_order_at,
    1.0 * o.coupon_orders / o.frequency AS coupon_order_share,
    coalesce(fc.category, '') AS favourite_category, coalesce(fb.brand, '') AS favourite_brand,
{event_select},
    coalesce(r.review_count, 0) AS review_count, r.avg_rating,
{scores}
FROM customers_customer c
LEFT JOIN orders o ON o.customer_id = c.id
LEFT JOIN favourite_category fc ON fc.customer_id = c.id
LEFT JOIN favourite_brand fb ON fb.customer_id = c.id
LEFT JOIN events e ON e.customer_id = c.id
LEFT JOIN reviews r ON r.customer_id = c.id
"""


# Columns the reference computes exactly as the product defines them (compared after each run).
_EXACT_COLUMNS = [
    "recency_days",
    "frequency",
    "monetary",
    *[f"{kind}_{d}d" for d in ORDER_WINDOWS for kind in ("frequency", "monetary")],
    "first_order_at",
    "last_order_at",
    "favourite_category",
    "favourite_brand",
    *[f"{t}_count_{d}d" for t in EVENT_TYPES for d in FEATURE_WINDOWS],
    "review_count",
]


def reference_features(as_of: dt.datetime) -> None:
    """Hand-written: one CREATE TABLE … AS with the core feature columns of every customer,
    with the session settings the product's refresh uses (work_mem 256MB, no JIT)."""
    with connection.cursor() as cursor:
        cursor.execute("SET work_mem = '256MB'")
        cursor.execute("SET jit = off")
        try:
            cursor.execute(_reference_features_sql(), _window_params(as_of))
        finally:
            cursor.execute("RESET work_mem")
            cursor.execute("RESET jit")


def _drop_reference_features() -> None:
    _sql(f"DROP TABLE IF EXISTS {REF_FEATURES}", fetch=False)


def _check_reference_features() -> int:
    """The reference table must hold the product's values for the columns it computes."""
    left = ", ".join(f"r.{c}" for c in _EXACT_COLUMNS) + ", round(r.avg_order_value, 2)"
    right = ", ".join(f"f.{c}" for c in _EXACT_COLUMNS) + ", f.avg_order_value"
    [(rows, features, different)] = _sql(
        f"SELECT (SELECT count(*) FROM {REF_FEATURES}), (SELECT count(*) FROM segments_customerfeatures),"
        f" (SELECT count(*) FROM {REF_FEATURES} r LEFT JOIN segments_customerfeatures f USING (customer_id)"
        f"  WHERE ({left}) IS DISTINCT FROM ({right}))"
    )
    if rows != features or different:
        raise AssertionError(
            f"reference features differ from the product's: {rows} rows vs {features}, {different} rows differ"
        )
    return rows


def bench_feature_refresh(state: Bench, repeat: int = REFRESH_REPEAT) -> list[Measurement]:
    from segments.services import features_refresh_full

    product, reference = [], []
    customers = 0
    for run in range(repeat):

        def refresh():
            result = features_refresh_full(as_of=state.as_of, parallel=REFRESH_PARALLEL)
            assert result.status == "succeeded", result.status

        product += timed(refresh, 1, setup=lambda: vacuum("segments_customerfeatures"))
        reference += timed(lambda: reference_features(state.as_of), 1, setup=_drop_reference_features)
        if run == 0:
            customers = _check_reference_features()
        _drop_reference_features()
        print(f"  refresh run {run + 1}: product {product[-1]:.1f} s, reference {reference[-1]:.1f} s", flush=True)
    vacuum("segments_customerfeatures")
    state.features_as_of = state.as_of
    return [
        Measurement(
            name=f"feature refresh, full ({customers:,} customers, {REFRESH_PARALLEL} connections)",
            target="≤ 60 s",
            product_seconds=product,
            reference_seconds=reference,
            items=customers,
            unit="customers",
            notes="product: features_refresh_full(parallel=2), an upsert of every row (VACUUM between runs); "
            "reference: one CREATE TABLE … AS (PostgreSQL's own parallel workers) with recency, frequency, "
            "monetary, the 30/90/365-day order windows, first/last order, average order value, coupon share, "
            "favourite category and brand, the 21 event counts and reviews — checked equal to the product's "
            "values — and ntile() RFM scores; not computed: interest categories, the nearest-rank threshold "
            "query, RFM segment names and tiers",
            extra={"as_of": state.as_of.isoformat()},
        )
    ]


# --- 2. reference rules --------------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceRule:
    key: str
    title: str
    rule: dict
    source: str  # FROM clause of the hand-written query, customers aliased c
    where: str  # its WHERE clause, with %(now)s, %(since_N)s, %(segment)s parameters


def _group(op: str, *children, negate: bool = False) -> dict:
    return {"type": "group", "op": op, "negate": negate, "children": list(children)}


def _field(name: str, operator: str, value=None) -> dict:
    node = {"type": "condition", "field": name, "operator": operator}
    if value is not None:
        node["value"] = value
    return node


SEGMENT_RULE = _group("and", _field("features.consumption_tier", "equals", "high"))
RULES_WITHOUT_SEGMENT: list[ReferenceRule] = [
    ReferenceRule(
        "a",
        "profile only",
        _group(
            "and",
            _field("profile.country", "in", ["US", "GB", "CA", "AU"]),
            _field("profile.gender", "equals", "female"),
            _field("consent.email", "is_true"),
        ),
        "customers_customer c",
        "c.country IN ('US', 'GB', 'CA', 'AU') AND c.gender = 'female' AND c.email_opt_in",
    ),
    ReferenceRule(
        "b",
        "behaviour window",
        _group(
            "and",
            {
                "type": "behaviour",
                "event": "add_to_cart",
                "count": {"op": "gte", "value": 2},
                "window": {"last_days": 30},
                "filters": {"category": "Beauty & Skincare"},
            },
        ),
        "customers_customer c",
        "c.id IN (SELECT customer_id FROM customers_event WHERE type = 'add_to_cart'"
        " AND occurred_at >= %(since_30)s AND occurred_at <= %(now)s AND category = 'Beauty & Skincare'"
        " GROUP BY customer_id HAVING count(*) >= 2)",
    ),
    ReferenceRule(
        "c",
        "purchase category",
        _group(
            "and",
            {
                "type": "purchase",
                "product": {"category": "Electronics"},
                "measure": "amount",
                "count": {"op": "gte", "value": 300},
                "window": {"last_days": 365},
            },
        ),
        "customers_customer c",
        "c.id IN (SELECT o.customer_id FROM customers_order o"
        " JOIN customers_orderline l ON l.order_id = o.id JOIN customers_product p ON p.id = l.product_id"
        " WHERE o.status = 'placed' AND o.ordered_at >= %(since_365)s AND o.ordered_at <= %(now)s"
        " AND p.category = 'Electronics' GROUP BY o.customer_id HAVING sum(l.quantity * l.unit_price) >= 300)",
    ),
    ReferenceRule(
        "d",
        "nested AND/OR with NOT",
        _group(
            "and",
            _field("profile.country", "equals", "CN"),
            _group(
                "or",
                _field("features.rfm_segment", "in", ["champions", "loyal", "potential_loyalist"]),
                {"type": "behaviour", "event": "add_to_cart", "window": {"last_days": 7}},
            ),
            _group(
                "or",
                _field("consent.sms", "is_false"),
                {"type": "purchase", "window": {"last_days": 30}},
                negate=True,
            ),
        ),
        "customers_customer c LEFT JOIN segments_customerfeatures f ON f.customer_id = c.id",
        "c.country = 'CN'"
        " AND (f.rfm_segment IN ('champions', 'loyal', 'potential_loyalist')"
        "      OR EXISTS (SELECT 1 FROM customers_event e WHERE e.customer_id = c.id AND e.type = 'add_to_cart'"
        "                 AND e.occurred_at >= %(since_7)s AND e.occurred_at <= %(now)s))"
        " AND c.sms_opt_in"
        " AND NOT EXISTS (SELECT 1 FROM customers_order o WHERE o.customer_id = c.id AND o.status = 'placed'"
        "                 AND o.ordered_at >= %(since_30)s AND o.ordered_at <= %(now)s)",
    ),
]


def _segment_rule(segment_id: int) -> ReferenceRule:
    return ReferenceRule(
        "e",
        "over another segment",
        _group(
            "and",
            {"type": "segment", "segment_id": segment_id, "member": True},
            _field("features.recency_days", "gt", 90),
            _field("consent.email", "is_true"),
        ),
        "customers_customer c"
        " JOIN segments_segmentmembership m ON m.customer_id = c.id AND m.segment_id = %(segment)s"
        " AND m.left_at IS NULL JOIN segments_customerfeatures f ON f.customer_id = c.id",
        "f.recency_days > 90 AND c.email_opt_in",
    )


def _rule_params(rule: ReferenceRule, state: Bench) -> dict:
    now = state.features_as_of
    params = {"now": now, "segment": state.segment_id}
    for days in (7, 30, 90, 365):
        params[f"since_{days}"] = now - dt.timedelta(days=days)
    return params


def reference_count(rule: ReferenceRule, state: Bench) -> int:
    [(count,)] = _sql(f"SELECT count(*) FROM {rule.source} WHERE {rule.where}", _rule_params(rule, state))
    return count


def reference_sample(rule: ReferenceRule, state: Bench) -> list[str]:
    rows = _sql(
        f"SELECT c.external_id, c.name, c.email, c.country, c.city FROM {rule.source} WHERE {rule.where}"
        f" ORDER BY c.id DESC LIMIT {SAMPLE_SIZE}",
        _rule_params(rule, state),
    )
    return [row[0] for row in rows]


def reference_preview(rule: ReferenceRule, state: Bench) -> tuple[int, list[str]]:
    """Count and newest sample in one statement, the way one would write it by hand."""
    rows = _sql(
        f"SELECT c.external_id, c.name, c.email, c.country, c.city, count(*) OVER () FROM {rule.source}"
        f" WHERE {rule.where} ORDER BY c.id DESC LIMIT {SAMPLE_SIZE}",
        _rule_params(rule, state),
    )
    return (rows[0][-1] if rows else 0), [row[0] for row in rows]


def _ensure_features(state: Bench) -> None:
    """Rules read the feature table: every customer needs a row of one refresh, whose
    ``as_of`` is then the ``now`` of every rule (refreshed here, untimed, if not so)."""
    if state.features_as_of is not None:
        return
    [(customers, rows, first, last)] = _sql(
        "SELECT (SELECT count(*) FROM customers_customer), count(*), min(as_of), max(as_of)"
        " FROM segments_customerfeatures"
    )
    if rows != customers or first != last:
        from segments.services import features_refresh_full

        print("  refreshing features first (untimed)", flush=True)
        features_refresh_full(as_of=state.as_of, parallel=REFRESH_PARALLEL)
        vacuum("segments_customerfeatures")
        first = state.as_of
    state.features_as_of = first


def _ensure_segment(state: Bench) -> None:
    """The saved dynamic segment rule (e) refers to, refreshed with the rules' ``now``."""
    if state.segment_id is not None:
        return
    from segments.models import Segment
    from segments.services import segment_create, segment_refresh, segment_update

    segment = Segment.objects.filter(name=BENCH_SEGMENT).first()
    if segment is None:
        segment = segment_create(name=BENCH_SEGMENT, rule=SEGMENT_RULE, description="Benchmark: consumption tier high")
    elif segment.rule != SEGMENT_RULE:
        segment_update(segment=segment, rule=SEGMENT_RULE)
    [seconds] = timed(lambda: segment_refresh(segment_id=segment.pk, now=state.features_as_of), 1)
    vacuum("segments_segmentmembership")
    segment.refresh_from_db()
    state.segment_id = segment.pk
    state.notes["segment"] = {"id": segment.pk, "size": segment.size, "refresh_seconds": round(seconds, 2)}
    print(f"  segment {BENCH_SEGMENT!r}: {segment.size:,} members, refreshed in {seconds:.1f} s", flush=True)


def _reference_rules(state: Bench) -> list[ReferenceRule]:
    _ensure_features(state)
    _ensure_segment(state)
    return [*RULES_WITHOUT_SEGMENT, _segment_rule(state.segment_id)]


def bench_rule_counts(state: Bench, repeat: int = RULE_REPEAT) -> list[Measurement]:
    from segments.rules.audience import rule_audience

    measurements = []
    for rule in _reference_rules(state):

        def product_count(rule=rule):
            return rule_audience(rule.rule, now=state.features_as_of).count()

        # Untimed first run of both: equal counts, and warm caches for the timed runs.
        expected, got = reference_count(rule, state), product_count()
        if got != expected:
            raise AssertionError(f"rule ({rule.key}) {rule.title}: product count {got:,} != reference {expected:,}")
        product, reference = [], []
        for _ in range(repeat):
            product += timed(product_count, 1)
            reference += timed(lambda rule=rule: reference_count(rule, state), 1)
        audience = rule_audience(rule.rule, now=state.features_as_of)
        measurement = Measurement(
            name=f"rule ({rule.key}) {rule.title}: count",
            target="≤ 1.5× hand-written SQL",
            product_seconds=product,
            reference_seconds=reference,
            notes=f"{got:,} customers (product count = hand-written count)",
            extra={
                "count": got,
                "rule": rule.rule,
                "product_sql": str(audience.order_by().query),
                "reference_sql": f"SELECT count(*) FROM {rule.source} WHERE {rule.where}",
                "now": state.features_as_of.isoformat(),
            },
        )
        print(
            f"  ({rule.key}) {got:,} customers: product {measurement.product_median * 1000:,.0f} ms, "
            f"reference {measurement.reference_median * 1000:,.0f} ms, ratio {measurement.ratio:.2f}",
            flush=True,
        )
        measurements.append(measurement)
    return measurements


def bench_rule_previews(state: Bench, repeat: int = PREVIEW_REPEAT) -> list[Measurement]:
    from segments.selectors import segment_preview

    measurements = []
    for rule in _reference_rules(state):

        def product_preview(rule=rule):
            return segment_preview(rule=rule.rule, sample_size=SAMPLE_SIZE, now=state.features_as_of)

        def hand_written_preview(rule=rule):
            return reference_preview(rule, state)

        preview = product_preview()
        count, sample = hand_written_preview()
        if (count, sample) != (reference_count(rule, state), reference_sample(rule, state)):
            raise AssertionError(f"rule ({rule.key}) {rule.title}: the one-statement reference disagrees")
        if preview.size != count or [row["external_id"] for row in preview.sample] != sample:
            raise AssertionError(f"rule ({rule.key}) {rule.title}: preview differs from the hand-written one")
        product, reference = [], []
        for _ in range(repeat):
            product += timed(product_preview, 1)
            reference += timed(hand_written_preview, 1)
        measurement = Measurement(
            name=f"rule ({rule.key}) {rule.title}: preview",
            target="p50 ≤ 1 s",
            product_seconds=product,
            reference_seconds=reference,
            notes=f"segment_preview: count + {SAMPLE_SIZE}-customer sample in one query (same as the hand-written one)",
            extra={"count": count, "now": state.features_as_of.isoformat()},
        )
        print(
            f"  ({rule.key}) preview p50 {measurement.product_median * 1000:,.0f} ms, "
            f"reference {measurement.reference_median * 1000:,.0f} ms",
            flush=True,
        )
        measurements.append(measurement)
    return measurements


# --- 4. k-means -------------------------------------------------------------------------

KMEANS_FEATURES = ["recency_days", "frequency", "monetary", "avg_order_value", "coupon_order_share", "review_count"]
KMEANS_REPEAT = 2
KMEANS_FIT_STEPS = ("load", "scale", "fit", "profile")


def _reference_kmeans():
    """What an analyst would write by hand: the buyers' features by COPY, NULLs as the
    product reads them, log1p where the product logs, z-scores; then scikit-learn's
    k-means on a 20,000-row sample for k = 2..8, the k with the best silhouette (on 5,000
    of them, single-threaded as the product does), and one full fit with that k."""
    import io

    import numpy as np
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from threadpoolctl import threadpool_limits

    from segments.clustering.catalogue import CLUSTER_FEATURES

    columns = ", ".join(f"{name}::float8" for name in KMEANS_FEATURES)
    buffer = io.BytesIO()
    with connection.cursor() as cursor:
        sql = f"COPY (SELECT customer_id, {columns} FROM segments_customerfeatures WHERE frequency > 0) TO STDOUT"
        with cursor.cursor.copy(sql) as copy:
            for block in copy:
                buffer.write(block)
    buffer.seek(0)
    frame = pd.read_csv(buffer, sep="\t", header=None, names=["customer_id", *KMEANS_FEATURES], na_values=["\\N"])
    raw = frame[KMEANS_FEATURES].to_numpy(dtype=np.float64)
    recency = KMEANS_FEATURES.index("recency_days")
    raw[:, recency] = np.where(np.isnan(raw[:, recency]), np.nanmax(raw[:, recency]) + 1, raw[:, recency])
    raw = np.nan_to_num(raw, nan=0.0)
    logged = [CLUSTER_FEATURES[name].log for name in KMEANS_FEATURES]
    raw[:, logged] = np.log1p(np.clip(raw[:, logged], 0, None))
    matrix = (raw - raw.mean(axis=0)) / np.where(raw.std(axis=0) > 0, raw.std(axis=0), 1.0)
    rng = np.random.default_rng(0)
    sample = matrix[rng.choice(len(matrix), size=min(20_000, len(matrix)), replace=False)]
    with threadpool_limits(limits=1):  # small fits: threads cost more than they save
        scores = {
            k: silhouette_score(sample, KMeans(n_clusters=k, n_init=3, random_state=0).fit_predict(sample),
                                sample_size=min(5_000, len(sample)), random_state=0)
            for k in range(2, 9)
        }  # fmt: skip
    best = max(scores, key=lambda k: (scores[k], -k))
    return len(frame), KMeans(n_clusters=best, n_init=1, random_state=0).fit(matrix)


def bench_kmeans(state: Bench, repeat: int = KMEANS_REPEAT) -> list[Measurement]:
    """The product's run goes through ``clustering_run_start`` with the fit executed in
    this process (as a worker would); its own step timings separate the fit from writing
    the members, which the reference does not do."""
    from config.celery import app
    from segments.clustering.services import clustering_run_start
    from segments.models import ClusteringRun

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    product, product_total, reference, runs = [], [], [], []
    try:
        for _ in range(repeat):
            started = time.perf_counter()
            run = clustering_run_start(algorithm="kmeans", features=KMEANS_FEATURES)
            product_total.append(time.perf_counter() - started)
            run.refresh_from_db()
            if run.status != ClusteringRun.Status.SUCCEEDED:
                raise AssertionError(f"k-means run failed: {run.error}")
            product.append(sum(run.timings[step] for step in KMEANS_FIT_STEPS))
            runs.append(run)
            started = time.perf_counter()
            customers, model = _reference_kmeans()
            reference.append(time.perf_counter() - started)
            if customers != run.customers:
                raise AssertionError(f"k-means: reference clustered {customers:,} customers, product {run.customers:,}")
    finally:
        app.conf.task_always_eager = eager
    last = runs[-1]
    sizes = sorted(profile["size"] for profile in last.profiles)
    measurement = Measurement(
        name=f"k-means, k chosen by silhouette, {len(KMEANS_FEATURES)} features",
        target="≤ 30 s",
        product_seconds=product,
        reference_seconds=reference,
        notes=(
            f"{last.customers:,} buyers, k = {last.k_used} (sizes {', '.join(f'{n:,}' for n in sizes)}); "
            f"product = load + scale + choose k + fit + profiles; writing the labels adds "
            f"{', '.join(f'{total - fit:.1f}' for total, fit in zip(product_total, product, strict=True))} s; "
            f"reference = COPY + NumPy scaling + scikit-learn KMeans for k = 2..8 on a 20,000 sample, "
            f"silhouette on 5,000, one full fit (its k: {model.n_clusters})"
        ),
        extra={"timings": [run.timings for run in runs], "features": KMEANS_FEATURES,
               "reference_inertia": float(model.inertia_)},
    )  # fmt: skip
    print(
        f"  k-means: {last.customers:,} buyers, k={last.k_used}: product {measurement.product_median:.1f} s "
        f"(+ write {product_total[-1] - product[-1]:.1f} s), reference {measurement.reference_median:.1f} s",
        flush=True,
    )
    ClusteringRun.objects.filter(pk__in=[run.pk for run in runs]).delete()
    vacuum("segments_clustermember", "segments_customerfeatures")
    return [measurement]


BENCHES = {
    "refresh": "bench_feature_refresh",
    "rules": "bench_rule_counts",
    "preview": "bench_rule_previews",
    "kmeans": "bench_kmeans",
}


def run(context: dict, only: list[str] | None = None) -> None:
    state = Bench(as_of=timezone.now().replace(microsecond=0))
    measurements = []
    for key, name in BENCHES.items():
        if only and key not in only:
            continue
        bench = globals()[name]
        print(f"running {bench.__name__}", flush=True)
        for measurement in bench(state):
            # The table shows the product's p95 only; the reference's goes into the notes.
            reference_p95 = percentile(measurement.reference_seconds, 95)
            measurement.notes += f"; reference p95 {reference_p95 * 1000:,.0f} ms"
            measurement.extra["reference_p95_seconds"] = reference_p95
            measurements.append(measurement)
    if state.features_as_of is not None:
        context = context | {"features as_of": state.features_as_of.isoformat()}
    if "segment" in state.notes:
        segment = state.notes["segment"]
        context = context | {
            "segment S": f"{BENCH_SEGMENT!r}, {segment['size']:,} members, refreshed in {segment['refresh_seconds']} s"
        }
    path = write_results("segments", measurements, context)
    print(f"wrote {path}")
