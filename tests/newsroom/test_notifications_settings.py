"""Mail settings of the notifications: the console in development, SMTP named by the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _settings_of(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    dropped = {"EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_USE_TLS", "EMAIL_USE_SSL", "DEFAULT_FROM_EMAIL",
               "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    code = ("from django.conf import settings as s; "
            "print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS, s.DEFAULT_FROM_EMAIL, sep='|')")
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=ROOT, capture_output=True, text=True,
        env={**clean, "DJANGO_SETTINGS_MODULE": "broadcast.settings", "LOA_VAR_DIR": str(tmp_path), **env},
        timeout=60)


def test_development_prints_mail_on_the_console(tmp_path):
    result = _settings_of({}, tmp_path)
    assert result.stdout.strip() == "django.core.mail.backends.console.EmailBackend|localhost|25|False|Loa <loa@localhost>"


def test_an_smtp_server_is_named_by_the_environment(tmp_path):
    result = _settings_of({"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                           "EMAIL_HOST": "smtp.example.vn", "EMAIL_PORT": "587", "EMAIL_USE_TLS": "true",
                           "DEFAULT_FROM_EMAIL": "Đài Loa <loa@example.vn>"}, tmp_path)
    assert result.stdout.strip() == ("django.core.mail.backends.smtp.EmailBackend|smtp.example.vn|587|True|"
                                     "Đài Loa <loa@example.vn>")


def test_bad_mail_settings_fail_at_start_naming_the_variable(tmp_path):
    assert "EMAIL_PORT" in _settings_of({"EMAIL_PORT": "hai lăm"}, tmp_path).stderr
    both = _settings_of({"EMAIL_USE_TLS": "true", "EMAIL_USE_SSL": "true"}, tmp_path)
    assert both.returncode != 0 and "EMAIL_USE_TLS and EMAIL_USE_SSL" in both.stderr
