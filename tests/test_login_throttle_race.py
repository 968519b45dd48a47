"""Parallel logins cannot overshoot the failure limit: an attempt is counted before its password is checked."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from broadcast.services import access

pytestmark = pytest.mark.django_db

API = "/api/v1/auth/token/"
LIMIT = 3
PARALLEL = 8


@pytest.fixture(autouse=True)
def _small_limits(settings):
    settings.LOGIN_MAX_FAILURES_PER_USER = LIMIT
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 50
    settings.LOGIN_LOCKOUT_SECONDS = 600


def test_parallel_wrong_passwords_check_at_most_the_limit_of_passwords(monkeypatch):
    # Each password check waits until every request has either reached a check or been refused, so all
    # requests are in flight together, as with that many web workers behind a slow password hash.
    state = threading.Condition()
    counts = {"checked": 0, "refused": 0}

    def slow_wrong_password(request, **credentials):
        with state:
            counts["checked"] += 1
            state.notify_all()
            state.wait_for(lambda: counts["checked"] + counts["refused"] >= PARALLEL, timeout=10)
        return None

    monkeypatch.setattr("broadcast.api.access.authenticate", slow_wrong_password)
    statuses: list[int] = []

    def attempt(i: int) -> None:
        try:
            response = APIClient(REMOTE_ADDR=f"10.1.0.{i}").post(
                API, {"username": "giamsat1", "password": "sai"}, format="json")
            statuses.append(response.status_code)
            if response.status_code == 429:
                with state:
                    counts["refused"] += 1
                    state.notify_all()
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert counts["checked"] == LIMIT
    assert sorted(statuses) == [400] * LIMIT + [429] * (PARALLEL - LIMIT)


def test_attempts_begun_before_any_ends_are_refused_past_the_limit():
    begun = [access.begin_login("giamsat2", f"10.2.0.{i}") for i in range(PARALLEL)]

    allowed = [a for a in begun if a.allowed]
    assert len(allowed) == LIMIT
    assert all(a.wait and 0 < a.wait <= 600 for a in begun if not a.allowed)
    for attempt in allowed:
        attempt.failed()
    assert not access.begin_login("giamsat2", "10.2.1.1").allowed


def test_a_success_gives_back_the_address_reservation_and_clears_the_name(settings):
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 2
    for _ in range(2):
        access.begin_login("giamsat3", "10.3.0.1").failed()  # the name now has 2 of 3
    for _ in range(3):  # successes never use up the address's 2
        access.begin_login("giamsat4", "10.3.0.2").succeeded()

    access.begin_login("giamsat3", "10.3.0.2").succeeded()

    # The name's count restarted at the success: three new failures (from fresh addresses) are allowed.
    for i in range(LIMIT):
        attempt = access.begin_login("giamsat3", f"10.3.1.{i}")
        assert attempt.allowed
        attempt.failed()
    assert not access.begin_login("giamsat3", "10.3.2.1").allowed
    assert access.begin_login("giamsat7", "10.3.0.2").allowed  # the address used none of its 2


def test_a_refused_attempt_does_not_count_against_the_address(settings):
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 4
    for _ in range(LIMIT):
        access.begin_login("giamsat5", "10.4.0.1").failed()
    for _ in range(5):
        assert not access.begin_login("giamsat5", "10.4.0.1").allowed  # name locked: refused, not counted

    assert access.begin_login("giamsat6", "10.4.0.1").allowed  # the address has 3 of 4
