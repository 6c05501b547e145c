"""Fit the lifetime-value models (BG/NBD + Gamma-Gamma) in this process, check them on a
holdout period, and write the per-customer scores into the feature table.

It lives in segments because ``--score`` writes the feature table (segments), while the
models are analytics': segments may import analytics, not the other way round.
"""

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from analytics.clv.model import DEFAULT_ANNUAL_DISCOUNT, DEFAULT_MARGIN, TIME_UNIT_DAYS, ClvError, transactions_read
from analytics.clv.services import ClvFit, clv_fit, clv_scores
from segments.clv_scores import features_clv_update


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD)") from error


class Command(BaseCommand):
    help = (
        "Fit BG/NBD (probability alive, expected purchases) and Gamma-Gamma (expected value per "
        "transaction) by maximum likelihood on the repeat purchases up to --calibration-end; optionally "
        "compare predictions with a holdout period and write P(alive), expected purchases and CLV of every "
        "customer into the feature table."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--calibration-end",
            type=_date,
            default=None,
            help="Last day of the calibration period, YYYY-MM-DD (default: today).",
        )
        parser.add_argument("--time-unit", choices=list(TIME_UNIT_DAYS), default="week", help="Unit of time.")
        parser.add_argument(
            "--json",
            action="store_true",
            help="Print only the fitted parameters as one JSON object on stdout (anything else goes to stderr).",
        )
        parser.add_argument(
            "--holdout-end",
            type=_date,
            default=None,
            help="Last day of a holdout period after the calibration end: print predicted vs actual purchases.",
        )
        parser.add_argument(
            "--transactions",
            default=None,
            metavar="FILE",
            help="Fit the transactions in this file instead of the shop's placed orders.",
        )
        parser.add_argument(
            "--transactions-format",
            choices=["csv", "cdnow"],
            default="csv",
            help="csv: header with customer_id,date,amount; cdnow: Hardie's CDNOW_sample.txt layout.",
        )
        parser.add_argument(
            "--score", action="store_true", help="Write every customer's scores into the feature table."
        )
        parser.add_argument(
            "--as-of", type=_date, default=None, help="Day the scores are computed at (default: calibration end)."
        )
        parser.add_argument("--horizon-weeks", type=float, default=52.0, help="CLV and expected-purchase horizon.")
        parser.add_argument("--discount", type=float, default=DEFAULT_ANNUAL_DISCOUNT, help="Annual discount rate.")
        parser.add_argument("--margin", type=float, default=DEFAULT_MARGIN, help="Share of spend counted as value.")

    def handle(self, *args, **options) -> None:
        calibration_end = options["calibration_end"] or timezone.localdate()
        if options["score"] and options["transactions"]:
            raise CommandError("--score writes the shop's customers: it cannot be combined with --transactions")
        if options["horizon_weeks"] <= 0:
            raise CommandError("--horizon-weeks must be positive")
        report = self.stderr if options["json"] else self.stdout
        try:
            transactions = None
            if options["transactions"]:
                transactions = transactions_read(options["transactions"], file_format=options["transactions_format"])
            fit = clv_fit(
                calibration_end=calibration_end,
                time_unit=options["time_unit"],
                holdout_end=options["holdout_end"],
                transactions=transactions,
            )
        except (ClvError, OSError) as error:
            raise CommandError(str(error)) from error
        if options["json"]:
            self.stdout.write(json.dumps(fit.parameters()))
        else:
            self._write_fit(fit)
        if fit.holdout is not None:
            self._write_holdout(fit, report)
        if options["score"]:
            as_of = options["as_of"] or calibration_end
            scores = clv_scores(
                fit=fit,
                as_of=as_of,
                horizon=dt.timedelta(weeks=options["horizon_weeks"]),
                annual_discount=options["discount"],
                margin=options["margin"],
            )
            changed = features_clv_update(scores=scores)
            report.write(f"Scored {len(scores)} customers as of {as_of}; {changed} feature rows changed.")

    def _write_fit(self, fit: ClvFit) -> None:
        bgnbd, gamma_gamma = fit.bgnbd, fit.gamma_gamma
        unit = fit.time_unit
        self.stdout.write(
            f"Calibration up to {fit.calibration_end} ({unit}s): {fit.customers} customers, "
            f"{fit.repeat_customers} with repeat purchases"
        )
        self.stdout.write(
            f"BG/NBD: r = {bgnbd.r:.4f}, alpha = {bgnbd.alpha:.4f}, a = {bgnbd.a:.4f}, b = {bgnbd.b:.4f}, "
            f"log-likelihood = {bgnbd.log_likelihood:.2f}"
        )
        if gamma_gamma is None:
            self.stdout.write("Gamma-Gamma: not fitted (no repeat purchase with a positive value)")
        else:
            self.stdout.write(
                f"Gamma-Gamma: p = {gamma_gamma.p:.4f}, q = {gamma_gamma.q:.4f}, v = {gamma_gamma.v:.4f}, "
                f"log-likelihood = {gamma_gamma.log_likelihood:.2f}, mean value per transaction = "
                f"{gamma_gamma.mean_value:.2f} ({gamma_gamma.customers} repeat buyers)"
            )
        if fit.frequency_value_correlation is not None:
            self.stdout.write(
                f"Correlation of repeat frequency and mean repeat value: {fit.frequency_value_correlation:.3f} "
                "(Gamma-Gamma assumes 0)"
            )

    def _write_holdout(self, fit: ClvFit, out) -> None:
        holdout = fit.holdout
        out.write(
            f"Holdout {fit.calibration_end} .. {fit.holdout_end} ({holdout.length:.2f} {fit.time_unit}s), "
            f"{holdout.customers} customers: predicted {holdout.predicted_total:.1f} repeat purchases, "
            f"actual {holdout.actual_total} ({100 * holdout.relative_error_total:+.1f}%), "
            f"mean absolute error per customer {holdout.mean_absolute_error:.3f}"
        )
        out.write(
            f"{'repeat purchases in calibration':>32}  {'customers':>9}  {'predicted mean':>14}  {'actual mean':>11}"
        )
        for bucket in holdout.by_frequency:
            out.write(
                f"{bucket.frequency:>32}  {bucket.customers:>9}  {bucket.predicted_mean:>14.3f}  "
                f"{bucket.actual_mean:>11.3f}"
            )
