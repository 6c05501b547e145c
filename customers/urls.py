from django.urls import path

from customers import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list_page, name="list"),
    path("import/", views.import_page, name="import"),
]
