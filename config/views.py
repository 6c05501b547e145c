from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from customers.selectors import customer_data_overview


@login_required
def home(request):
    """Landing page: what data the shop has loaded, and where to go next."""
    return render(request, "home.html", {"overview": customer_data_overview()})


def healthz(request):
    """Liveness for load balancers: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
