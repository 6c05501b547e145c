"""Write model scores (churn risk, …) into columns of the feature table, set-based.

Models compute a score per customer in pandas; this stages the scores in a temporary table
(COPY on PostgreSQL, batched executemany on SQLite) and applies them with one UPDATE … FROM,
touching only rows whose value changes. Within the scored customer-id range, rows of
customers the model did not score are cleared, so a stale score never outlives its model.
"""

import itertools

import numpy as np
import pandas as pd
from django.db import connection, transaction

from segments.models import CustomerFeatures

FEATURES_TABLE = CustomerFeatures._meta.db_table
SQLITE_INSERT_ROWS = 50_000
_stage_names = itertools.count()


def _stage(scores: pd.DataFrame, columns: list[str]) -> str:
    frame = scores[["customer_id", *columns]].copy()
    frame["customer_id"] = frame["customer_id"].astype(np.int64)
    for column in columns:
        values = pd.to_numeric(frame[column], errors="coerce").astype(np.float64)
        frame[column] = values.where(np.isfinite(values))
    frame = frame.drop_duplicates("customer_id", keep="last")
    stage = f"feature_scores_stage_{next(_stage_names)}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {stage} (customer_id bigint PRIMARY KEY, "
            + ", ".join(f"{column} double precision" for column in columns)
            + ")"
        )
        names = ", ".join(["customer_id", *columns])
        if connection.vendor == "postgresql":
            text = frame.to_csv(sep="\t", header=False, index=False, na_rep="\\N", float_format="%.17g")
            with cursor.cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
                copy.write(text)
            cursor.execute(f"ANALYZE {stage}")
        else:
            statement = f"INSERT INTO {stage} ({names}) VALUES ({', '.join(['%s'] * (len(columns) + 1))})"
            rows = frame.astype(object).where(frame.notna(), None)
            for start in range(0, len(rows), SQLITE_INSERT_ROWS):
                block = rows.iloc[start : start + SQLITE_INSERT_ROWS]
                cursor.executemany(statement, block.itertuples(index=False, name=None))
    return stage


@transaction.atomic
def feature_scores_write(*, scores: pd.DataFrame, columns: list[str], id_range: tuple[int, int] | None = None) -> int:
    """Set ``columns`` of the feature rows from ``scores`` (customer_id + those columns;
    NaN → NULL) and clear them for the other customers in ``id_range`` (all customers when
    None). Returns the number of rows changed. Safe to run twice."""
    missing = [column for column in ["customer_id", *columns] if column not in scores.columns]
    if missing:
        raise ValueError(f"scores lack the columns {', '.join(missing)}")
    stage = _stage(scores, columns)
    differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    in_range = "" if id_range is None else " AND f.customer_id BETWEEN %s AND %s"
    params = [] if id_range is None else list(id_range)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {FEATURES_TABLE} AS f SET {', '.join(f'{c} = s.{c}' for c in columns)} FROM {stage} AS s "
            f"WHERE s.customer_id = f.customer_id AND ({' OR '.join(f'f.{c} {differs} s.{c}' for c in columns)})"
        )
        changed = max(cursor.rowcount, 0)
        cursor.execute(
            f"UPDATE {FEATURES_TABLE} AS f SET {', '.join(f'{c} = NULL' for c in columns)} "
            f"WHERE ({' OR '.join(f'f.{c} IS NOT NULL' for c in columns)}){in_range} "
            f"AND NOT EXISTS (SELECT 1 FROM {stage} AS s WHERE s.customer_id = f.customer_id)",
            params,
        )
        changed += max(cursor.rowcount, 0)
        cursor.execute(f"DROP TABLE {stage}")
    return changed
