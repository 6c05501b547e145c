"""The CSV download every report chart and table offers."""

import csv
import io
from collections.abc import Iterable

from django.http import HttpResponse


def csv_download(rows: Iterable[list], filename: str) -> HttpResponse:
    """``rows`` (header first) as an attachment; UTF-8 with a byte-order mark so that Excel
    opens Chinese text correctly."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
