"""Customers' lifetime-value scores in the feature table.

Analytics computes the scores (``analytics.clv.services.clv_scores``: P(alive), expected
purchases over the horizon, CLV); segments writes them into ``CustomerFeatures`` so rules,
clustering and the profile can use them. The write is set-based: the scores are staged in
a temporary table (COPY on PostgreSQL, batched executemany on SQLite) and applied with one
UPDATE … FROM, then the rows of customers who were not scored are cleared.
"""

import numpy as np
import pandas as pd
from django.db import connection, transaction

from segments.models import CustomerFeatures

FEATURES_TABLE = CustomerFeatures._meta.db_table
STAGE = "clv_scores_stage"
COLUMNS = ["customer_id", "probability_alive", "expected_purchases", "clv"]
SQLITE_INSERT_ROWS = 50_000
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


def _stage_write(frame: pd.DataFrame) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGE} (customer_id bigint PRIMARY KEY, probability_alive double precision, "
            "expected_purchases double precision, clv numeric(16, 2))"
        )
        if connection.vendor == "postgresql":
            text = frame.to_csv(sep="\t", header=False, index=False, na_rep="\\N", float_format="%.17g")
            with cursor.cursor.copy(f"COPY {STAGE} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                copy.write(text)
            cursor.execute(f"ANALYZE {STAGE}")
        else:
            statement = f"INSERT INTO {STAGE} ({', '.join(COLUMNS)}) VALUES (%s, %s, %s, %s)"
            rows = frame.astype(object).where(frame.notna(), None)
            for start in range(0, len(rows), SQLITE_INSERT_ROWS):
                block = rows.iloc[start : start + SQLITE_INSERT_ROWS]
                cursor.executemany(statement, block.itertuples(index=False, name=None))


@transaction.atomic
def features_clv_update(*, scores: pd.DataFrame) -> int:
    """Write ``probability_alive``, ``expected_purchases`` and ``clv`` for every feature
    row: the scored customers get their scores (NaN → NULL), the others NULL (not scored:
    no purchase as of the scoring date). ``scores`` has the columns customer_id,
    probability_alive, expected_purchases, clv (as ``clv_scores`` returns). Only rows whose
    values change are touched; returns how many. Safe to run twice."""
    frame = _stage_frame(scores)
    _stage_write(frame)
    differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    changed = " OR ".join(f"f.{column} {differs} s.{column}" for column in COLUMNS[1:])
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {FEATURES_TABLE} AS f SET probability_alive = s.probability_alive, "
            f"expected_purchases = s.expected_purchases, clv = s.clv "
            f"FROM {STAGE} AS s WHERE s.customer_id = f.customer_id AND ({changed})"
        )
        updated = max(cursor.rowcount, 0)
        cursor.execute(
            f"UPDATE {FEATURES_TABLE} SET probability_alive = NULL, expected_purchases = NULL, clv = NULL "
            f"WHERE (probability_alive IS NOT NULL OR expected_purchases IS NOT NULL OR clv IS NOT NULL) "
            f"AND NOT EXISTS (SELECT 1 FROM {STAGE} AS s WHERE s.customer_id = {FEATURES_TABLE}.customer_id)"
        )
        updated += max(cursor.rowcount, 0)
        cursor.execute(f"DROP TABLE {STAGE}")
    return updated
