"""Timing helpers: every product operation is timed next to a hand-written reference for
the same result in the same run, and reported as a ratio, so figures compare across
machines."""

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass
class Measurement:
    """Timings of one operation and its reference, plus the throughput unit if any."""

    name: str
    target: str
    product_seconds: list[float]
    reference_seconds: list[float]
    items: int | None = None
    unit: str = ""
    notes: str = ""
    extra: dict = field(default_factory=dict)
    measured_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def product_median(self) -> float:
        return statistics.median(self.product_seconds)

    @property
    def reference_median(self) -> float:
        return statistics.median(self.reference_seconds)

    @property
    def product_p95(self) -> float:
        return percentile(self.product_seconds, 95)

    @property
    def ratio(self) -> float:
        return self.product_median / self.reference_median if self.reference_median else float("nan")

    @property
    def throughput(self) -> float | None:
        return self.items / self.product_median if self.items else None


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def timed(fn: Callable[[], object], repeat: int, setup: Callable[[], object] | None = None) -> list[float]:
    """Run fn repeat times (setup before each run, untimed) and return the seconds of each."""
    seconds = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    return seconds


def vacuum(*tables: str) -> None:
    """Leave the tables as autovacuum would between two runs (untimed): dead rows of the
    previous run would otherwise slow the next one down."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM (ANALYZE) {table}")


def machine_description() -> dict:
    import os

    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_results(suite: str, measurements: list[Measurement], context: dict) -> Path:
    """Write results/<suite>.md (the committed table) and results/<suite>.json (raw timings).

    Operations measured in an earlier run and not in this one are kept, so one slow
    operation can be re-measured alone (``--only``)."""
    RESULTS_DIR.mkdir(exist_ok=True)
    raw_path = RESULTS_DIR / f"{suite}.json"
    if raw_path.exists():
        fresh = {m.name for m in measurements}
        fields = set(Measurement.__dataclass_fields__)
        earlier = [
            Measurement(**{key: value for key, value in row.items() if key in fields})
            for row in json.loads(raw_path.read_text())["results"]
            if row["name"] not in fresh
        ]
        measurements = earlier + measurements
    lines = [
        f"# Benchmark: {suite}",
        "",
        " · ".join(f"{key}: {value}" for key, value in context.items()),
        "",
        "| operation | target | product median | product p95 | reference median | ratio | throughput "
        "| measured | notes |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for m in measurements:
        throughput = f"{m.throughput:,.0f} {m.unit}/s" if m.throughput else ""
        lines.append(
            f"| {m.name} | {m.target} | {m.product_median * 1000:,.1f} ms | {m.product_p95 * 1000:,.1f} ms "
            f"| {m.reference_median * 1000:,.1f} ms | {m.ratio:.2f}× | {throughput} "
            f"| {m.measured_at[:16]} | {m.notes} |"
        )
    markdown = RESULTS_DIR / f"{suite}.md"
    markdown.write_text("\n".join(lines) + "\n")
    raw = [asdict(m) | {"ratio": m.ratio, "throughput": m.throughput} for m in measurements]
    raw_path.write_text(json.dumps({"context": context, "results": raw}, indent=2))
    return markdown


def suite_run(
    suite: str, benches: dict[str, Callable[[], list[Measurement]]], context: dict, only: list[str] | None = None
) -> Path:
    """Run the operations of a suite that ``only`` names (all without it) and write its
    results with the load average around the run: other work on the machine slows the
    product and the reference alike, so the ratio is the figure to compare."""
    load = os.getloadavg()[0]
    measurements: list[Measurement] = []
    for key, bench in benches.items():
        if only and key not in only:
            continue
        print(f"running {bench.__name__}", flush=True)
        measurements += bench()
    context = context | {
        "load average (1 min) before": f"{load:.1f}",
        "load average (1, 5, 15 min) after": ", ".join(f"{v:.1f}" for v in os.getloadavg()),
    }
    path = write_results(suite, measurements, context)
    print(f"wrote {path}")
    return path
