"""Integration tier: real PostgreSQL, a real Redis broker and a real Celery worker subprocess.

Collected only when DATABASE_URL points at PostgreSQL and CELERY_BROKER_URL at Redis; otherwise
tests/conftest.py leaves the folder out and says why in one line of the summary.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(config, items):
    # tests/conftest.py leaves this folder out unless PostgreSQL and Redis are configured.
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def integration_media_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("integration-media")


@pytest.fixture(autouse=True)
def _isolated_media(settings, integration_media_root):
    """Overrides the unit tier's per-test media dir: the worker and the tests must share one."""
    settings.MEDIA_ROOT = integration_media_root


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, integration_media_root, tmp_path_factory):
    """A real `celery worker` subprocess on the configured broker, using the test database."""
    with django_db_blocker.unblock():
        test_db_name = connection.settings_dict["NAME"]
    db = settings.DATABASES["default"]
    url = f"postgres://{db.get('USER') or 'postgres'}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{test_db_name}"
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "MEDIA_ROOT": str(integration_media_root),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DB_CONN_MAX_AGE": "0",
    }
    # Drop messages left by an earlier, interrupted run so they cannot hit this run's database.
    from broadcast.celery import app

    app.control.purge()
    log = open(log_path, "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "broadcast", "worker", "--pool=solo", "--loglevel=INFO",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"it-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"celery worker exited early:\n{log_path.read_text()[-3000:]}")
            replies = app.control.ping(timeout=1.0)
            if replies:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"celery worker did not answer ping:\n{log_path.read_text()[-3000:]}")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
