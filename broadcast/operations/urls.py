"""Routes of the operations pages, one module per area."""

from django.urls import include, path

urlpatterns = [
    path("", include("broadcast.operations.scheduling")),
    path("", include("broadcast.operations.week")),
    path("", include("broadcast.operations.emergency")),
    path("", include("broadcast.operations.registry")),
    path("", include("broadcast.operations.station_desk")),
    path("", include("broadcast.operations.coverage")),
    path("", include("broadcast.accounts")),  # sign-in and sign-out of every page
]
