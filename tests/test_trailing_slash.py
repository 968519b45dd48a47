"""An API address written without its trailing slash is redirected with 308, which keeps the method and
the body (a device POSTing reports there must not lose them, nor get a 500 in DEBUG)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_missing_trailing_slash_is_a_308_to_the_same_address_with_it(station, station_client_for, settings,
                                                                       debug, method):
    settings.DEBUG = debug
    response = getattr(station_client_for(station), method)("/api/v1/station/heartbeat?x=1")
    assert response.status_code == 308
    assert response["Location"] == "/api/v1/station/heartbeat/?x=1"


def test_following_the_308_keeps_the_post_and_its_body(station, station_client_for):
    response = station_client_for(station).post("/api/v1/station/heartbeat", {"agent_version": "loa/1"},
                                                format="json", follow=True)
    assert response.status_code == 200 and "server_time" in response.json()
