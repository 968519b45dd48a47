"""Configuration comes from the environment only, and bad values fail loudly at start-up."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from broadcast import settings as loa_settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("helper", "raw", "kwargs"),
    [
        (loa_settings.env_bool, "maybe", {}),
        (loa_settings.env_int, "ten", {}),
        (loa_settings.env_int, "5", {"minimum": 10}),
        (loa_settings.env_float, "x1.5", {}),
    ],
)
def test_typed_helpers_reject_bad_values_naming_the_variable(monkeypatch, helper, raw, kwargs):
    monkeypatch.setenv("LOA_TEST_VALUE", raw)
    with pytest.raises(ImproperlyConfigured, match="LOA_TEST_VALUE"):
        helper("LOA_TEST_VALUE", 1, **kwargs)


def test_typed_helpers_read_good_values(monkeypatch):
    monkeypatch.setenv("LOA_TEST_VALUE", "off")
    assert loa_settings.env_bool("LOA_TEST_VALUE", True) is False
    monkeypatch.setenv("LOA_TEST_VALUE", "a, b,,c")
    assert loa_settings.env_list("LOA_TEST_VALUE", []) == ["a", "b", "c"]
    monkeypatch.delenv("LOA_TEST_VALUE")
    assert loa_settings.env_int("LOA_TEST_VALUE", 7) == 7


def _manage_check(extra_env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    # Other tests may leave variables behind (the browser test sets DJANGO_ALLOW_ASYNC_UNSAFE).
    dropped = {"SECRET_KEY", "DEBUG", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update({"LOA_VAR_DIR": str(tmp_path), **extra_env})
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_production_start_without_secret_key_fails_loudly(tmp_path):
    result = _manage_check({"DEBUG": "false"}, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_settings_pass_the_deploy_check(tmp_path):
    result = _manage_check(
        {"DEBUG": "false", "SECRET_KEY": "x" * 20 + "-not-a-real-secret-but-long-enough-0123456789",
         "ALLOWED_HOSTS": "loa.example.vn"},
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout + result.stderr


def test_a_malformed_database_url_is_refused(tmp_path):
    result = _manage_check({"DATABASE_URL": "notascheme://"}, tmp_path)
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr
