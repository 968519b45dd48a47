"""Malformed input is refused with a 4xx and a Vietnamese JSON message, never a 500.

Each case goes through the real URLs (the ones the OpenAPI schema lists) with the kind of input a
broken device, a fuzzer or an attacker sends: absurdly nested JSON, numbers and dates outside what
the database or the calendar can hold, NUL bytes, and bodies far larger than any real request.
"""

from __future__ import annotations

import json

import pytest

from broadcast.http import MSG_BODY_TOO_LARGE, MSG_JSON_NUL, MSG_NUL_BYTE
from tests.factories import approved_bulletin

NESTED = "[" * 3000 + "]" * 3000  # 6 KB: deeper than the JSON decoder's recursion limit
HUGE_INT = "99999999999999999999"  # more than a 64-bit integer
LAST_DAY = "9999-12-31"  # a valid date whose next day does not exist


def assert_vietnamese_json_error(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert body, "an error answer says what is wrong"
    return body


@pytest.fixture
def station_client(station, station_client_for):
    return station_client_for(station)


# ---------------------------------------------------------------- deeply nested JSON


@pytest.mark.django_db
def test_deeply_nested_json_to_the_open_login_endpoint_is_a_400(api_client):
    response = api_client.post("/api/v1/auth/token/", NESTED, content_type="application/json")

    body = assert_vietnamese_json_error(response, 400)
    assert "JSON" in body["detail"] and "không" in body["detail"]


def test_deeply_nested_json_in_a_bulletin_is_a_400(editor, client_for):
    response = client_for(editor).post("/api/v1/bulletins/", NESTED, content_type="application/json")

    assert_vietnamese_json_error(response, 400)


def test_deeply_nested_json_in_a_heartbeat_is_a_400(station_client):
    response = station_client.post("/api/v1/station/heartbeat/", NESTED, content_type="application/json")

    assert_vietnamese_json_error(response, 400)


def test_a_nested_but_parseable_heartbeat_state_is_refused_or_stored_never_a_500(station_client):
    state = "[" * 900 + "]" * 900  # parses, but deep enough to trouble anything recursive after parsing
    raw = '{"agent_version": "1.0", "state": {"x": ' + state + "}}"

    response = station_client.post("/api/v1/station/heartbeat/", raw, content_type="application/json")

    assert response.status_code in (200, 400), response.content[:300]


# ---------------------------------------------------------------- out-of-range numbers and dates


@pytest.mark.parametrize("path, params", [
    ("/api/v1/coverage/", {"bulletin": HUGE_INT}),
    ("/api/v1/coverage/", {"bulletin": "1e20"}),
    ("/api/v1/coverage/stations/", {"bulletin": HUGE_INT}),
    ("/api/v1/schedules/", {"bulletin": HUGE_INT}),
    ("/api/v1/schedules/", {"bulletin": "1e20"}),
    ("/api/v1/coverage/", {"date": LAST_DAY}),
    ("/api/v1/coverage/", {"date": "0001-01-01"}),
    ("/api/v1/coverage/stations/", {"date": LAST_DAY}),
    ("/api/v1/playlists/", {"date": LAST_DAY}),
    ("/api/v1/schedules/", {"date": LAST_DAY}),
    ("/api/v1/reports/export.csv", {"from": LAST_DAY}),
    ("/api/v1/reports/export.csv", {"from": "0001-01-01", "to": "0001-01-02"}),
])
def test_out_of_range_query_numbers_and_dates_are_a_400(supervisor, client_for, path, params):
    response = client_for(supervisor).get(path, params)

    body = assert_vietnamese_json_error(response, 400)
    assert set(body) <= set(params), body


@pytest.mark.parametrize("path", [
    f"/api/v1/bulletins/{HUGE_INT}/",
    f"/api/v1/bulletins/{HUGE_INT}/history/",
    f"/api/v1/schedules/{HUGE_INT}/",
    f"/api/v1/renditions/{HUGE_INT}/file.mp3",
    f"/api/v1/pronunciations/{HUGE_INT}/",
])
def test_an_out_of_range_id_in_a_path_is_a_404(supervisor, client_for, path):
    response = client_for(supervisor).get(path)

    assert_vietnamese_json_error(response, 404)


def test_a_schedule_for_the_last_day_of_the_calendar_is_a_400(supervisor, client_for):
    bulletin = approved_bulletin()
    payload = {"bulletin": bulletin.pk, "start_date": LAST_DAY, "end_date": LAST_DAY, "targets": {"all": True}}

    response = client_for(supervisor).post("/api/v1/schedules/", payload, format="json")

    assert_vietnamese_json_error(response, 400)


def test_a_station_playlist_for_an_absurd_date_is_a_400(station_client):
    response = station_client.get("/api/v1/station/playlist/", {"date": LAST_DAY})

    assert_vietnamese_json_error(response, 400)


def test_out_of_range_numbers_in_a_heartbeat_are_a_400(station_client):
    raw = '{"agent_version": "1.0", "playlist_version": ' + "9" * 30 + ', "disk_free_mb": 1e999}'

    response = station_client.post("/api/v1/station/heartbeat/", raw, content_type="application/json")

    body = assert_vietnamese_json_error(response, 400)
    assert "disk_free_mb" in body or "playlist_version" in body


def test_an_out_of_range_playlist_item_in_a_report_is_rejected_alone(station_client):
    reports = [{"report_id": "r-huge", "playlist_item": int(HUGE_INT), "status": "played",
                "started_at": "2026-01-01T06:00:00+07:00"}]

    response = station_client.post("/api/v1/station/reports/", {"reports": reports}, format="json")

    assert response.status_code in (200, 400), response.content[:300]
    if response.status_code == 200:
        assert response.json()["accepted"] == 0


# ---------------------------------------------------------------- NUL bytes


@pytest.mark.parametrize("path", [
    "/api/v1/stations/%00/",
    "/api/v1/stations/a%00b/token/",
    "/api/v1/bulletins/?search=%00",
    "/api/v1/stations/?district=%00",
    "/api/v1/stations/?search=a%00",
    "/api/v1/coverage/?district=%00",
    "/api/v1/coverage/stations/?district=%00",
    "/api/v1/playlists/?station=%00",
    "/api/v1/schedules/?ordering=%00",
    "/api/v1/districts/?search=%00",
])
def test_a_nul_byte_in_a_path_or_query_is_a_400(supervisor, client_for, path):
    response = client_for(supervisor).get(path)

    body = assert_vietnamese_json_error(response, 400)
    assert body == {"detail": MSG_NUL_BYTE, "code": "nul_byte"}


def test_a_nul_byte_anywhere_in_a_heartbeat_is_a_400_and_the_station_is_untouched(station, station_client):
    # PostgreSQL's jsonb cannot hold \u0000: this was a database error (500) there.
    payload = {"agent_version": "1.0", "state": {"notes": ["ok", {"a\u0000": 1}]}}

    response = station_client.post("/api/v1/station/heartbeat/", payload, format="json")

    body = assert_vietnamese_json_error(response, 400)
    assert body == {"detail": MSG_JSON_NUL}
    station.refresh_from_db()
    assert station.agent_version == "" and station.agent_state == {}


def test_an_escaped_backslash_before_u0000_is_not_a_nul(station_client):
    raw = '{"agent_version": "1.0", "state": {"path": "C:\\\\u0000"}}'

    response = station_client.post("/api/v1/station/heartbeat/", raw, content_type="application/json")

    assert response.status_code == 200, response.content[:300]


def test_a_nul_byte_in_a_bulletin_is_a_400(editor, client_for):
    response = client_for(editor).post(
        "/api/v1/bulletins/", {"title": "Tin\u0000", "body": "Nội dung"}, format="json"
    )

    body = assert_vietnamese_json_error(response, 400)
    assert body == {"detail": MSG_JSON_NUL}


# ---------------------------------------------------------------- oversized bodies


ELEVEN_MB = 11 * 1024 * 1024


def test_an_oversized_bulletin_is_a_413_and_nothing_is_stored(editor, client_for):
    raw = json.dumps({"title": "Tin rất dài", "body": "a" * ELEVEN_MB})

    response = client_for(editor).post("/api/v1/bulletins/", raw, content_type="application/json")

    body = assert_vietnamese_json_error(response, 413)
    assert body == {"detail": MSG_BODY_TOO_LARGE, "code": "payload_too_large"}
    from broadcast.models import Bulletin

    assert not Bulletin.objects.exists()


def test_an_oversized_report_batch_is_a_413(station_client):
    report = {"report_id": "r", "playlist_item": 1, "status": "played", "started_at": "2026-01-01T06:00:00Z",
              "error": "x" * 1024}
    raw = json.dumps({"reports": [report] * (ELEVEN_MB // 1024)})

    response = station_client.post("/api/v1/station/reports/", raw, content_type="application/json")

    body = assert_vietnamese_json_error(response, 413)
    assert body["detail"] == MSG_BODY_TOO_LARGE


@pytest.mark.django_db
def test_an_oversized_form_body_is_a_413_in_json(api_client):
    response = api_client.post("/api/v1/auth/token/", "username=" + "a" * ELEVEN_MB,
                               content_type="application/x-www-form-urlencoded")

    body = assert_vietnamese_json_error(response, 413)
    assert body["detail"] == MSG_BODY_TOO_LARGE


@pytest.mark.django_db
def test_too_many_query_parameters_is_a_400_in_json(api_client):
    query = "&".join(f"p{i}=1" for i in range(1200))

    response = api_client.post(f"/api/v1/auth/token/?{query}", {"username": "x", "password": "y"}, format="json")

    assert_vietnamese_json_error(response, 400)


# ---------------------------------------------------------------- errors are JSON, whatever format was asked


@pytest.mark.parametrize("path", [
    "/api/v1/station/playlist.m3u8?format=zzz",
    "/api/v1/station/playlist.m3u8?date=1999-01-01",
    "/api/v1/station/playlist/?format=m3u8&date=31/01/2025",
])
def test_a_station_error_is_json_even_when_m3u8_was_asked_for(station_client, path):
    response = station_client.get(path)

    assert response.status_code in (400, 404)
    assert_vietnamese_json_error(response, response.status_code)


def test_an_export_error_is_json_even_when_csv_was_asked_for(supervisor, client_for):
    response = client_for(supervisor).get("/api/v1/reports/export.csv", {"format": "csv", "from": "hôm qua"})

    assert_vietnamese_json_error(response, 400)


# ---------------------------------------------------------------- found by the schema fuzz


@pytest.mark.parametrize("title, body", [("; ", ";"), ("...", "!!! ???")])
def test_a_bulletin_with_nothing_speakable_is_a_400_naming_the_body(editor, client_for, title, body):
    response = client_for(editor).post("/api/v1/bulletins/", {"title": title, "body": body}, format="json")

    found = assert_vietnamese_json_error(response, 400)
    assert list(found) == ["body"]
