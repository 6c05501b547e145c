"""Why a record was rejected: a fixed set of codes shared by the API, CSV reports and UI."""

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext_lazy as _


class IngestionError(StrEnum):
    REQUIRED = "required"
    INVALID_NUMBER = "invalid_number"
    INVALID_DATE = "invalid_date"
    INVALID_CHOICE = "invalid_choice"
    INVALID_BOOLEAN = "invalid_boolean"
    INVALID_EMAIL = "invalid_email"
    INVALID_RECORD = "invalid_record"
    OUT_OF_RANGE = "out_of_range"
    TOO_LONG = "too_long"
    UNKNOWN_CUSTOMER = "unknown_customer"
    UNKNOWN_PRODUCT = "unknown_product"
    UNKNOWN_ORDER = "unknown_order"
    DUPLICATE_ID = "duplicate_id"
    MISSING_COLUMN = "missing_column"
    ENCODING = "encoding"
    EMPTY_FILE = "empty_file"
    TOO_MANY_RECORDS = "too_many_records"


MESSAGES: dict[IngestionError, Any] = {
    IngestionError.REQUIRED: _("A value is required."),
    IngestionError.INVALID_NUMBER: _("Not a valid number."),
    IngestionError.INVALID_DATE: _("Not a valid date or time (use YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)."),
    IngestionError.INVALID_CHOICE: _("Not one of the allowed values."),
    IngestionError.INVALID_BOOLEAN: _("Not a yes/no value (use true/false, 1/0 or yes/no)."),
    IngestionError.INVALID_EMAIL: _("Not a valid email address."),
    IngestionError.INVALID_RECORD: _("The record is not a JSON object."),
    IngestionError.OUT_OF_RANGE: _("The value is outside the allowed range."),
    IngestionError.TOO_LONG: _("The value is too long."),
    IngestionError.UNKNOWN_CUSTOMER: _("No customer with this id exists."),
    IngestionError.UNKNOWN_PRODUCT: _("No product with this SKU exists."),
    IngestionError.UNKNOWN_ORDER: _("No order with this id exists."),
    IngestionError.DUPLICATE_ID: _("This id appeared earlier in the same input; the first one was kept."),
    IngestionError.MISSING_COLUMN: _("A required column is missing from the header."),
    IngestionError.ENCODING: _("The file is neither UTF-8 nor GB18030 text."),
    IngestionError.EMPTY_FILE: _("The file has no data rows."),
    IngestionError.TOO_MANY_RECORDS: _("Too many records in one request."),
}


@dataclass(frozen=True)
class RowError:
    """One rejected value. ``row`` is the record index for the API and the spreadsheet line
    number (header = 1) for CSV files; ``detail`` adds specifics such as the allowed range."""

    row: int
    record_id: str
    field: str
    code: IngestionError
    value: str = ""
    detail: str = ""

    @property
    def message(self) -> str:
        text = str(MESSAGES[self.code])
        return f"{text} {self.detail}".strip() if self.detail else text

    def as_api(self) -> dict[str, Any]:
        return {
            "index": self.row,
            "id": self.record_id,
            "field": self.field,
            "code": str(self.code),
            "message": self.message,
        }

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["code"] = str(self.code)
        data["message"] = self.message
        return data
