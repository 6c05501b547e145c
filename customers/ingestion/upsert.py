"""Set-based writing of validated records: stage them in a temporary table, resolve foreign
keys by joining on external ids, then one INSERT ... SELECT ... ON CONFLICT DO UPDATE.

PostgreSQL loads the stage with COPY; SQLite with executemany. The update only touches a
row when a value really changes (so re-sending data changes nothing, not even
``updated_at``), and only for columns the input has: a blank or absent text/date/number
cell keeps the stored value (see docs/ingestion.md for the exact rule).
Callers run ``frame_upsert`` inside ``transaction.atomic`` so a batch is all or nothing.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
from django.apps import apps
from django.db import connection, models, transaction

from customers.ingestion.errors import IngestionError, RowError
from customers.ingestion.formats import Format, ValueType
from customers.ingestion.validation import JSON, ROW, Validated, records_key
from customers.signals import orders_saved

STAGE = "precis_ingest_stage"
SEQ = "_seq"  # unique per staged record (``_row`` is not: nested order lines share their order's)
MODELS = {
    "customers": "customers.Customer",
    "products": "customers.Product",
    "orders": "customers.Order",
    "order_lines": "customers.OrderLine",
    "events": "customers.Event",
    "reviews": "customers.Review",
    "transcripts": "customers.Transcript",
}
UNKNOWN_CODES = {
    "customers_customer": IngestionError.UNKNOWN_CUSTOMER,
    "customers_product": IngestionError.UNKNOWN_PRODUCT,
    "customers_order": IngestionError.UNKNOWN_ORDER,
}
CONSENT = {"email_opt_in": "email_opt_in_at", "sms_opt_in": "sms_opt_in_at"}
SQL_TYPES = {
    ValueType.TEXT: ("text", "text"),
    ValueType.EMAIL: ("text", "text"),
    ValueType.CHOICE: ("text", "text"),
    ValueType.INTEGER: ("bigint", "integer"),
    ValueType.DECIMAL: ("numeric", "numeric"),
    ValueType.DATE: ("date", "text"),
    ValueType.DATETIME: ("timestamptz", "text"),
    ValueType.BOOLEAN: ("boolean", "integer"),
}


@dataclass
class WriteResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    rejected: int = 0


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _stage_frame(fmt: Format, validated: Validated) -> tuple[pd.DataFrame, dict[str, str]]:
    """The clean frame formatted for loading, and each stage column's SQL type."""
    clean = validated.clean
    postgres = _postgres()
    out: dict[str, Any] = {SEQ: range(len(clean)), ROW: clean[ROW].astype("int64")}
    types = {SEQ: "bigint", ROW: "bigint"}
    for name in validated.present:
        kind = fmt.column(name).type
        values = clean[name]
        if kind == ValueType.DATETIME:
            text = values.dt.strftime("%Y-%m-%d %H:%M:%S.%f")
            values = text + "+00:00" if postgres else text.str.replace(r"\.000000$", "", regex=True)
        elif kind == ValueType.DATE:
            values = values.dt.strftime("%Y-%m-%d")
        elif kind == ValueType.BOOLEAN:
            values = values.map({True: "t" if postgres else 1, False: "f" if postgres else 0})
        out[name] = values
        types[name] = SQL_TYPES[kind][0 if postgres else 1]
    for extra in (JSON, "language"):
        if extra in clean.columns:
            out[extra] = clean[extra]
            types[extra] = "text"
    return pd.DataFrame(out), types


def _load_stage(frame: pd.DataFrame, types: dict[str, str]) -> None:
    qn = connection.ops.quote_name
    columns = ", ".join(qn(name) for name in frame.columns)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGE} (" + ", ".join(f"{qn(name)} {types[name]}" for name in frame.columns) + ")"
        )
        if _postgres():
            buffer = frame.to_csv(header=False, index=False, na_rep="")
            with cursor.cursor.copy(f"COPY {STAGE} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy:
                copy.write(buffer)
            # Temporary tables get no statistics by themselves; without them the planner
            # guesses the stage size and hashes the whole customers table for every chunk.
            cursor.execute(f"ANALYZE {STAGE}")
        else:
            rows = frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)
            marks = ", ".join(["%s"] * len(frame.columns))
            cursor.executemany(f"INSERT INTO {STAGE} ({columns}) VALUES ({marks})", list(rows))


def _lookup_per_row(table: str, batch_rows: int) -> bool:
    """PostgreSQL: whether a batch should find its references with one index lookup per row.

    A batch that is small next to the referenced table (10,000 events against a million
    customers) is faster row by row; a large one (200,000 orders) is faster with one hash
    join, which reads the referenced table once. The planner cannot tell, because the
    staging table is new for every batch."""
    if not _postgres():
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        row = cursor.fetchone()
    return bool(row) and batch_rows * PER_ROW_SHARE < row[0]


PER_ROW_SHARE = 20  # row-by-row lookups while the batch is under 1/20 of the referenced table


def _references_per_row(fmt: Format, validated: Validated) -> set[str]:
    """The referenced tables this batch looks up row by row (decided once per batch)."""
    return {ref.table for ref in fmt.references if _lookup_per_row(ref.table, len(validated.clean))}


def _reject_unknown_references(fmt: Format, validated: Validated, per_row_tables: set[str]) -> list[RowError]:
    """Report and drop staged rows whose customer / order / product id is not in the DB."""
    qn = connection.ops.quote_name
    keys = records_key(validated.clean, fmt).tolist()
    errors: list[RowError] = []
    with connection.cursor() as cursor:
        for ref in fmt.references:
            if ref.optional or ref.column not in validated.present:
                continue
            # OFFSET 0 keeps the check a per-row index lookup instead of an anti-join.
            per_row = " OFFSET 0" if ref.table in per_row_tables else ""
            # One pass: drop the unknown references from the stage and report what was dropped.
            cursor.execute(
                f"DELETE FROM {STAGE} WHERE NOT EXISTS "
                f"(SELECT 1 FROM {ref.table} r WHERE r.{qn(ref.key)} = {STAGE}.{qn(ref.column)}{per_row}) "
                f"RETURNING {qn(SEQ)}, {qn(ROW)}, {qn(ref.column)}"
            )
            for seq, row, value in sorted(cursor.fetchall()):
                errors.append(RowError(int(row), keys[seq], ref.column, UNKNOWN_CODES[ref.table], str(value)))
    return errors


def _db_default(model_field: models.Field) -> Any:
    default = model_field.get_default()
    if isinstance(model_field, models.JSONField):
        return "{}"
    return default


def _build_upsert(
    fmt: Format, validated: Validated, now: datetime, per_row_tables: set[str]
) -> tuple[str, str, list[Any]]:
    """(INSERT ... ON CONFLICT statement, SELECT of the source rows, params of both)."""
    postgres = _postgres()
    qn = connection.ops.quote_name
    model = apps.get_model(MODELS[fmt.kind])
    staged = set(validated.clean.columns)
    stored = {
        (column.db_column or column.name): column.name
        for column in fmt.columns
        if column.db_column != "" and column.name in validated.present
    }
    joins, ref_alias = [], {}
    for index, ref in enumerate(fmt.references):
        if ref.column not in validated.present:
            continue
        alias = f"r{index}"
        ref_alias[ref.db_column] = alias
        kind = "LEFT JOIN" if ref.optional else "JOIN"
        if ref.table in per_row_tables:
            joins.append(
                f"{kind} LATERAL (SELECT * FROM {ref.table} WHERE {qn(ref.key)} = s.{qn(ref.column)} "
                f"OFFSET 0) {alias} ON true"
            )
        else:
            joins.append(f"{kind} {ref.table} {alias} ON {alias}.{qn(ref.key)} = s.{qn(ref.column)}")
    db_now = connection.ops.adapt_datetimefield_value(now)
    jsonb = "::jsonb" if postgres else ""
    differs = "IS DISTINCT FROM" if postgres else "IS NOT"

    insert_columns, select_exprs, params = [], [], []
    updates: dict[str, str] = {}
    changes: list[str] = []
    for model_field in model._meta.concrete_fields:
        if model_field.primary_key:
            continue
        column = model_field.column
        target = f"t.{qn(column)}"
        excluded = f"EXCLUDED.{qn(column)}"
        is_text = isinstance(model_field, models.CharField | models.TextField)
        expr_params: list[Any] = []
        if column in ref_alias:
            expr = f"{ref_alias[column]}.id"
            if column not in fmt.conflict:
                optional = next(ref.optional for ref in fmt.references if ref.db_column == column)
                updates[column] = f"COALESCE({excluded}, {target})" if optional else excluded
        elif column in stored:
            source = f"s.{qn(stored[column])}"
            if fmt.kind == "order_lines" and column == "unit_price" and "order_id" in ref_alias:
                expr = f"COALESCE({source}, {ref_alias['product_id']}.price, 0)"
            elif model_field.null:
                expr = source
            else:
                expr, expr_params = f"COALESCE({source}, %s)", [_db_default(model_field)]
            if column in fmt.conflict:
                pass
            elif column in CONSENT:
                updates[column] = (
                    f"CASE WHEN EXCLUDED.{qn(CONSENT[column])} IS NOT NULL THEN {excluded} ELSE {target} END"
                )
            elif is_text and not model_field.null:
                updates[column] = f"COALESCE(NULLIF({excluded}, ''), {target})"
            elif model_field.null:
                updates[column] = f"COALESCE({excluded}, {target})"
            else:
                updates[column] = excluded
        elif column in CONSENT.values() and CONSENT_SOURCE[column] in stored:
            flag = f"s.{qn(CONSENT_SOURCE[column])}"
            expr, expr_params = f"CASE WHEN {flag} IS NOT NULL THEN %s END", [db_now]
            source_column = qn(CONSENT_SOURCE[column])
            updates[column] = (
                f"CASE WHEN {excluded} IS NOT NULL AND EXCLUDED.{source_column} {differs} "
                f"t.{source_column} THEN {excluded} ELSE {target} END"
            )
        elif column == fmt.json_column and JSON in staged:
            expr = f"COALESCE(s.{qn(JSON)}, '{{}}'){jsonb}"
            updates[column] = f"{target} || {excluded}" if postgres else f"json_patch({target}, {excluded})"
        elif column == "language" and "language" in staged:
            expr, expr_params = "COALESCE(s.language, %s)", [""]
            updates[column] = f"COALESCE(NULLIF({excluded}, ''), {target})"
        elif getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
            expr, expr_params = "%s", [db_now]
        else:
            default = _db_default(model_field)
            if default is None:
                expr = "NULL"
            else:
                cast = jsonb if isinstance(model_field, models.JSONField) else ""
                expr, expr_params = f"%s{cast}", [default]
        insert_columns.append(qn(column))
        select_exprs.append(f"{expr} AS {qn(column)}")
        params.extend(expr_params)

    for column, expr in updates.items():
        if column == fmt.json_column and not postgres:
            changes.append(f"({expr}) IS NOT json(t.{qn(column)})")
        elif column in CONSENT.values():
            continue  # follows its flag
        else:
            changes.append(f"({expr}) {differs} t.{qn(column)}")
    source = f"SELECT {', '.join(select_exprs)} FROM {STAGE} s {' '.join(joins)} WHERE true"
    conflict = ", ".join(qn(column) for column in fmt.conflict)
    if updates:
        assignments = [f"{qn(column)} = {expr}" for column, expr in updates.items()]
        if any(getattr(f, "auto_now", False) for f in model._meta.concrete_fields):
            assignments.append("updated_at = %s")
        action = f"DO UPDATE SET {', '.join(assignments)} WHERE {' OR '.join(changes)}"
    else:
        action = "DO NOTHING"
    statement = (
        f"INSERT INTO {model._meta.db_table} AS t ({', '.join(insert_columns)}) {source} "
        f"ON CONFLICT ({conflict}) {action}"
    )
    update_params = [db_now] if updates and "updated_at = %s" in action else []
    return statement, source, params + update_params


CONSENT_SOURCE = {at: flag for flag, at in CONSENT.items()}


def _orders_saved_on_commit() -> None:
    """After the batch commits, tell other apps which of its orders carry a coupon code
    (customers.signals.orders_saved; campaigns record the redemptions)."""
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT o.id FROM {STAGE} s JOIN customers_order o ON o.external_id = s.{qn('order_id')} "
            f"WHERE s.{qn('coupon_code')} <> ''"
        )
        order_ids = [row[0] for row in cursor.fetchall()]
    if order_ids:
        transaction.on_commit(lambda: orders_saved.send(sender=apps.get_model(MODELS["orders"]), order_ids=order_ids))


def frame_upsert(fmt: Format, validated: Validated, *, now: datetime) -> WriteResult:
    """Insert new records and update changed ones; report records whose references are
    unknown. Counts: inserted (new), updated (changed), unchanged (identical re-sends)."""
    result = WriteResult()
    if validated.clean.empty:
        return result
    frame, types = _stage_frame(fmt, validated)
    _load_stage(frame, types)
    qn = connection.ops.quote_name
    try:
        per_row_tables = _references_per_row(fmt, validated)
        result.errors = _reject_unknown_references(fmt, validated, per_row_tables)
        result.rejected = len({(error.row, error.record_id) for error in result.errors})
        statement, source, params = _build_upsert(fmt, validated, now, per_row_tables)
        select_params = params[: source.count("%s")]
        match = " AND ".join(f"t.{qn(column)} = x.{qn(column)}" for column in fmt.conflict)
        model = apps.get_model(MODELS[fmt.kind])
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {STAGE}")
            staged = cursor.fetchone()[0]
            if _postgres():
                # xmax = 0 marks a freshly inserted row: one statement tells inserts from updates.
                cursor.execute(
                    f"WITH written AS ({statement} RETURNING (xmax = 0) AS inserted) "
                    "SELECT count(*) FILTER (WHERE inserted), count(*) FROM written",
                    params,
                )
                result.inserted, written = cursor.fetchone()
                result.updated = written - result.inserted
            else:
                cursor.execute(
                    f"SELECT count(*) FROM ({source}) x JOIN {model._meta.db_table} t ON {match}", select_params
                )
                existing = cursor.fetchone()[0]
                cursor.execute(statement, params)
                affected = max(cursor.rowcount, 0)
                result.inserted = staged - existing
                result.updated = affected - result.inserted
        if fmt.kind == "orders" and "coupon_code" in validated.present:
            _orders_saved_on_commit()
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
    result.unchanged = staged - result.inserted - result.updated
    return result
