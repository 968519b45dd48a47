"""Routes of the coverage pages."""

from django.urls import path

from . import report, views

urlpatterns = [
    path("dashboard/", views.overview, name="dashboard"),
    path("dashboard/report/", report.monthly_report, name="dashboard-report"),
    # The station's day lives on the station page now; old links (a code may hold '/') lead there.
    path("dashboard/stations/<path:code>/", views.station_redirect, name="dashboard-station"),
]
