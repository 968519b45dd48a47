"""The per-name login limit cannot be sidestepped by writing the same name another way."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "mat-khau-thu-nghiem"


@pytest.fixture(autouse=True)
def _small_limits(settings):
    settings.LOGIN_MAX_FAILURES_PER_USER = 3
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 50
    settings.LOGIN_LOCKOUT_SECONDS = 600


def test_the_page_login_signs_in_a_compatibility_spelling_of_the_name():
    """Django's login form reads the name in NFKC, so full-width 'ｑｕａｎｔｒｉ' is the account 'quantri'."""
    UserFactory(username="quantri", is_staff=True, is_superuser=True)
    response = Client(REMOTE_ADDR="10.1.0.1").post("/accounts/login/",
                                                   {"username": "ｑｕａｎｔｒｉ", "password": PASSWORD})
    assert response.status_code == 302


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_compatibility_spellings_of_a_name_share_its_failure_count(url):
    UserFactory(username="quantri", is_staff=True, is_superuser=True)
    spellings = ["ｑｕａｎｔｒｉ", "ｑuantri", "𝐪𝐮𝐚𝐧𝐭𝐫𝐢"]  # each reads 'quantri' in NFKC
    for i, name in enumerate(spellings):
        assert Client(REMOTE_ADDR=f"10.1.1.{i}").post(url, {"username": name, "password": "sai"}).status_code == 200

    blocked = Client(REMOTE_ADDR="10.1.2.1").post(url, {"username": "quantri", "password": PASSWORD})
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 0
