from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def customer_list_page(request):
    return HttpResponse("customers")


@login_required
def customer_profile_page(request, external_id: str):
    return HttpResponse(external_id)
