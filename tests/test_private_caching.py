"""Private data is never stored by a cache: staff API answers, the play log export and dashboard pages
say `Cache-Control: private, no-store` (a shared computer's back button or a proxy must not show them to
the next person); station downloads keep their own revalidation headers."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _no_store(response) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return {"private", "no-store"} <= directives and "public" not in directives


@pytest.mark.parametrize("url", ["/api/v1/bulletins/", "/api/v1/coverage/", "/api/v1/stations/",
                                 "/api/v1/reports/export.csv", "/api/v1/coverage/?date=x"])
def test_staff_api_answers_are_not_stored(client_for, supervisor, url):
    response = client_for(supervisor).get(url)
    assert response.status_code in {200, 400}
    assert _no_store(response), response.get("Cache-Control")


def test_dashboard_pages_are_not_stored(supervisor, station):
    client = Client()
    client.force_login(supervisor)
    for url in ("/dashboard/", "/dashboard/report/"):
        response = client.get(url)
        assert response.status_code == 200 and _no_store(response), (url, response.get("Cache-Control"))


def test_station_playlists_keep_their_revalidation_headers(station, station_client_for):
    response = station_client_for(station).get("/api/v1/station/playlist/")
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-cache"
