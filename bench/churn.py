"""Churn benchmarks (part of the ``predictions`` suite): training and scoring at 1M.

- ``churn_train``: ``churn_train_run`` (two point-in-time snapshots read through the ORM,
  four candidates fitted on a 200,000-row sample, each evaluated with calibration and
  permutation importance) against the raw library calls on plain arrays: the same four
  scikit-learn estimators fitted on the same sample and scored with ``roc_auc_score``.
  The product's own timings separate reading from fitting.
- ``churn_score``: ``churn_score_all()`` (every customer's features in one read per table,
  the active model's ``predict_proba``, one staged UPDATE per 100,000-customer range) against one hand-written SQL
  statement computing the same features for every customer, read by ``COPY``, the same
  pipeline's ``predict_proba`` on the array, and one ``COPY`` + ``UPDATE … FROM``. Both
  write the same risks (asserted on a sample of customers).
"""

import io
import time

import numpy as np
import pandas as pd
from django.db import connection, transaction

from bench.harness import Measurement, vacuum

TRAIN_REPEAT = 1
SCORE_REPEAT = 2

REFERENCE_FEATURES_SQL = """
WITH o AS (
    SELECT customer_id, count(*) AS frequency, sum(total) AS monetary, min(ordered_at) AS first_order_at,
           max(ordered_at) AS last_order_at, count(*) FILTER (WHERE coupon_code <> '') AS coupon_orders,
           count(*) FILTER (WHERE ordered_at > %(d30)s) AS frequency_30d,
           coalesce(sum(total) FILTER (WHERE ordered_at > %(d30)s), 0) AS monetary_30d,
           count(*) FILTER (WHERE ordered_at > %(d90)s) AS frequency_90d,
           coalesce(sum(total) FILTER (WHERE ordered_at > %(d90)s), 0) AS monetary_90d,
           count(*) FILTER (WHERE ordered_at > %(d365)s) AS frequency_365d,
           coalesce(sum(total) FILTER (WHERE ordered_at > %(d365)s), 0) AS monetary_365d
    FROM customers_order WHERE status = 'placed' AND ordered_at <= %(as_of)s GROUP BY customer_id
), e AS (
    SELECT customer_id, max(occurred_at) AS last_event_at,
           {event_counts}
    FROM customers_event
    WHERE occurred_at > %(d90)s AND occurred_at <= %(as_of)s
      AND type IN ('view', 'search', 'add_to_cart', 'favorite')
    GROUP BY customer_id
), r AS (
    SELECT customer_id, count(*) AS review_count, avg(rating) AS avg_rating
    FROM customers_review WHERE created_at <= %(as_of)s GROUP BY customer_id
)
SELECT c.id,
       extract(epoch FROM %(as_of)s - o.last_order_at) / 86400.0,
       extract(epoch FROM %(as_of)s - o.first_order_at) / 86400.0,
       extract(epoch FROM %(as_of)s - c.signed_up_at) / 86400.0,
       extract(epoch FROM %(as_of)s - e.last_event_at) / 86400.0,
       coalesce(o.frequency, 0), coalesce(o.frequency_30d, 0), coalesce(o.frequency_90d, 0),
       coalesce(o.frequency_365d, 0), coalesce(o.monetary, 0), coalesce(o.monetary_30d, 0),
       coalesce(o.monetary_90d, 0), coalesce(o.monetary_365d, 0),
       coalesce(o.monetary / nullif(o.frequency, 0), 0), coalesce(o.coupon_orders, 0),
       coalesce(o.coupon_orders::float8 / nullif(o.frequency, 0), 0),
       {event_columns},
       coalesce(r.review_count, 0), r.avg_rating, c.email_opt_in::int, c.sms_opt_in::int
FROM customers_customer c
LEFT JOIN o ON o.customer_id = c.id LEFT JOIN e ON e.customer_id = c.id LEFT JOIN r ON r.customer_id = c.id
WHERE c.signed_up_at <= %(as_of)s OR c.signed_up_at IS NULL
"""


def _reference_sql() -> str:
    from analytics.churn.model import EVENT_COUNT_COLUMNS

    counts = []
    for name in EVENT_COUNT_COLUMNS:
        kind, window = name.rsplit("_", 1)
        counts.append(f"count(*) FILTER (WHERE type = '{kind}' AND occurred_at > %(d{window[:-1]})s) AS {name}")
    counts = ",\n           ".join(counts)
    columns = ", ".join(f"coalesce(e.{name}, 0)" for name in EVENT_COUNT_COLUMNS)
    return REFERENCE_FEATURES_SQL.format(event_counts=counts, event_columns=columns)


def _params(as_of) -> dict:
    import datetime as dt

    return {"as_of": as_of, **{f"d{days}": as_of - dt.timedelta(days=days) for days in (30, 90, 365)}}


def reference_score(pipeline, as_of) -> int:
    """The hand-written path: one statement, COPY out, predict, COPY in, one UPDATE."""
    from analytics.churn.model import RAW_COLUMNS

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL jit = off")
        sql = cursor.mogrify(_reference_sql(), _params(as_of))
        buffer = io.BytesIO()
        with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT") as copy:
            for block in copy:
                buffer.write(block)
        buffer.seek(0)
        frame = pd.read_csv(buffer, sep="\t", header=None, names=["customer_id", *RAW_COLUMNS], na_values=["\\N"])
        risk = pipeline.predict_proba(frame[list(RAW_COLUMNS)])[:, 1]
        cursor.execute("CREATE TEMPORARY TABLE bench_churn_stage (customer_id bigint PRIMARY KEY, risk float8) "
                       "ON COMMIT DROP")  # fmt: skip
        text = pd.DataFrame({"c": frame["customer_id"], "r": risk}).to_csv(sep="\t", header=False, index=False)
        with cursor.cursor.copy("COPY bench_churn_stage FROM STDIN") as copy:
            copy.write(text)
        cursor.execute(
            "UPDATE segments_customerfeatures f SET churn_risk = s.risk FROM bench_churn_stage s "
            "WHERE s.customer_id = f.customer_id AND f.churn_risk IS DISTINCT FROM s.risk"
        )
        return cursor.rowcount


def _sample_risks(ids: list[int]) -> dict[int, float]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT customer_id, churn_risk FROM segments_customerfeatures WHERE customer_id = ANY(%s)",
                       [ids])  # fmt: skip
        return dict(cursor.fetchall())


def bench_churn(state=None) -> list[Measurement]:
    from sklearn.base import clone
    from sklearn.metrics import roc_auc_score

    from analytics.churn import model as churn_model
    from analytics.churn.services import churn_active_pipeline, churn_train_run
    from analytics.models import ChurnModel
    from segments.churn_scores import churn_score_all

    measurements = []
    # --- training: the product path once (minutes), the raw fits on the same sample.
    started = time.perf_counter()
    version = ChurnModel.objects.create(horizon_days=90)
    version = churn_train_run(model_id=version.pk, score=False)
    product_train = time.perf_counter() - started
    if version.status != ChurnModel.Status.SUCCEEDED:
        raise AssertionError(f"churn training failed: {version.error}")
    from analytics.churn.dataset import churn_features, churn_labels

    train_X = churn_features(as_of=version.train_cutoff)
    train_y = churn_labels(as_of=version.train_cutoff, horizon_days=90, customer_ids=train_X.index).to_numpy()
    test_X = churn_features(as_of=version.test_cutoff)
    test_y = churn_labels(as_of=version.test_cutoff, horizon_days=90, customer_ids=test_X.index).to_numpy()
    rows = churn_model._stratified_sample(train_y, churn_model.TRAIN_SAMPLE, np.random.default_rng(0))
    fit_X = train_X.iloc[rows][list(churn_model.RAW_COLUMNS)].to_numpy()
    started = time.perf_counter()
    aucs = {}
    for name, pipeline in churn_model._candidates(0).items():
        fitted = clone(pipeline).fit(fit_X, train_y[rows])
        aucs[name] = roc_auc_score(test_y, fitted.predict_proba(test_X[list(churn_model.RAW_COLUMNS)].to_numpy())[:, 1])
    reference_train = time.perf_counter() - started
    product_fit = version.timings.get("fit", float("nan"))
    measurements.append(Measurement(
        name="churn training (4 models, time split)", target="—",
        product_seconds=[product_fit], reference_seconds=[reference_train],
        notes=(f"product fit + evaluation {product_fit:.1f} s (reading two snapshots {version.timings.get('read')} s, "
               f"whole run {product_train:.1f} s); reference: the same four estimators fitted on the same "
               f"{len(rows):,}-row sample and scored on {len(test_y):,} test customers; best {version.chosen} "
               f"AUC {max(e['roc_auc'] for e in version.evaluations):.3f} (reference "
               f"{aucs[version.chosen]:.3f}), recency baseline {version.baseline['roc_auc']:.3f}"),
        extra={"evaluations": version.evaluations, "baseline": version.baseline, "reference_auc": aucs},
    ))  # fmt: skip
    print(f"  churn training: product fit {product_fit:.1f} s (run {product_train:.1f} s), "
          f"reference {reference_train:.1f} s", flush=True)  # fmt: skip

    # --- scoring every customer.
    _, pipeline = churn_active_pipeline()
    product, reference, changed = [], [], 0
    for _ in range(SCORE_REPEAT):
        with connection.cursor() as cursor:
            cursor.execute("UPDATE segments_customerfeatures SET churn_risk = NULL WHERE churn_risk IS NOT NULL")
        vacuum("segments_customerfeatures")
        started = time.perf_counter()
        result = churn_score_all()
        product.append(time.perf_counter() - started)
        changed = result.changed
        sample = list(range(1, 1_000_001, 10_007))
        written = _sample_risks(sample)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE segments_customerfeatures SET churn_risk = NULL WHERE churn_risk IS NOT NULL")
        vacuum("segments_customerfeatures")
        started = time.perf_counter()
        reference_score(pipeline, result.as_of)
        reference.append(time.perf_counter() - started)
        again = _sample_risks(sample)
        if any(abs((written[i] or 0) - (again[i] or 0)) > 1e-6 for i in written):
            raise AssertionError("churn scoring: product and hand-written risks differ")
    measurements.append(Measurement(
        name="churn scoring, every customer", target="≤ 60 s", product_seconds=product, reference_seconds=reference,
        items=changed, unit="customers",
        notes=f"{changed:,} risks written by churn_score_all() in 100,000-customer ranges; reference: one "
              "hand-written feature statement, COPY out, predict_proba, COPY in, one UPDATE (same risks)",
    ))  # fmt: skip
    print(f"  churn scoring: product {min(product):.1f} s, reference {min(reference):.1f} s", flush=True)
    return measurements
