"""Routes of the newsroom pages, one module per area."""

from django.urls import include, path

urlpatterns = [
    path("", include("broadcast.newsroom.home")),
    path("", include("broadcast.newsroom.desk")),
    path("", include("broadcast.newsroom.listening")),
    path("", include("broadcast.newsroom.review")),
]
