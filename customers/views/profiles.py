"""Browsing customers: the searchable list and one customer's profile (用户画像).

Both pages answer an htmx request with just the fragment that changes (the result rows,
or the next slice of the timeline) and work as plain GET pages without JavaScript.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from customers.models import Customer, Gender
from customers.privacy import customer_data_export, customer_erase
from customers.profile_panels import profile_panels
from customers.selectors import (
    CustomerFilters,
    CustomerSort,
    InvalidCursor,
    customer_filter_options,
    customer_order_summary,
    customer_profile,
    customer_recent_orders,
    customer_reviews,
    customer_search,
    customer_timeline,
)

UNKNOWN_GENDER = "unknown"
CONSENT_CHOICES = [("", _("Any")), ("yes", _("Given")), ("no", _("Not given"))]


class CustomerFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=254)
    country = forms.CharField(label=_("Country"), required=False, max_length=64)
    city = forms.CharField(label=_("City"), required=False, max_length=100)
    gender = forms.ChoiceField(
        label=_("Gender"),
        required=False,
        choices=[("", _("Any"))]
        + [(value, label) for value, label in Gender.choices if value]
        + [(UNKNOWN_GENDER, _("Unknown"))],
    )
    member_tier = forms.CharField(label=_("Member tier"), required=False, max_length=32)
    email_consent = forms.ChoiceField(label=_("Email consent"), required=False, choices=CONSENT_CHOICES)
    sms_consent = forms.ChoiceField(label=_("SMS consent"), required=False, choices=CONSENT_CHOICES)
    signed_up_from = forms.DateField(
        label=_("Signed up from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    signed_up_to = forms.DateField(
        label=_("Signed up until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[(CustomerSort.NEWEST.value, _("Newest sign-up")), (CustomerSort.NAME.value, _("Name"))],
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update(
            {"type": "search", "placeholder": _("Customer id, email, phone or name"), "autocomplete": "off"}
        )
        self.fields["country"].widget.attrs["list"] = "customer-countries"
        self.fields["member_tier"].widget.attrs["list"] = "customer-tiers"

    def filters(self) -> CustomerFilters:
        """The valid part of the form as selector filters; an invalid field counts as empty."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        consent = {"yes": True, "no": False}
        gender = data.get("gender") or None
        return CustomerFilters(
            q=data.get("q", ""),
            country=data.get("country", ""),
            city=data.get("city", ""),
            gender="" if gender == UNKNOWN_GENDER else gender,
            member_tier=data.get("member_tier", ""),
            email_opt_in=consent.get(data.get("email_consent", "")),
            sms_opt_in=consent.get(data.get("sms_consent", "")),
            signed_up_from=data.get("signed_up_from"),
            signed_up_to=data.get("signed_up_to"),
            sort=CustomerSort(data.get("sort") or CustomerSort.NEWEST),
        )


def _page_query(params: QueryDict, **cursor: str) -> str:
    """The current query string with the page cursor replaced, for the pager links."""
    query = params.copy()
    for name in ("after", "before"):
        query.pop(name, None)
    query.update(cursor)
    return query.urlencode()


def _wants_fragment(request: HttpRequest) -> bool:
    # A history restore needs the whole page, even though htmx asks for it.
    return bool(request.htmx) and not request.htmx.history_restore_request


@login_required
@permission_required("customers.view_customer", raise_exception=True)
@vary_on_headers("HX-Request")
def customer_list_page(request: HttpRequest) -> HttpResponse:
    form = CustomerFilterForm(request.GET)
    form.is_valid()
    filters = form.filters()
    cursor_error = False
    try:
        page = customer_search(filters, after=request.GET.get("after"), before=request.GET.get("before"))
    except InvalidCursor:
        cursor_error = True
        page = customer_search(filters)
    context = {
        "form": form,
        "page": page,
        "cursor_error": cursor_error,
        "filtered": not filters.is_unfiltered,
        "next_query": _page_query(request.GET, after=page.next_cursor) if page.next_cursor else "",
        "previous_query": _page_query(request.GET, before=page.previous_cursor) if page.previous_cursor else "",
    }
    if _wants_fragment(request):
        return render(request, "customers/partials/customer_rows.html", context)
    context["options"] = customer_filter_options()
    return render(request, "customers/list.html", context)


@login_required
@permission_required("customers.view_customer", raise_exception=True)
@vary_on_headers("HX-Request")
def customer_profile_page(request: HttpRequest, external_id: str) -> HttpResponse:
    try:
        customer = customer_profile(external_id)
    except Customer.DoesNotExist as error:
        raise Http404(_("No customer with this id.")) from error
    try:
        timeline = customer_timeline(customer, before=request.GET.get("events_before"))
    except InvalidCursor:
        timeline = customer_timeline(customer)
    if _wants_fragment(request) and "events_before" in request.GET:
        return render(request, "customers/partials/profile_timeline.html", {"customer": customer, "timeline": timeline})
    context = {
        "customer": customer,
        "summary": customer_order_summary(customer),
        "orders": customer_recent_orders(customer),
        "reviews": customer_reviews(customer),
        "timeline": timeline,
        "older_events": "events_before" in request.GET,
        "panels": profile_panels(customer),
    }
    return render(request, "customers/profile.html", context)


@login_required
@permission_required("customers.view_customer", raise_exception=True)
def customer_export_download(request: HttpRequest, external_id: str) -> HttpResponse:
    """Everything stored about one customer as a JSON file (GDPR access request)."""
    customer = get_object_or_404(Customer, external_id=external_id)
    response = JsonResponse(customer_data_export(customer=customer), json_dumps_params={"ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}.json"'
    return response


@login_required
@permission_required("customers.delete_customer", raise_exception=True)
@require_POST
def customer_erase_action(request: HttpRequest, external_id: str) -> HttpResponse:
    """Anonymise one customer (GDPR erasure) and show the anonymised profile."""
    customer = get_object_or_404(Customer, external_id=external_id)
    customer = customer_erase(customer=customer, actor=request.user)
    messages.success(request, _("The customer's personal data was erased; orders stay, anonymised."))
    return redirect("customers:profile", external_id=customer.external_id)
