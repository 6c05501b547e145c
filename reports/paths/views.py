"""The behaviour paths page: the most common paths with their share (table and chart),
where customers leave (exit probability per state, table and chart), and the transition
probability matrix as a heatmap; each with a CSV download. Read-only: the computation is
started on the analytics paths page, which this one links to."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from reports.downloads import csv_download
from reports.paths.api import VIEW_PERMISSION
from reports.paths.selectors import heatmap, paths_report

CSV_TABLES = ("paths", "exits", "transitions")
ARROW = " → "


def _chart(report: dict) -> dict:
    return {
        "paths": {
            "labels": [ARROW.join(path["steps"]) for path in report["paths"]],
            "share": [path["share"] for path in report["paths"]],
        },  # fmt: skip
        "exits": {
            "labels": [point["state"] for point in report["exits"]],
            "probability": [point["exit_probability"] for point in report["exits"]],
        },  # fmt: skip
        "names": {"share": _("Share of sessions"), "probability": _("P(EXIT | state)")},
    }


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def paths_page(request):
    report = paths_report()
    context = {"report": report, "computation": report["computation"]}
    if report["computation"] is not None:
        context.update(heatmap=heatmap(report), chart=_chart(report))
    return render(request, "reports/paths.html", context)


def _csv_rows(table: str, report: dict) -> list[list]:
    if table == "paths":
        return [["path", "steps", "sessions", "share"]] + [
            [ARROW.join(path["steps"]), len(path["steps"]), path["sessions"], f"{path['share']:.6f}"]
            for path in report["paths"]
        ]
    if table == "exits":
        return [["state", "visits", "exits", "exit_probability", "exit_share"]] + [
            [point["state"], point["visits"], point["exits"], f"{point['exit_probability']:.6f}",
             f"{point['exit_share']:.6f}"]
            for point in report["exits"]
        ]  # fmt: skip
    if report["computation"] is None:
        return [["from", "transitions"]]
    matrix = heatmap(report)
    return [["from", *matrix["columns"], "transitions"]] + [
        [row["state"], *[f"{cell['probability']:.6f}" for cell in row["cells"]], row["transitions"]]
        for row in matrix["rows"]
    ]


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def paths_csv(request, table: str):
    """The numbers behind one part of the page, as CSV."""
    if table not in CSV_TABLES:
        raise Http404
    return csv_download(_csv_rows(table, paths_report()), f"paths-{table}.csv")
