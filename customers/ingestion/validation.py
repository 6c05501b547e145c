"""Vectorised parsing and validation of raw input (CSV cells or JSON values) for one kind.

Pure pandas: no models, no database. Each column is parsed for the whole frame at once;
Python only loops over the rows that failed, to build their error records.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from customers.ingestion.errors import IngestionError, RowError
from customers.ingestion.formats import Column, Format, ValueType

ROW = "_row"  # position of the record in its input: index (API) or spreadsheet line (CSV)
JSON = "_json"  # unknown columns of the record, as a JSON object text
TRUE_WORDS = frozenset({"true", "1", "yes", "y", "t", "on", "是"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "f", "off", "否"})
DATETIME_FORMATS = (
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y",
)
CJK = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"


@dataclass
class Validated:
    """The accepted records (parsed values under their column names, plus ``_row`` and
    ``_json``), the errors of the rejected ones, and which known columns the input had."""

    clean: pd.DataFrame
    errors: list[RowError] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    rejected: int = 0


# One @, no spaces, a dot in the domain: strict enough to catch typos, loose enough for
# every address a shop really has (the mail server is the final judge).
EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[^@\s.]+"


def missing_columns(fmt: Format, columns: Iterable[str]) -> list[str]:
    have = set(columns)
    return [name for name in fmt.required_columns if name not in have]


def as_text(values: pd.Series) -> pd.Series:
    """Raw values (str from CSV, or any JSON scalar) as stripped text; missing → ""."""
    values = values.where(values.notna(), "")
    if values.dtype == object and not _all_str(values):
        values = values.map(_json_scalar_text)
    return values.astype(str).str.strip()


def _all_str(values: pd.Series) -> bool:
    return bool(values.map(type).eq(str).all()) if len(values) else True


def _json_scalar_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)


def parse_datetime(text: pd.Series) -> pd.Series:
    """Timestamps in UTC. ISO 8601 first (an offset is honoured; none means UTC), then the
    spreadsheet layouts such as "12/1/2009 7:45" (month first, as in Online Retail II)."""
    result = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True).astype("datetime64[us, UTC]")
    for layout in DATETIME_FORMATS:
        todo = result.isna() & text.ne("")
        if not todo.any():
            break
        parsed = pd.to_datetime(text[todo], format=layout, errors="coerce", utc=True)
        result[todo] = parsed.astype("datetime64[us, UTC]")
    return result


def _error_rows(
    frame: pd.DataFrame,
    mask: pd.Series,
    ids: pd.Series,
    column: str,
    code: IngestionError,
    values: pd.Series,
    detail: str = "",
) -> list[RowError]:
    where = np.flatnonzero(mask.to_numpy())
    rows = frame[ROW].to_numpy()[where]
    return [
        RowError(int(row), str(ident), column, code, str(value), detail)
        for row, ident, value in zip(rows, ids.to_numpy()[where], values.to_numpy()[where], strict=True)
    ]


def _parse_column(column: Column, text: pd.Series) -> tuple[pd.Series, list[tuple[pd.Series, IngestionError, str]]]:
    """(parsed values, [(bad mask, code, detail)]) for one column."""
    blank = text.eq("")
    problems: list[tuple[pd.Series, IngestionError, str]] = []
    if column.required:
        problems.append((blank, IngestionError.REQUIRED, ""))
    kind = column.type
    if kind in (ValueType.TEXT, ValueType.EMAIL):
        parsed = text.where(~blank, None).astype(object)
        if kind == ValueType.EMAIL:
            problems.append((~blank & ~text.str.fullmatch(EMAIL_PATTERN), IngestionError.INVALID_EMAIL, ""))
        if column.max_length:
            problems.append((text.str.len().gt(column.max_length), IngestionError.TOO_LONG, f"max {column.max_length}"))
    elif kind in (ValueType.INTEGER, ValueType.DECIMAL):
        number = pd.to_numeric(text.where(~blank, None), errors="coerce").astype(float)
        bad = ~blank & number.isna()
        if kind == ValueType.INTEGER:
            bad |= number.notna() & np.isfinite(number) & number.ne(np.floor(number))
        problems.append((bad, IngestionError.INVALID_NUMBER, ""))
        low = column.minimum if column.minimum is not None else -np.inf
        high = column.maximum if column.maximum is not None else np.inf
        problems.append(
            (
                ~bad & number.notna() & ~number.between(low, high),
                IngestionError.OUT_OF_RANGE,
                f"{low:g}..{high:g}",
            )
        )
        if kind == ValueType.INTEGER:
            parsed = number.where(number.between(low, high)).round(0).astype("Int64")
        else:
            parsed = number.where(number.between(low, high)).round(2)
    elif kind in (ValueType.DATE, ValueType.DATETIME):
        moment = parse_datetime(text)
        problems.append((~blank & moment.isna(), IngestionError.INVALID_DATE, ""))
        parsed = moment.dt.tz_localize(None).dt.normalize() if kind == ValueType.DATE else moment
    elif kind == ValueType.BOOLEAN:
        lowered = text.str.lower()
        yes, no = lowered.isin(TRUE_WORDS), lowered.isin(FALSE_WORDS)
        problems.append((~blank & ~yes & ~no, IngestionError.INVALID_BOOLEAN, ""))
        parsed = pd.Series(np.where(yes, True, np.where(no, False, None)), index=text.index, dtype=object)
    else:  # CHOICE
        lowered = text.str.lower()
        if column.aliases:
            lowered = lowered.replace(column.aliases)
        ok = lowered.isin(column.choices)
        problems.append((~blank & ~ok, IngestionError.INVALID_CHOICE, ", ".join(column.choices)))
        parsed = lowered.where(ok, None).astype(object)
    return parsed, problems


def records_key(frame: pd.DataFrame, fmt: Format) -> pd.Series:
    """The identity of each record within the input, e.g. "O-1" or "O-1|SKU-9" for lines."""
    key = frame[fmt.id_columns[0]]
    for name in fmt.id_columns[1:]:
        key = key + "|" + frame[name]
    return key


def frame_validate(fmt: Format, frame: pd.DataFrame, *, seen: set[str] | None = None) -> Validated:
    """Parse and check every known column of ``frame`` (which must hold ``_row``).

    A record with any bad value is rejected whole; a record repeating an id already
    accepted (earlier in this frame, or in ``seen`` — earlier chunks of the same file) is
    rejected as a duplicate, so the first valid occurrence wins. ``seen`` is updated.
    """
    frame = frame.reset_index(drop=True)
    present = [column.name for column in fmt.columns if column.name in frame.columns]
    texts = {name: as_text(frame[name]) for name in present}
    for name in fmt.id_columns:
        texts.setdefault(name, pd.Series("", index=frame.index, dtype=object))
    ids = records_key(pd.DataFrame(texts), fmt)
    rejected = pd.Series(False, index=frame.index)
    errors: list[RowError] = []
    parsed: dict[str, pd.Series] = {}
    for name in present:
        column = fmt.column(name)
        values, problems = _parse_column(column, texts[name])
        parsed[name] = values
        for mask, code, detail in problems:
            if mask.any():
                errors.extend(_error_rows(frame, mask, ids, name, code, texts[name], detail))
                rejected |= mask
    # A missing required column in one API record (absent key) is REQUIRED too.
    for name in fmt.required_columns:
        if name not in present:
            everyone = pd.Series(True, index=frame.index)
            errors.extend(_error_rows(frame, everyone, ids, name, IngestionError.REQUIRED, ids.where(False, "")))
            rejected |= everyone
    duplicate = ~rejected & ids.where(~rejected).duplicated(keep="first")
    if seen:
        duplicate |= ~rejected & ids.isin(seen)
    if duplicate.any():
        errors.extend(_error_rows(frame, duplicate, ids, fmt.id_columns[0], IngestionError.DUPLICATE_ID, ids))
        rejected |= duplicate
    if seen is not None:
        seen.update(ids[~rejected].tolist())

    keep = ~rejected.to_numpy()
    clean = pd.DataFrame({name: values[keep].reset_index(drop=True) for name, values in parsed.items()})
    clean.insert(0, ROW, frame[ROW].to_numpy()[keep])
    if fmt.json_column:
        extras = [
            name
            for name in frame.columns
            if not name.startswith("_") and name not in present and name not in fmt.id_columns
        ]
        if extras:
            clean[JSON] = _extras_json(frame.loc[keep, extras], fmt.json_column)
    if fmt.kind in ("reviews", "transcripts") and "text" in clean.columns:
        clean["language"] = review_language(clean["text"].fillna("").astype(str))
    errors.sort(key=lambda error: (error.row, error.field))
    return Validated(clean=clean, errors=errors, present=present, rejected=int(rejected.sum()))


def _extras_json(extras: pd.DataFrame, json_column: str) -> list[str | None]:
    """Unknown columns as one JSON object per record; blanks are left out so that they do
    not overwrite stored attributes. An API record's own ``attributes`` object is merged."""
    names = list(extras.columns)
    out: list[str | None] = []
    for values in extras.itertuples(index=False, name=None):
        data: dict = {}
        for name, value in zip(names, values, strict=True):
            if value is None or value == "" or (isinstance(value, float) and np.isnan(value)):
                continue
            if name == json_column and isinstance(value, dict):
                data.update(value)
            else:
                data[name] = value
        out.append(json.dumps(data, ensure_ascii=False) if data else None)
    return out


def review_language(text: pd.Series) -> pd.Series:
    """'zh' when the text has CJK characters, else 'en' when it has Latin letters."""
    has_cjk = text.str.contains(CJK, regex=True)
    has_latin = text.str.contains(r"[A-Za-z]", regex=True)
    return pd.Series(np.where(has_cjk, "zh", np.where(has_latin, "en", "")), index=text.index, dtype=object)
