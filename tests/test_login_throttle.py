"""Logins are throttled per user name and per address (429 + Retry-After, in Vietnamese); anonymous API
clients are held to ANON_THROTTLE_RATE."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "mat-khau-thu-nghiem"
API = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def _small_limits(settings):
    settings.LOGIN_MAX_FAILURES_PER_USER = 3
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 5
    settings.LOGIN_LOCKOUT_SECONDS = 600


def _api_login(username: str, password: str, address: str = "10.0.0.1"):
    return APIClient(REMOTE_ADDR=address).post(API, {"username": username, "password": password}, format="json")


def _assert_throttled(response) -> None:
    assert response.status_code == 429, response.content[:300]
    assert 0 < int(response["Retry-After"]) <= 600


def test_api_login_is_throttled_per_user_name_whatever_the_address():
    UserFactory(username="giamsat1", roles=["supervisor"])
    for i in range(3):
        assert _api_login("giamsat1", "sai", address=f"10.0.1.{i}").status_code == 400

    blocked = _api_login("giamsat1", PASSWORD, address="10.0.2.1")  # even the right password waits

    _assert_throttled(blocked)
    assert "Quá nhiều lần đăng nhập" in blocked.json()["detail"]
    assert "token" not in blocked.json()
    # Another user is not held back by it.
    UserFactory(username="giamsat2", roles=["supervisor"])
    assert _api_login("giamsat2", PASSWORD, address="10.0.2.1").status_code == 200


def test_api_login_is_throttled_per_address_across_user_names():
    UserFactory(username="bientap9", roles=["editor"])
    for i in range(5):
        assert _api_login(f"khongco{i}", "sai").status_code == 400

    _assert_throttled(_api_login("bientap9", PASSWORD))
    assert _api_login("bientap9", PASSWORD, address="10.9.9.9").status_code == 200


def test_a_successful_login_clears_the_user_name_count():
    UserFactory(username="kiemduyet1", roles=["approver"])
    for _ in range(2):
        _api_login("kiemduyet1", "sai", address="10.0.3.1")
    assert _api_login("kiemduyet1", PASSWORD, address="10.0.3.2").status_code == 200
    for _ in range(2):
        _api_login("kiemduyet1", "sai", address="10.0.3.3")
    assert _api_login("kiemduyet1", PASSWORD, address="10.0.3.4").status_code == 200


def test_user_name_count_ignores_case_and_spaces():
    UserFactory(username="giamsat3", roles=["supervisor"])
    for name in ("giamsat3", "GIAMSAT3", " GiamSat3 "):
        _api_login(name, "sai", address="10.0.4.1")
    _assert_throttled(_api_login("giamsat3", PASSWORD, address="10.0.4.2"))


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_html_logins_are_throttled_with_a_vietnamese_page(url):
    UserFactory(username="quantri", is_staff=True, is_superuser=True)
    browser = Client(REMOTE_ADDR="10.0.5.1")
    for _ in range(3):
        response = browser.post(url, {"username": "quantri", "password": "sai"})
        assert response.status_code == 200  # the form again, with its error

    blocked = browser.post(url, {"username": "quantri", "password": PASSWORD})

    _assert_throttled(blocked)
    assert "Quá nhiều lần đăng nhập" in blocked.content.decode()
    assert "_auth_user_id" not in browser.session
    # Showing the form is never refused.
    assert browser.get(url).status_code == 200


def test_html_login_still_works_below_the_limit():
    UserFactory(username="giamsat4", roles=["supervisor"])
    browser = Client(REMOTE_ADDR="10.0.6.1")
    browser.post("/accounts/login/", {"username": "giamsat4", "password": "sai"})
    response = browser.post("/accounts/login/", {"username": "giamsat4", "password": PASSWORD})
    assert response.status_code == 302
    assert browser.session["_auth_user_id"]


def test_anonymous_rate_is_in_force(monkeypatch):
    assert any(issubclass(cls, AnonRateThrottle) for cls in api_settings.DEFAULT_THROTTLE_CLASSES)
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {**SimpleRateThrottle.THROTTLE_RATES, "anon": "3/min"})
    client = APIClient(REMOTE_ADDR="10.0.7.1")
    responses = [client.post(API, {}, format="json") for _ in range(4)]  # open to anonymous clients
    assert [r.status_code for r in responses] == [400, 400, 400, 429]
    assert "Quá nhiều yêu cầu" in responses[-1].json()["detail"]
    assert int(responses[-1]["Retry-After"]) > 0
    # Another address has its own count; a staff client is not counted as anonymous.
    assert APIClient(REMOTE_ADDR="10.0.7.2").post(API, {}, format="json").status_code == 400


def test_anonymous_count_ignores_a_client_sent_forwarded_for(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {**SimpleRateThrottle.THROTTLE_RATES, "anon": "2/min"})
    statuses = [APIClient(REMOTE_ADDR="10.0.8.1", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}").post(API, {}, format="json")
                .status_code for i in range(3)]
    assert statuses == [400, 400, 429]
