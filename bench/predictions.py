"""Prediction benchmarks: the lifetime-value fit and scoring through the product path, next
to a hand-written reference for the same parameters in the same run.

- ``clv``: what the CLV job does without its writes: ``clv_transactions`` (one grouped
  query, COPY), ``clv_fit`` (BG/NBD + Gamma-Gamma, the holdout check) and ``clv_scores``
  (P(alive), expected purchases, CLV of every customer) — against one hand-written SQL
  query computing the RFM summary (x, t_x, T, m_x per customer) in PostgreSQL, read with
  COPY into a NumPy array, and the two likelihoods written out here (independently of
  ``analytics.clv.model``) minimised with ``scipy.optimize.minimize``. The parameters must
  agree (relative 1e-3) and so must the number of customers, or the run stops.

- ``churn``: training and scoring of the churn models, see ``bench/churn.py``.

The split is chosen from the data's dates, like CDNOW's 39 + 39 weeks: the holdout is the
last 39 weeks (half the data's span when it is shorter), the calibration everything before.
"""

from __future__ import annotations

import datetime as dt
import io
import time
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.db import connection
from scipy.optimize import minimize
from scipy.special import betaln, gammaln

from bench.harness import Measurement, percentile, write_results

CLV_REPEAT = 2
CLV_HOLDOUT_WEEKS = 39
CLV_RTOL = 1e-3
BGNBD_NAMES = ("r", "alpha", "a", "b")
GAMMA_GAMMA_NAMES = ("p", "q", "v")


def _order_days() -> tuple[dt.date, dt.date]:
    """First and last day with a placed order, in the shop's time zone."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min((ordered_at AT TIME ZONE %s)::date), max((ordered_at AT TIME ZONE %s)::date) "
            "FROM customers_order WHERE status = 'placed'",
            [settings.TIME_ZONE, settings.TIME_ZONE],
        )
        return cursor.fetchone()


def clv_split() -> tuple[dt.date, dt.date]:
    """(calibration end, holdout end): the last 39 weeks as the holdout, or the second half
    of the data's span when it covers less than 78 weeks."""
    first, last = _order_days()
    holdout_days = min(CLV_HOLDOUT_WEEKS * 7, (last - first).days // 2)
    return last - dt.timedelta(days=holdout_days), last


# --- the reference --------------------------------------------------------------------------

# One statement: placed orders to transaction days (same-day orders merged, the shop's time
# zone), then per customer the repeat days x, recency t_x and age T in weeks, and the mean
# value of the repeat days (NaN without repeats).
RFM_SQL = """
COPY (
    WITH days AS (
        SELECT customer_id, (ordered_at AT TIME ZONE %(zone)s)::date AS day, sum(total)::float8 AS amount
        FROM customers_order
        WHERE status = 'placed' AND ordered_at < %(until)s
        GROUP BY 1, 2
    ), marked AS (
        SELECT customer_id, day, amount, min(day) OVER (PARTITION BY customer_id) AS first_day FROM days
    )
    SELECT count(*) - 1,
           (max(day) - min(first_day)) / 7.0,
           (%(calibration_end)s::date - min(first_day)) / 7.0,
           coalesce(sum(amount) FILTER (WHERE day > first_day) / nullif(count(*) - 1, 0), 'NaN'::float8)
    FROM marked
    GROUP BY customer_id
) TO STDOUT
"""


def reference_rfm(calibration_end: dt.date) -> np.ndarray:
    """The RFM summary as an (n, 4) float array: x, t_x, T (weeks), m_x."""
    zone = settings.TIME_ZONE
    until = dt.datetime.combine(calibration_end + dt.timedelta(days=1), dt.time.min, tzinfo=ZoneInfo(zone))
    params = {"zone": zone, "until": until, "calibration_end": calibration_end}
    buffer = io.BytesIO()
    with connection.cursor() as cursor, cursor.cursor.copy(RFM_SQL, params) as copy:
        for block in copy:
            buffer.write(block)
    buffer.seek(0)
    return np.loadtxt(buffer, delimiter="\t", dtype=np.float64, ndmin=2)


def _bgnbd_negative_ll(log_params: np.ndarray, x, t_x, T, weights) -> float:
    """FHL 2005 equation 6 by hand: A1 + log(alive term + [x > 0] dropped term)."""
    r, alpha, a, b = np.exp(log_params)
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    alive = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
    dropped = np.full_like(x, -np.inf)
    repeat = x > 0
    dropped[repeat] = betaln(a + 1, b + x[repeat] - 1) - betaln(a, b) - (r + x[repeat]) * np.log(alpha + t_x[repeat])
    value = -np.dot(weights, head + np.logaddexp(alive, dropped)) / weights.sum()
    return float(value) if np.isfinite(value) else 1e300


def _gamma_gamma_negative_ll(log_params: np.ndarray, x, m, weights) -> float:
    """Fader & Hardie 2013 equation 3 by hand."""
    p, q, v = np.exp(log_params)
    ll = (
        gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(v) + (p * x - 1) * np.log(m)
        + p * x * np.log(x) - (p * x + q) * np.log(v + m * x)
    )  # fmt: skip
    value = -np.dot(weights, ll) / weights.sum()
    return float(value) if np.isfinite(value) else 1e300


def _minimise(objective, start: np.ndarray, args: tuple) -> np.ndarray:
    """L-BFGS-B on the log-parameters (finite-difference gradient), then Nelder-Mead from
    its answer to polish: the plain SciPy recipe, no analytic gradient."""
    first = minimize(objective, start, args=args, method="L-BFGS-B", options={"maxiter": 5000, "ftol": 1e-15})
    polished = minimize(
        objective, first.x, args=args, method="Nelder-Mead",
        options={"xatol": 1e-9, "fatol": 1e-14, "maxiter": 20000, "maxfev": 20000},
    )  # fmt: skip
    return np.exp(polished.x if polished.fun <= first.fun else first.x)


def reference_fit(calibration_end: dt.date) -> tuple[int, dict[str, float]]:
    """Customers and the seven parameters from the SQL summary, SciPy and NumPy only."""
    rfm = reference_rfm(calibration_end)
    x, t_x, T, m = rfm.T
    histories, counts = np.unique(rfm[:, :3], axis=0, return_counts=True)  # same history, same likelihood
    weights = counts.astype(np.float64)
    hx, ht, hT = histories.T
    rate = np.average(hx, weights=weights) / np.average(hT, weights=weights)
    bgnbd = _minimise(_bgnbd_negative_ll, np.log([1.0, 1.0 / max(rate, 1e-3), 1.0, 1.0]), (hx, ht, hT, weights))
    usable = (x > 0) & np.isfinite(m) & (m > 0)
    values, counts = np.unique(np.column_stack([x[usable], m[usable]]), axis=0, return_counts=True)
    vx, vm = values.T
    scale = float(np.average(vm, weights=counts))
    gamma_gamma = _minimise(
        _gamma_gamma_negative_ll, np.log([5.0, 3.0, scale * 2.0 / 5.0]), (vx, vm, counts.astype(np.float64))
    )
    parameters = dict(zip(BGNBD_NAMES, bgnbd.tolist(), strict=True)) | dict(
        zip(GAMMA_GAMMA_NAMES, gamma_gamma.tolist(), strict=True)
    )
    return len(rfm), parameters


# --- the product ----------------------------------------------------------------------------


def product_fit_and_score(calibration_end: dt.date, holdout_end: dt.date) -> tuple[object, int, dict[str, float]]:
    """The CLV job's computation: read once, fit with the holdout check, score everyone."""
    from analytics.clv.selectors import clv_transactions
    from analytics.clv.services import clv_fit, clv_scores

    steps = {}
    started = time.perf_counter()
    transactions = clv_transactions(until=holdout_end)
    steps["read"] = time.perf_counter() - started
    started = time.perf_counter()
    fit = clv_fit(calibration_end=calibration_end, time_unit="week", holdout_end=holdout_end, transactions=transactions)
    steps["fit"] = time.perf_counter() - started
    started = time.perf_counter()
    scores = clv_scores(fit=fit, as_of=holdout_end, transactions=transactions)
    steps["score"] = time.perf_counter() - started
    return fit, len(scores), steps


def bench_clv(repeat: int = CLV_REPEAT) -> list[Measurement]:
    calibration_end, holdout_end = clv_split()
    product, reference, steps, fit, scored, answer = [], [], [], None, 0, {}
    customers = 0
    for _ in range(repeat):
        started = time.perf_counter()
        fit, scored, timings = product_fit_and_score(calibration_end, holdout_end)
        product.append(time.perf_counter() - started)
        steps.append(timings)
        started = time.perf_counter()
        customers, answer = reference_fit(calibration_end)
        reference.append(time.perf_counter() - started)
    ours = fit.parameters()
    if customers != ours["customers"]:
        raise AssertionError(f"clv: reference {customers:,} customers, product {ours['customers']:,}")
    disagree = {
        name: (ours[name], value)
        for name, value in answer.items()
        if ours[name] is None or not np.isclose(ours[name], value, rtol=CLV_RTOL, atol=0)
    }
    if disagree:
        raise AssertionError(f"clv: parameters differ beyond rtol {CLV_RTOL}: {disagree}")
    holdout = fit.holdout
    measurement = Measurement(
        name="CLV: BG/NBD + Gamma-Gamma fit with holdout check, and scores",
        target="≤ 2× the reference",
        product_seconds=product,
        reference_seconds=reference,
        items=scored,
        unit="customers scored",
        notes=(
            f"calibration to {calibration_end}, holdout to {holdout_end} (weeks); {ours['customers']:,} customers, "
            f"{fit.repeat_customers:,} repeat buyers, {scored:,} scored; product steps (s): "
            + "; ".join(", ".join(f"{k} {v:.1f}" for k, v in run.items()) for run in steps)
            + f"; holdout predicted {holdout.predicted_total:,.0f} vs actual {holdout.actual_total:,} "
            f"({100 * holdout.relative_error_total:+.1f} %); reference = one SQL summary (COPY → NumPy), np.unique "
            f"histories, hand-written likelihoods, scipy L-BFGS-B + Nelder-Mead, no holdout or scores; "
            f"parameters equal within rtol {CLV_RTOL}"
        ),
        extra={"product": {k: ours[k] for k in (*BGNBD_NAMES, *GAMMA_GAMMA_NAMES)}, "reference": answer,
               "steps": steps, "calibration_end": calibration_end.isoformat(), "holdout_end": holdout_end.isoformat()},
    )  # fmt: skip
    print(
        f"  clv: {ours['customers']:,} customers: product {measurement.product_median:.1f} s "
        f"(fit {steps[-1]['fit']:.1f} s), reference {measurement.reference_median:.1f} s",
        flush=True,
    )
    return [measurement]


def bench_churn() -> list[Measurement]:
    from bench.churn import bench_churn as churn

    return churn(None)


BENCHES = {"clv": "bench_clv", "churn": "bench_churn"}


def run(context: dict, only: list[str] | None = None) -> None:
    measurements = []
    for key, name in BENCHES.items():
        if only and key not in only:
            continue
        bench = globals()[name]
        print(f"running {bench.__name__}", flush=True)
        for measurement in bench():
            reference_p95 = percentile(measurement.reference_seconds, 95)
            measurement.notes += f"; reference p95 {reference_p95:,.1f} s"
            measurement.extra["reference_p95_seconds"] = reference_p95
            measurements.append(measurement)
    path = write_results("predictions", measurements, context)
    print(f"wrote {path}")
