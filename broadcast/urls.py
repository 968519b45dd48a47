"""Root URLs. Each area keeps its own route module (stations/api.py, broadcast/api/<area>.py)."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

api_v1 = [
    path("", include("stations.api")),
    path("", include("broadcast.api.bulletins")),
    path("", include("broadcast.api.schedules")),
    path("", include("broadcast.api.station")),
    path("", include("broadcast.api.reports")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    # --- pages (dashboard) ---
    path("", include("broadcast.dashboard")),
]
