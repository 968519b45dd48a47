"""Root URLs. Each area keeps its own route module (stations/api.py, broadcast/api/<area>.py)."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from broadcast.login import throttled_login

# The station devices' routes first: their polls are most of the traffic, and resolving a URL walks the
# patterns in order.
api_v1 = [
    path("", include("broadcast.api.station")),
    path("", include("broadcast.api.reports")),
    path("", include("broadcast.api.push")),
    path("", include("stations.api")),
    path("", include("broadcast.api.bulletins")),
    path("", include("broadcast.api.schedules")),
    path("", include("broadcast.api.access")),
    path("", include("broadcast.api.emergencies")),
]

# Errors outside DRF views (unknown address, oversized body read by Django, a crash) in Vietnamese.
handler400 = "broadcast.http.bad_request"
handler403 = "broadcast.http.permission_denied"
handler404 = "broadcast.http.page_not_found"
handler500 = "broadcast.http.server_error"

urlpatterns = [
    path("admin/login/", throttled_login(admin.site.login)),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    # --- pages (newsroom; operations: scheduling, stations, coverage, the station operator's page) ---
    path("", include("broadcast.operations.urls")),
    path("", include("broadcast.newsroom.urls")),
]
