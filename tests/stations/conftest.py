from __future__ import annotations

import pytest


@pytest.fixture
def demo_settings(settings):
    """What create_demo_users needs to run: DEBUG on the embedded SQLite default, with a fast hasher."""
    settings.DEBUG = True
    settings.DATABASE_URL = f"sqlite:///{settings.VAR_DIR / 'loa.sqlite3'}"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return settings
