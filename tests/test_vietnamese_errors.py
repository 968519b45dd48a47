"""Every error a person or a device sees is Vietnamese, including the ones DRF, django-filter and
Django write themselves (their own `vi` catalogs leave most of them in English; broadcast/locale
fills the gaps)."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from stations.auth import StationThrottle
from tests.factories import UserFactory

# Words that appear in the English messages and never in Vietnamese ones.
ENGLISH = re.compile(
    r"\b(the|this|is|was|were|not|no|field|required|valid|invalid|found|provided|allowed|expected|request"
    r"|must|may|ensure|enter|select|method|please|error|credentials|page|throttled|available|matches"
    r"|characters?|choice|unsupported|could|failed|query)\b",
    re.IGNORECASE,
)
VIETNAMESE = re.compile(r"[àáảãạăắằẳẵặâấầẩẫậđèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵ]", re.IGNORECASE)


def messages(data) -> list[str]:
    """Every message in an error body (keys are field names and `code` a machine-readable tag)."""
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [m for key, value in data.items() if key != "code" for m in messages(value)]
    if isinstance(data, list):
        return [m for value in data for m in messages(value)]
    return []


def assert_vietnamese(response, status: int) -> list[str]:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    found = messages(response.json())
    assert found, response.json()
    for message in found:
        assert not ENGLISH.search(message), f"English left in {message!r}"
        assert VIETNAMESE.search(message), f"not Vietnamese: {message!r}"
    return found


@pytest.fixture
def editor_client(editor, client_for):
    return client_for(editor)


@pytest.fixture
def station_client(station, station_client_for):
    return station_client_for(station)


# ---------------------------------------------------------------- authentication and permissions


@pytest.mark.django_db
def test_no_credentials_is_a_vietnamese_401(api_client):
    assert_vietnamese(api_client.get("/api/v1/bulletins/"), 401)


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["Token nope", "Token", "Token a b", "Bearer nope", "Bearer"])
def test_a_bad_token_is_a_vietnamese_401(api_client, header):
    api_client.credentials(HTTP_AUTHORIZATION=header)

    assert_vietnamese(api_client.get("/api/v1/bulletins/"), 401)


@pytest.mark.django_db
def test_a_wrong_password_is_vietnamese(api_client):
    UserFactory(username="bientap")

    assert_vietnamese(api_client.post("/api/v1/auth/token/", {"username": "bientap", "password": "sai"}), 400)


@pytest.mark.django_db
def test_a_login_without_fields_is_vietnamese(api_client):
    assert_vietnamese(api_client.post("/api/v1/auth/token/", {}), 400)


def test_a_forbidden_role_is_a_vietnamese_403(editor_client):
    assert_vietnamese(editor_client.get("/api/v1/coverage/"), 403)


def test_a_station_on_a_staff_endpoint_is_a_vietnamese_403(station_client):
    assert_vietnamese(station_client.get("/api/v1/bulletins/"), 403)


def test_a_session_post_without_csrf_is_a_vietnamese_403(editor):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(editor)

    assert_vietnamese(client.post("/api/v1/bulletins/", {"title": "a", "body": "b"}), 403)


# ---------------------------------------------------------------- validation


def test_required_fields_are_vietnamese(editor_client):
    found = assert_vietnamese(editor_client.post("/api/v1/bulletins/", {}), 400)

    assert "Trường này là bắt buộc." in found


@pytest.mark.parametrize("payload", [
    {"title": "Tin", "body": "Nội dung", "category": "xyz"},
    {"title": "x" * 301, "body": "Nội dung"},
    {"title": None, "body": "Nội dung"},
    {"title": ["a"], "body": "Nội dung"},
    {"title": "", "body": "Nội dung"},
])
def test_field_validation_messages_are_vietnamese(editor_client, payload):
    assert_vietnamese(editor_client.post("/api/v1/bulletins/", payload), 400)


@pytest.mark.parametrize("payload", [
    {"agent_version": "1", "playlist_version": "abc"},
    {"agent_version": "1", "playlist_version": -1},
    {"agent_version": "1", "disk_free_mb": "nhiều"},
    {"agent_version": "x" * 65},
])
def test_station_validation_messages_are_vietnamese(station_client, payload):
    assert_vietnamese(station_client.post("/api/v1/station/heartbeat/", payload), 400)


@pytest.mark.parametrize("payload", [
    {"bulletin": 999999, "start_date": "2026-01-01", "targets": {"all": True}},
    {"bulletin": "abc", "start_date": "hôm nay", "targets": {"kinds": ["tv"]}},
    {"bulletin": 1, "targets": "all", "days_of_week": [9], "plays_per_slot": 0},
    {"bulletin": 1, "targets": {"all": True}, "slots": "morning"},
])
def test_schedule_validation_messages_are_vietnamese(supervisor, client_for, payload):
    assert_vietnamese(client_for(supervisor).post("/api/v1/schedules/", payload), 400)


@pytest.mark.parametrize("query", ["kind=truyenhinh", "status=zzz", "active=nope"])
def test_filter_errors_are_vietnamese(supervisor, client_for, query):
    response = client_for(supervisor).get(f"/api/v1/stations/?{query}")

    if query == "active=nope":  # a boolean filter ignores a value it cannot read
        assert response.status_code == 200
    else:
        assert_vietnamese(response, 400)


def test_a_malformed_json_body_is_vietnamese(editor_client):
    response = editor_client.post("/api/v1/bulletins/", '{"title": ', content_type="application/json")

    assert_vietnamese(response, 400)


# ---------------------------------------------------------------- HTTP-level errors


def test_not_found_is_vietnamese(editor_client):
    assert_vietnamese(editor_client.get("/api/v1/bulletins/999999/"), 404)


def test_an_unknown_station_code_is_vietnamese(supervisor, client_for):
    assert_vietnamese(client_for(supervisor).get("/api/v1/stations/KHONG-CO/"), 404)


def test_an_unknown_api_address_is_a_vietnamese_json_404(editor_client):
    assert_vietnamese(editor_client.get("/api/v1/khong-co-dia-chi-nay/"), 404)


def test_an_invalid_page_is_vietnamese(editor_client):
    found = assert_vietnamese(editor_client.get("/api/v1/bulletins/", {"page": 99}), 404)

    assert found == ["Trang không hợp lệ."]


def test_method_not_allowed_is_vietnamese(editor_client):
    assert_vietnamese(editor_client.put("/api/v1/bulletins/", {}), 405)


def test_unsupported_media_type_is_vietnamese(editor_client):
    response = editor_client.post("/api/v1/bulletins/", "title=a", content_type="text/plain")

    assert_vietnamese(response, 415)


def test_not_acceptable_is_vietnamese(editor_client):
    assert_vietnamese(editor_client.get("/api/v1/bulletins/", HTTP_ACCEPT="application/xml"), 406)


def test_throttled_is_vietnamese(station_client, monkeypatch):
    monkeypatch.setattr(StationThrottle, "THROTTLE_RATES", {"station": "1/min"})
    station_client.post("/api/v1/station/heartbeat/", {"agent_version": "1"})

    response = station_client.post("/api/v1/station/heartbeat/", {"agent_version": "1"})

    assert_vietnamese(response, 429)
    assert "Retry-After" in response


def test_an_english_browser_still_gets_vietnamese(api_client):
    response = api_client.get("/api/v1/bulletins/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

    assert_vietnamese(response, 401)


# ---------------------------------------------------------------- the catalog itself


LOCALE = Path(settings.BASE_DIR) / "broadcast" / "locale" / "vi" / "LC_MESSAGES"


def _po_entries(text: str) -> dict[str, str]:
    """msgid → msgstr (first form) of a simple .po file, enough to compare it with the compiled .mo."""
    entries: dict[str, str] = {}
    current: dict[str, str] = {}
    key = None
    for line in text.splitlines() + [""]:
        if line.startswith(("msgid ", "msgid_plural ", "msgstr ", "msgstr[0] ")):
            key = line.split(" ", 1)[0]
            current[key] = eval(line.split(" ", 1)[1])  # noqa: S307 - a quoted .po string literal
        elif line.startswith('"') and key:
            current[key] += eval(line)  # noqa: S307
        elif not line.strip() and current:
            if current.get("msgid"):
                entries[current["msgid"]] = current.get("msgstr", current.get("msgstr[0]", ""))
            current, key = {}, None
    return entries


def test_the_committed_mo_matches_the_po():
    """The .mo is committed (no gettext needed to run Loa); it must be compiled from the current .po."""
    entries = _po_entries((LOCALE / "django.po").read_text(encoding="utf-8"))
    with (LOCALE / "django.mo").open("rb") as fh:
        catalog = gettext.GNUTranslations(fh)

    assert len(entries) > 150
    for msgid, msgstr in entries.items():
        assert msgstr, f"untranslated: {msgid!r}"
        assert catalog.gettext(msgid) == msgstr or catalog.ngettext(msgid, msgid, 1) == msgstr, msgid


# ---------------------------------------------------------------- pages outside the API


@pytest.mark.django_db
def test_an_unknown_page_is_a_vietnamese_html_404(client):
    response = client.get("/khong-co-trang-nay/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert 'lang="vi"' in page and "Không tìm thấy" in page and "Not Found" not in page


@pytest.mark.django_db
def test_an_oversized_form_to_a_page_is_a_vietnamese_413(client):
    response = client.post("/admin/login/", "username=" + "a" * (3 * 1024 * 1024),
                           content_type="application/x-www-form-urlencoded")

    assert response.status_code == 413
    assert "quá lớn" in response.content.decode()


def test_a_non_integer_id_filter_asks_for_a_whole_number_in_plain_vietnamese(supervisor, client_for):
    # Django's own catalog says "số tổng thể" ("an overall number"); a person reads "số nguyên".
    response = client_for(supervisor).get("/api/v1/schedules/?bulletin=1e20")

    assert response.status_code == 400
    assert response.json() == {"bulletin": ["Nhập một số nguyên."]}
