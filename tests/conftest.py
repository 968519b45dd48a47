"""Shared fixtures: role users, API clients for staff and stations, isolated media, eager Celery."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from broadcast.celery import app as celery_app
from stations.services import issue_station_token
from tests.factories import DistrictOperatorFactory, StationFactory, UserFactory

pytest_plugins = ["tests.broker_fixtures"]

INTEGRATION_DIR = Path(__file__).parent / "integration"


def integration_skip_reason() -> str | None:
    """Why the integration tier cannot run here, or None when PostgreSQL and Redis are configured."""
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        return "needs DATABASE_URL=postgres://… (PostgreSQL)"
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"):
        return "needs CELERY_BROKER_URL=redis://… (Redis)"
    return None


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    # Without PostgreSQL and Redis the whole tier is left out, and said so once (below).
    if integration_skip_reason() and collection_path.is_relative_to(INTEGRATION_DIR):
        return True
    return None


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ANN001
    reason = integration_skip_reason()
    if reason:
        terminalreporter.write_line(f"integration tier (tests/integration) skipped: {reason}")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness is for production; every test user would otherwise pay it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Throttle and login counters live in the cache; one test's requests must not throttle the next.
    from django.core.cache import cache

    from stations.auth import StationThrottle

    cache.clear()
    StationThrottle._poll_window = None  # the 304 poll's counts kept in this process


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()


@pytest.fixture(autouse=True)
def _eager_celery(request):
    """Unit tests run tasks in-process; tests marked `integration` use the real worker instead."""
    eager = request.node.get_closest_marker("integration") is None
    # With the "CELERY" settings namespace, conf.task_always_eager reads CELERY_TASK_ALWAYS_EAGER.
    previous = celery_app.conf.CELERY_TASK_ALWAYS_EAGER
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = eager
    assert celery_app.conf.task_always_eager is eager
    yield
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = previous


def _client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


@pytest.fixture
def editor(db):
    return UserFactory(username="bientap", roles=["editor"])


@pytest.fixture
def other_editor(db):
    return UserFactory(username="bientap2", roles=["editor"])


@pytest.fixture
def approver(db):
    return UserFactory(username="kiemduyet", roles=["approver"])


@pytest.fixture
def supervisor(db):
    return UserFactory(username="giamsat", roles=["supervisor"])


@pytest.fixture
def district_operator(db):
    return DistrictOperatorFactory(user__username="canbo").user


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def client_for():
    """client_for(user) -> an APIClient authenticated as that staff user."""
    return _client_for


@pytest.fixture
def station(db):
    return StationFactory()


@pytest.fixture
def station_client_for(db):
    """station_client_for(station) -> an APIClient sending that station's fresh Bearer token."""

    def make(station) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_station_token(station)}")
        return client

    return make


@pytest.fixture
def samples_file(tmp_path: Path):
    """samples_file(*bulletins) -> a bulletin samples file for `seed_demo --samples` holding them."""

    def write(*bulletins: dict) -> Path:
        path = tmp_path / "samples.json"
        path.write_text(json.dumps(list(bulletins), ensure_ascii=False), encoding="utf-8")
        return path

    return write


@pytest.fixture
def one_sample(samples_file) -> Path:
    """A bulletin samples file for `seed_demo --samples`, holding one bulletin."""
    return samples_file({
        "title": "Lịch tiêm chủng tháng này", "category": "health", "priority": "normal",
        "body": "Trạm y tế phường tiêm chủng cho trẻ vào sáng thứ Hai.",
    })
