"""Funnel figures from the per-customer step times, pure computation (no Django models).

The database finds, for every customer who entered the funnel, the time of each step they
reached (``selectors.py``) and counts them; this module turns the counts and the times between
consecutive steps into the report: customers per step, conversion from the first and from the
previous step, drop-off, and the median, 75th and 90th percentile of the time between
consecutive steps among the customers who did both. Percentiles interpolate linearly between
the two nearest ranks (NumPy's default, PostgreSQL's ``percentile_cont``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PERCENTILES = (50, 75, 90)


@dataclass(frozen=True)
class StepFigures:
    number: int  # 1-based
    label: str
    customers: int
    conversion_from_start: float | None  # customers / customers of step 1
    conversion_from_previous: float | None  # customers / customers of the previous step
    drop_off: int  # customers of the previous step who did not reach this one (0 for step 1)
    median_seconds: float | None  # time since the previous step; None for step 1 or nobody
    p75_seconds: float | None
    p90_seconds: float | None

    @property
    def drop_off_rate(self) -> float | None:
        previous = self.customers + self.drop_off
        return self.drop_off / previous if self.number > 1 and previous else None


@dataclass(frozen=True)
class FunnelResult:
    steps: list[StepFigures]

    @property
    def entered(self) -> int:
        return self.steps[0].customers

    @property
    def converted(self) -> int:
        return self.steps[-1].customers

    @property
    def conversion(self) -> float | None:
        return self.steps[-1].conversion_from_start


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def step_time_percentiles(seconds: np.ndarray) -> tuple[float, float, float] | None:
    """Median, 75th and 90th percentile of the seconds (None without any)."""
    seconds = np.asarray(seconds, dtype=np.float64)
    if not seconds.size:
        return None
    median, p75, p90 = np.percentile(seconds, PERCENTILES)
    return float(median), float(p75), float(p90)


def funnel_compute(*, labels: list[str], counts: list[int],
                   times: list[tuple[float, float, float] | None]) -> FunnelResult:  # fmt: skip
    """``counts[k]``: customers who reached step k + 1; ``times[k - 1]``: the percentiles
    (``step_time_percentiles``) of the seconds from step k to step k + 1 among them."""
    if not len(labels) == len(counts) == len(times) + 1:
        raise ValueError("one count per step and one set of times per step after the first")
    steps = []
    for index, label in enumerate(labels):
        median, p75, p90 = (times[index - 1] if index else None) or (None, None, None)
        previous = counts[index - 1] if index else counts[0]
        steps.append(
            StepFigures(
                number=index + 1,
                label=label,
                customers=counts[index],
                conversion_from_start=_share(counts[index], counts[0]),
                conversion_from_previous=_share(counts[index], previous),
                drop_off=previous - counts[index],
                median_seconds=median,
                p75_seconds=p75,
                p90_seconds=p90,
            )
        )
    return FunnelResult(steps=steps)
