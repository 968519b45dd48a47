"""The dashboard pages under odd query strings: never a 500."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("date", ["0001-01-01", "9999-12-31", "1900-01-01", "2200-06-01"])
@pytest.mark.parametrize("page", ["/dashboard/", "/dashboard/stations/{code}/"])
def test_a_date_outside_the_api_bounds_shows_today_not_a_500(supervisor, station, page, date):
    """As a malformed date does; at the calendar's ends the previous/next day links overflowed (500)."""
    client = Client()
    client.force_login(supervisor)
    response = client.get(page.format(code=station.code), {"date": date}, follow=True)
    assert response.status_code == 200
    assert date not in response.content.decode()
    assert all(date not in url for url, _ in response.redirect_chain)


def test_a_station_code_with_a_slash_is_listed_linked_and_reachable(supervisor, client_for):
    """A registry CSV may give a code like 'TTVH/01': the overview lists it (it links to its page) and
    the page and the registry API open it."""
    from tests.factories import StationFactory

    station = StationFactory(code="TTVH/01")  # never connected: listed among those needing attention
    client = Client()
    client.force_login(supervisor)
    overview = client.get("/dashboard/")
    assert overview.status_code == 200
    assert "/operations/stations/TTVH/01/?date=" in overview.content.decode()
    assert client.get("/dashboard/stations/TTVH/01/", follow=True).status_code == 200
    api = client_for(supervisor)
    assert api.get("/api/v1/stations/TTVH/01/").json()["code"] == station.code
    assert api.patch("/api/v1/stations/TTVH/01/", {"active": False}, format="json").status_code == 200
    issued = api.post("/api/v1/stations/TTVH/01/token/")
    assert issued.status_code == 201 and issued.json()["station"] == "TTVH/01"
    assert api.delete("/api/v1/stations/TTVH/01/token/").status_code == 204
