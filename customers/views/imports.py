from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def import_page(request):
    return HttpResponse("import")


@login_required
def import_error_report(request, job_id):
    return HttpResponse("report")
