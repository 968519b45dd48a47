"""Throttle rates are read at start-up: a malformed one fails loudly there, not as a 500 on every
throttled request (DRF parses the rate only when a request is counted)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from broadcast import settings as loa_settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("raw", ["600", "600/x", "abc/min", "0/min", "-5/min", "600/min/2", " /min"])
def test_a_malformed_rate_is_refused_naming_the_variable(monkeypatch, raw):
    monkeypatch.setenv("LOA_TEST_RATE", raw)
    with pytest.raises(ImproperlyConfigured, match="LOA_TEST_RATE"):
        loa_settings.env_rate("LOA_TEST_RATE", "1/min")


@pytest.mark.parametrize("raw", ["600/min", "10/s", "5/hour", "1000/day", " 60/m "])
def test_a_rate_drf_reads_is_kept(monkeypatch, raw):
    monkeypatch.setenv("LOA_TEST_RATE", raw)
    assert loa_settings.env_rate("LOA_TEST_RATE", "1/min") == raw.strip()


def test_the_server_does_not_start_with_a_malformed_station_rate(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update({"LOA_VAR_DIR": str(tmp_path), "STATION_THROTTLE_RATE": "600"})
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0 and "STATION_THROTTLE_RATE" in result.stderr
