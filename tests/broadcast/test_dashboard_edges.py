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
    response = client.get(page.format(code=station.code), {"date": date})
    assert response.status_code == 200
    assert date not in response.content.decode()
