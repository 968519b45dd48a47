"""Staff API tokens: stored only as hashes, shown once, expiring, revocable by their holder and in the admin."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "mat-khau-thu-nghiem"


def _login(username: str = "giamsat1") -> tuple[APIClient, dict]:
    client = APIClient()
    response = client.post("/api/v1/auth/token/", {"username": username, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client, response.json()


def _all_stored_text() -> str:
    """Every row of every table, as text: the raw token must be nowhere."""
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (table names from introspection)
            rows.extend(cursor.fetchall())
    return str(rows)


@pytest.fixture
def supervisor_user():
    return UserFactory(username="giamsat1", roles=["supervisor"])


def test_token_is_shown_once_and_stored_only_as_a_hash(supervisor_user, settings):
    settings.STAFF_TOKEN_TTL_DAYS = 7
    client, body = _login()
    raw = body["token"]

    assert raw not in _all_stored_text()
    assert not apps.is_installed("rest_framework.authtoken")
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert dt.timedelta(days=6, hours=23) < expires - timezone.now() <= dt.timedelta(days=7)
    assert client.get("/api/v1/districts/").status_code == 200


def test_each_login_gets_a_new_token(supervisor_user):
    _, first = _login()
    _, second = _login()
    assert first["token"] != second["token"]


def test_expired_token_is_refused_with_401(supervisor_user):
    from broadcast.models import StaffToken

    client, _ = _login()
    StaffToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    response = client.get("/api/v1/districts/")

    assert response.status_code == 401
    assert "hết hạn" in response.json()["detail"]


def test_holder_revokes_the_token_they_use(supervisor_user):
    client, _ = _login()
    other_client, _ = _login()

    assert client.delete("/api/v1/auth/token/").status_code == 204

    assert client.get("/api/v1/districts/").status_code == 401
    assert other_client.get("/api/v1/districts/").status_code == 200  # only the presented token


def test_holder_revokes_all_their_tokens(supervisor_user):
    client, _ = _login()
    other_client, _ = _login()

    assert client.delete("/api/v1/auth/token/?all=true").status_code == 204

    assert other_client.get("/api/v1/districts/").status_code == 401


def test_revoking_needs_a_login(api_client):
    assert api_client.delete("/api/v1/auth/token/").status_code == 401


def test_deactivated_user_token_is_refused(supervisor_user):
    client, _ = _login()
    supervisor_user.is_active = False
    supervisor_user.save(update_fields=["is_active"])
    assert client.get("/api/v1/districts/").status_code == 401


def test_admin_revokes_a_staff_token(supervisor_user):
    from broadcast.models import StaffToken

    client, _ = _login()
    token = StaffToken.objects.get(user=supervisor_user)
    admin_user = UserFactory(username="quantri", is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(admin_user)
    assert browser.get("/admin/broadcast/stafftoken/").status_code == 200
    assert browser.get("/admin/broadcast/stafftoken/add/").status_code == 403

    response = browser.post("/admin/broadcast/stafftoken/", {
        "action": "revoke_tokens", "_selected_action": [token.pk]})

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert client.get("/api/v1/districts/").status_code == 401


def test_malformed_token_header_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token")
    assert api_client.get("/api/v1/districts/").status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION="Token khong-phai-khoa")
    assert api_client.get("/api/v1/districts/").status_code == 401


def test_migration_hashes_existing_plaintext_tokens_and_deletes_them(supervisor_user):
    import importlib

    from broadcast.models import StaffToken

    migration = importlib.import_module("broadcast.migrations.0006_staff_tokens")
    legacy = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp, user_id int)")
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, %s, %s)", [legacy, timezone.now(), supervisor_user.pk])
    migration.hash_legacy_tokens(apps, SimpleNamespace(connection=connection))  # it only reads .connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM authtoken_token")
        assert cursor.fetchone() == (0,)
    assert legacy not in _all_stored_text()
    assert StaffToken.objects.get().user == supervisor_user
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {legacy}")
    assert client.get("/api/v1/districts/").status_code == 200  # a client logged in before keeps working
