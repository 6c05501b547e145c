"""python manage.py import_data KIND FILE [--format online_retail]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from customers.ingestion.csv_import import ONLINE_RETAIL
from customers.ingestion.formats import KINDS
from customers.services import csv_import_run


class Command(BaseCommand):
    help = "Import a CSV file of customer data; prints a summary and the error report path."

    def add_arguments(self, parser) -> None:
        parser.add_argument("kind", choices=[*KINDS, ONLINE_RETAIL])
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", dest="file_format", choices=["precis", ONLINE_RETAIL], default="precis")
        parser.add_argument("--report", type=Path, help="error report CSV (default: FILE.errors-<time>.csv)")

    def handle(self, *args, kind: str, file: Path, file_format: str, report: Path | None, **options) -> None:
        if not file.exists():
            raise CommandError(f"{file}: no such file")
        if kind == ONLINE_RETAIL:
            file_format = ONLINE_RETAIL
        if file_format == ONLINE_RETAIL and kind not in ("orders", ONLINE_RETAIL):
            raise CommandError("--format online_retail imports orders: use KIND orders or online_retail")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        report = report or file.with_name(f"{file.stem}.errors-{stamp}.csv")
        result = csv_import_run(
            kind="orders" if kind == ONLINE_RETAIL else kind,
            path=file,
            report_path=report,
            file_format=file_format,
            progress=lambda done, total: self.stderr.write(f"\r{done}/{total} rows", ending=""),
        )
        self.stderr.write("")
        for key, value in result.summary().items():
            self.stdout.write(f"{key}: {value}")
        for error in result.errors[:10]:
            self.stdout.write(f"  line {error.row} {error.field} {error.value!r}: {error.message}")
        self.stdout.write(f"error report: {report}")
        if result.failed:
            raise CommandError(result.errors[0].message if result.errors else "import failed")
