"""Adversarial edges of the station download protocol: odd Range/If-Range/If-None-Match headers, odd
tokens, signed URLs, and the query count of the station hot path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings as dj_settings
from rest_framework.test import APIClient

from broadcast.selectors.playlists import local_today
from broadcast.services.playlists import rebuild_playlists
from broadcast.services.schedules import create_schedule
from tests.factories import StationFactory, UserFactory, approved_bulletin

PLAYLIST = "/api/v1/station/playlist/"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _day() -> dt.date:
    return local_today() + dt.timedelta(days=1)  # today's slots may be over


def _schedule(stations, title):
    bulletin = approved_bulletin(title=title, seconds=1.0)
    user = UserFactory(roles=["supervisor"])
    day = _day()
    create_schedule(bulletin, by=user, start_date=day, end_date=day, slots=["morning", "evening"],
                    targets={"stations": [s.code for s in stations]})
    return bulletin


@pytest.fixture
def audio(db, station_client_for):
    station = StationFactory()
    bulletin = _schedule([station], "Thông báo")
    rebuild_playlists([station.pk], [_day()])
    rendition = bulletin.live_revision.rendition
    data = (Path(dj_settings.MEDIA_ROOT) / rendition.file).read_bytes()
    return {"station": station, "client": station_client_for(station), "sha": rendition.sha256, "data": data,
            "url": f"/api/v1/station/audio/{rendition.sha256}.mp3"}


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize(("header", "status"), [
    (f"bytes={'9' * 5000}-", 416), (f"bytes=0-{'9' * 5000}", 206), (f"bytes=-{'9' * 5000}", 206),
    (f"bytes={'0' * 5000}5-", 206),
])
def test_a_range_with_a_number_too_long_to_read_is_answered_not_a_500(audio, header, status):
    """Python refuses to read an integer of over 4,300 digits; the header still gets an HTTP answer."""
    response = audio["client"].get(audio["url"], HTTP_RANGE=header)
    assert response.status_code == status
    if status == 206:
        start = 5 if header.endswith("5-") else 0
        assert _body(response) == audio["data"][start:]
        assert response["Content-Range"] == f"bytes {start}-{len(audio['data']) - 1}/{len(audio['data'])}"


def test_suffix_multiple_and_reversed_ranges_if_range_dates_and_etag_lists_answer_per_rfc_9110(audio):
    client, url, data = audio["client"], audio["url"], audio["data"]
    suffix = client.get(url, HTTP_RANGE="bytes=-500")
    assert suffix.status_code == 206 and _body(suffix) == data[-500:]
    multi = client.get(url, HTTP_RANGE="bytes=0-1,5-6")
    assert multi.status_code == 200 and _body(multi) == data
    assert client.get(url, HTTP_RANGE="bytes=5-2").status_code == 416
    dated = client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE="Tue, 01 Dec 2026 06:00:00 GMT")
    assert dated.status_code == 200 and _body(dated) == data
    star = client.get(url, HTTP_IF_NONE_MATCH="*")
    assert star.status_code == 304 and star["ETag"] == f'"{audio["sha"]}"'
    several = client.get(url, HTTP_IF_NONE_MATCH=f'"x", W/"{audio["sha"]}"')
    assert several.status_code == 304


def test_a_non_ascii_bearer_token_on_the_fast_path_is_401_json(audio):
    client = APIClient()
    response = client.get(PLAYLIST, HTTP_AUTHORIZATION="Bearer t\u00f6k\u00e9n", HTTP_IF_NONE_MATCH="*")
    assert response.status_code == 401 and response["Content-Type"].startswith("application/json")
    assert APIClient().get(PLAYLIST, HTTP_AUTHORIZATION="Bearer").status_code == 401


def test_a_post_to_the_playlist_with_a_matching_etag_is_405_not_a_304(audio):
    client, day = audio["client"], _day().isoformat()
    etag = client.get(PLAYLIST, {"date": day})["ETag"]
    response = client.post(f"{PLAYLIST}?date={day}", {}, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 405 and response.json()["detail"].startswith("Phương thức")


def test_the_signed_m3u8_feed_is_m3u8_whatever_the_player_accepts(audio):
    url = audio["client"].get("/api/v1/station/player-url/", {"date": _day().isoformat()}).json()["m3u8_url"]
    for accept in ("application/json", "*/*", "audio/x-mpegurl"):
        response = APIClient().get(url.removeprefix("http://testserver"), HTTP_ACCEPT=accept)
        assert response.status_code == 200 and response["Content-Type"].startswith("audio/x-mpegurl")
        assert response.content.startswith(b"#EXTM3U\n") and audio["sha"].encode() in response.content
        again = APIClient().get(url.removeprefix("http://testserver"), HTTP_ACCEPT=accept,
                                HTTP_IF_NONE_MATCH=response["ETag"])
        assert again.status_code == 304 and again["ETag"] == response["ETag"]


# What each station request may cost: the credential, then one or two indexed reads (none per item).
HOT_PATH = {"playlist": 4, "m3u8": 4, "feed": 4, "bundle": 2, "audio": 2, "signed_audio": 2,
            "heartbeat": 6}  # heartbeat: its transaction (2 in tests: savepoints), a locked read, an update


def _hot_requests(client, station, sha):
    day = _day().isoformat()
    m3u8 = client.get(PLAYLIST, {"date": day, "format": "m3u8"}).content.decode()
    signed = next(line for line in m3u8.splitlines() if sha in line).removeprefix("http://testserver")
    feed = client.get("/api/v1/station/player-url/", {"date": day}).json()["m3u8_url"]
    client.get("/api/v1/station/bundle/", {"date": day})  # built (and cached) here
    client.post("/api/v1/station/heartbeat/", {"agent_version": "t"})  # first one records a status change
    return {
        "playlist": lambda: client.get(PLAYLIST, {"date": day}),
        "m3u8": lambda: client.get(PLAYLIST, {"date": day, "format": "m3u8"}),
        "feed": lambda: APIClient().get(feed.removeprefix("http://testserver")),
        "bundle": lambda: client.get("/api/v1/station/bundle/", {"date": day}),
        "audio": lambda: client.get(f"/api/v1/station/audio/{sha}.mp3"),
        "signed_audio": lambda: APIClient().get(signed),
        "heartbeat": lambda: client.post("/api/v1/station/heartbeat/", {"agent_version": "t"}),
    }


@pytest.mark.parametrize("name", sorted(HOT_PATH))
def test_station_requests_cost_a_fixed_few_queries_whatever_the_playlists_length(
        audio, name, django_assert_max_num_queries):
    station, client = audio["station"], audio["client"]
    request = _hot_requests(client, station, audio["sha"])[name]
    with django_assert_max_num_queries(HOT_PATH[name]):
        assert request().status_code == 200
    for n in range(3):
        _schedule([station], f"Thêm {n}")
    rebuild_playlists([station.pk], [_day()])
    request = _hot_requests(client, station, audio["sha"])[name]
    with django_assert_max_num_queries(HOT_PATH[name]):
        assert request().status_code == 200


@pytest.mark.parametrize("code", ["Đài-01", 'TT"01', "TT,01", "TT\n01"])
def test_a_station_whose_code_is_odd_text_polls_with_a_working_etag(db, station_client_for, code):
    """A registry CSV may give any text as a code; the ETag built from it must still be one valid header
    value that comes back equal (so the poll gets its 304), for JSON, M3U8 and the bundle."""
    station = StationFactory(code=code)
    _schedule([station], "Thông báo")
    rebuild_playlists([station.pk], [_day()])
    client = station_client_for(station)
    for params in ({}, {"format": "m3u8"}):
        for day in (_day(), local_today() - dt.timedelta(days=1)):  # with a playlist, and the empty one
            query = {"date": day.isoformat(), **params}
            first = client.get(PLAYLIST, query)
            assert first.status_code == 200
            etag = first["ETag"]
            assert etag.isascii() and etag.isprintable() and etag.count('"') == 2 and "," not in etag
            again = client.get(PLAYLIST, query, HTTP_IF_NONE_MATCH=etag)
            assert again.status_code == 304 and again["ETag"] == etag
            if params:  # the M3U8: one tag or URL per line
                assert all(line.startswith(("#", "http://")) for line in first.content.decode().splitlines())
    bundle = client.get("/api/v1/station/bundle/", {"date": _day().isoformat()})
    assert bundle.status_code == 200 and bundle["ETag"].count('"') == 2 and bundle["ETag"].isascii()
    assert client.get("/api/v1/station/bundle/", {"date": _day().isoformat()},
                      HTTP_IF_NONE_MATCH=bundle["ETag"]).status_code == 304


def test_the_json_etag_never_answers_for_the_m3u8_asked_by_accept(audio):
    client, day = audio["client"], _day().isoformat()
    json_etag = client.get(PLAYLIST, {"date": day})["ETag"]
    response = client.get(PLAYLIST, {"date": day}, HTTP_ACCEPT="audio/x-mpegurl", HTTP_IF_NONE_MATCH=json_etag)
    assert response.status_code == 200 and response.content.startswith(b"#EXTM3U")
    assert response["ETag"] != json_etag


@pytest.mark.parametrize("change", ["SECRET_KEY", "PUBLIC_BASE_URL"])
def test_the_m3u8_etag_changes_with_what_its_signed_urls_depend_on(audio, settings, change):
    """Its URLs are absolute and signed with the secret key: after either changes, a device sending the
    old ETag must get the new list, not a 304 keeping URLs that no longer work."""
    client, query = audio["client"], {"date": _day().isoformat(), "format": "m3u8"}
    old = client.get(PLAYLIST, query)
    setattr(settings, change, "https://loa.example.vn" if change == "PUBLIC_BASE_URL" else "k" * 50)
    response = client.get(PLAYLIST, query, HTTP_IF_NONE_MATCH=old["ETag"])
    assert response.status_code == 200 and response["ETag"] != old["ETag"]
    assert response.content != old.content


def test_the_bundle_file_name_of_a_code_with_a_slash_names_no_directory(db, station_client_for):
    station = StationFactory(code="TTVH/01")
    _schedule([station], "Thông báo")
    rebuild_playlists([station.pk], [_day()])
    response = station_client_for(station).get("/api/v1/station/bundle/", {"date": _day().isoformat()})
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition == f"inline; filename*=UTF-8''TTVH%2F01-{_day().isoformat()}.zip"


def test_a_304_carries_the_vary_etag_and_cache_control_of_its_200(audio):
    """RFC 9110 15.4.5: a 304 sends the ETag, Vary and Cache-Control a 200 would, the fast path included."""
    client, day = audio["client"], _day().isoformat()
    ok = client.get(PLAYLIST, {"date": day})
    for headers in ({}, {"HTTP_ACCEPT": "application/json"}):
        not_modified = client.get(PLAYLIST, {"date": day}, HTTP_IF_NONE_MATCH=ok["ETag"], **headers)
        assert not_modified.status_code == 304
        for name in ("ETag", "Vary", "Cache-Control"):
            assert not_modified.get(name) == ok.get(name), name
