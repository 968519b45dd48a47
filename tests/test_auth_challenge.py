"""A 401 names the scheme the endpoint accepts (RFC 9110 WWW-Authenticate): staff endpoints the staff
API token, station endpoints the station's Bearer token."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/api/v1/coverage/", "/api/v1/bulletins/", "/api/v1/stations/"])
@pytest.mark.parametrize("authorization", [None, "Token wrong", "Basic eA=="])
def test_a_staff_endpoints_401_challenges_for_a_staff_token(url, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = APIClient().get(url, **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Token realm="api"'


@pytest.mark.parametrize("url", ["/api/v1/station/playlist/", "/api/v1/station/heartbeat/"])
def test_a_station_endpoints_401_challenges_for_a_station_bearer_token(url):
    response = APIClient().get(url)
    assert response.status_code == 401 and response["WWW-Authenticate"] == 'Bearer realm="station"'
