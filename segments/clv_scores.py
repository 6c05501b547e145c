"""Customers' lifetime-value scores in the feature table.

Analytics computes the scores (``analytics.clv.services.clv_scores``: P(alive), expected
purchases over the horizon, CLV); segments writes them into ``CustomerFeatures`` so rules,
clustering and the profile can use them. The write is set-based (``segments.feature_scores``):
the scores are staged and applied with one UPDATE … FROM, then the rows of customers who
were not scored are cleared.
"""

import numpy as np
import pandas as pd

from segments.feature_scores import feature_scores_write

COLUMNS = ["customer_id", "probability_alive", "expected_purchases", "clv"]
CLV_LIMIT = 10**14 - 1  # what numeric(16, 2) holds


def _stage_frame(scores: pd.DataFrame) -> pd.DataFrame:
    missing = [column for column in COLUMNS if column not in scores.columns]
    if missing:
        raise ValueError(f"scores lack the columns {', '.join(missing)}")
    frame = scores[COLUMNS].copy()
    frame["customer_id"] = frame["customer_id"].astype(np.int64)
    for column in COLUMNS[1:]:
        values = pd.to_numeric(frame[column], errors="coerce").astype(np.float64)
        frame[column] = values.where(np.isfinite(values))
    frame["clv"] = frame["clv"].clip(-CLV_LIMIT, CLV_LIMIT).round(2)
    return frame.drop_duplicates("customer_id", keep="last")


def features_clv_update(*, scores: pd.DataFrame) -> int:
    """Write ``probability_alive``, ``expected_purchases`` and ``clv`` for every feature
    row: the scored customers get their scores (NaN → NULL), the others NULL (not scored:
    no purchase as of the scoring date). ``scores`` has the columns customer_id,
    probability_alive, expected_purchases, clv (as ``clv_scores`` returns). Only rows whose
    values change are touched; returns how many. Safe to run twice."""
    return feature_scores_write(scores=_stage_frame(scores), columns=COLUMNS[1:])
