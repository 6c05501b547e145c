"""The import page: upload a CSV file, watch the job's progress, download the error report."""

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _

from customers.ingestion.csv_import import ONLINE_RETAIL
from customers.services import IMPORT_JOB_KIND, import_job_start, import_report_path
from jobs.models import Job

KIND_CHOICES = [
    ("customers", _("Customers")),
    ("products", _("Products")),
    ("orders", _("Orders")),
    ("order_lines", _("Order lines")),
    ("events", _("Behaviour events")),
    ("reviews", _("Reviews")),
    (ONLINE_RETAIL, _("Online Retail II transactions")),
]


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"), choices=KIND_CHOICES)
    file = forms.FileField(label=_("CSV file (UTF-8, header row)"))


@login_required
@permission_required("customers.add_customer", raise_exception=True)
def import_page(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = import_job_start(kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"], user=request.user)
        if request.htmx:
            return render(request, "jobs/partials/progress.html", {"job": job})
        return redirect(f"{request.path}?job={job.pk}")
    jobs = Job.objects.filter(kind=IMPORT_JOB_KIND)[:10]
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "customers/import.html",
        {"form": form, "jobs": jobs, "current": request.GET.get("job", "")},
        status=status,
    )


@login_required
@permission_required("customers.add_customer", raise_exception=True)
def import_error_report(request: HttpRequest, job_id) -> FileResponse:
    job = get_object_or_404(Job, pk=job_id, kind=IMPORT_JOB_KIND)
    path = import_report_path(job_id=job.pk)
    if not path.exists():
        raise Http404("no error report")
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=f"import-errors-{job.pk}.csv", content_type="text/csv"
    )
