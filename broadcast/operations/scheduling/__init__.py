"""The supervisor's scheduling pages (list, new, a schedule's page with edit and cancel, previews)."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("operations/schedules/", views.schedule_list, name="operations-schedules"),
    path("operations/schedules/new/", views.new_schedule, name="operations-schedule-new"),
    path("operations/schedules/bulletins/", views.bulletin_options, name="operations-schedule-bulletins"),
    path("operations/schedules/count/", views.target_count, name="operations-schedule-count"),
    path("operations/schedules/<int:pk>/", views.schedule_detail, name="operations-schedule"),
]
