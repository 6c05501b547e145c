from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, render

from jobs.models import Job


@login_required
@permission_required("jobs.view_job", raise_exception=True)
def job_progress_partial(request, job_id):
    """The progress bar of one job; it polls itself until the job finishes."""
    job = get_object_or_404(Job, pk=job_id)
    return render(request, "jobs/partials/progress.html", {"job": job})
