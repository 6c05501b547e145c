from django.urls import path

from customers.views import imports, profiles

app_name = "customers"
urlpatterns = [
    path("", profiles.customer_list_page, name="list"),
    path("import/", imports.import_page, name="import"),
    path("import/<uuid:job_id>/errors.csv", imports.import_error_report, name="import-errors"),
    path("<str:external_id>/", profiles.customer_profile_page, name="profile"),
    path("<str:external_id>/export.json", profiles.customer_export_download, name="export"),
    path("<str:external_id>/erase/", profiles.customer_erase_action, name="erase"),
]
