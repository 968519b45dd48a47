"""The stations registry: the list of stations a person sees with their health, and a station's page
(timeline, slots, whom to phone, its token, health history). Supervisors edit; operators read their area."""

from django.urls import path

from .listing import station_list
from .station import station_page

urlpatterns = [
    path("operations/stations/", station_list, name="operations-stations"),
    # A code may hold '/': the page's actions are POSTed to the page itself, never to a sub-path.
    path("operations/stations/<path:code>/", station_page, name="operations-station"),
]
