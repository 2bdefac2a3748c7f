from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from core import health
from core.api.site import api, grouped_urls
from core.api.views import api_not_found
from core.observability import metrics_view

urlpatterns = [
    path("api/v1/", grouped_urls(api)),
    re_path(r"^api/", api_not_found),
    path("_allauth/", include("allauth.headless.urls")),
    path("admin/", admin.site.urls),
    path("health", health.live, name="health"),
    path("health/ready", health.ready, name="health-ready"),
    path("metrics", metrics_view, name="metrics"),
]
if settings.DEBUG:
    urlpatterns += [re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})]
