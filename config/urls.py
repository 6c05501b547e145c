from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import views

urlpatterns = [
    # First: its public response pages take the most requests, and the resolver tries the
    # patterns in order (the prefixes do not overlap, so order changes nothing else).
    path("surveys/", include("surveys.urls")),
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("jobs.urls")),
    path("customers/", include("customers.urls")),
    path("segments/", include("segments.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("analytics/", include("analytics.urls")),
    path("reports/", include("reports.urls")),
    path("api/", include("customers.api_urls")),
    path("api/", include("segments.api_urls")),
    path("api/", include("analytics.api_urls")),
    path("api/", include("campaigns.api_urls")),
    path("api/", include("surveys.api_urls")),
    path("api/", include("reports.api_urls")),
    path("t/", include("campaigns.tracking.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
