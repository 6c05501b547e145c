"""Append a DataFrame to a table fast: COPY on PostgreSQL, batched executemany on SQLite.

Shared by every set-based writer (clusters, recommendations, campaign audiences); the
caller owns the transaction.
"""

from collections.abc import Sequence

import pandas as pd
from django.db import connection

SQLITE_INSERT_ROWS = 20_000
COPY_ROWS = 500_000


def rows_copy(table: str, columns: Sequence[str], frame: pd.DataFrame, *, conflict_ignore: bool = False) -> None:
    """``conflict_ignore``: rows that would break a unique constraint are dropped (SQLite
    ``INSERT OR IGNORE``; on PostgreSQL through a temporary staging table)."""
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            target = table
            if conflict_ignore:
                target = f"_stage_{table}"
                cursor.execute(f"DROP TABLE IF EXISTS {target}")
                cursor.execute(f"CREATE TEMP TABLE {target} AS SELECT {names} FROM {table} WITH NO DATA")
            with cursor.cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
                for start in range(0, len(frame), COPY_ROWS):  # bounded memory: 10M rows are ~400 MB of text
                    block = frame.iloc[start : start + COPY_ROWS]
                    copy.write(block.to_csv(sep="\t", header=False, index=False, na_rep="\\N", float_format="%.9g"))
            if conflict_ignore:
                cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {target} ON CONFLICT DO NOTHING")
                cursor.execute(f"DROP TABLE {target}")
        else:
            verb = "INSERT OR IGNORE" if conflict_ignore else "INSERT"
            statement = f"{verb} INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
            for start in range(0, len(frame), SQLITE_INSERT_ROWS):
                block = frame.iloc[start : start + SQLITE_INSERT_ROWS].astype(object)
                block = block.where(block.notna(), None)
                cursor.executemany(statement, block.itertuples(index=False, name=None))
