"""The station download protocol: playlist JSON + ETag/304, M3U8, ZIP bundle, audio with Range."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import subprocess
import zipfile
from pathlib import Path

import pytest
from django.conf import settings as dj_settings
from rest_framework.test import APIClient

from broadcast.models import AudioRendition, Playlist, PlaylistItem
from broadcast.selectors.playlists import local_today
from broadcast.services.playlists import rebuild_playlists
from broadcast.services.schedules import create_schedule
from stations.services import issue_station_token
from tests.factories import StationFactory, UserFactory, approved_bulletin

PLAYLIST = "/api/v1/station/playlist/"
BUNDLE = "/api/v1/station/bundle/"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def scheduled(stations, *, title="Thông báo", seconds=1.0, slots=("morning", "evening")):
    bulletin = approved_bulletin(title=title, seconds=seconds)
    user = UserFactory(username="lich", roles=["supervisor"])
    today = local_today()
    create_schedule(bulletin, by=user, start_date=today, end_date=today + dt.timedelta(days=1), slots=list(slots),
                    targets={"stations": [s.code for s in stations]})
    return bulletin


def tomorrow() -> str:
    return (local_today() + dt.timedelta(days=1)).isoformat()


@pytest.fixture
def setup(db, station_client_for):
    station, other = StationFactory(), StationFactory()
    mine = scheduled([station], title="Lịch tiêm chủng, đợt 2")
    theirs = scheduled([other], title="Thông báo khác")
    day = local_today() + dt.timedelta(days=1)
    rebuild_playlists([station.pk, other.pk], [day])
    return {"station": station, "other": other, "mine": mine, "theirs": theirs,
            "client": station_client_for(station), "day": day}


def test_playlist_json_lists_the_stations_items_with_a_strong_etag(setup):
    response = setup["client"].get(PLAYLIST, {"date": tomorrow()})

    assert response.status_code == 200
    body = response.json()
    playlist = Playlist.objects.get(station=setup["station"], date=setup["day"])
    assert response["ETag"] == playlist.etag and not response["ETag"].startswith("W/")
    assert body["station"] == setup["station"].code and body["version"] == playlist.version
    assert [i["slot"] for i in body["items"]] == ["morning", "evening"]
    first = body["items"][0]
    rendition = setup["mine"].live_revision.rendition
    assert first["bulletin"] == {"id": setup["mine"].pk, "title": "Lịch tiêm chủng, đợt 2", "priority": "normal"}
    assert first["audio"]["sha256"] == rendition.sha256
    assert first["audio"]["size_bytes"] == rendition.size_bytes
    assert first["audio"]["url"].startswith("http://testserver/api/v1/station/audio/")
    assert first["starts_at"].endswith("+07:00") and first["starts_at"].startswith(f"{tomorrow()}T06:00")
    assert first["id"] == PlaylistItem.objects.get(playlist=playlist, position=0).pk


def test_if_none_match_with_the_current_etag_answers_304_and_a_stale_one_200(setup):
    client = setup["client"]
    etag = client.get(PLAYLIST, {"date": tomorrow()})["ETag"]

    not_modified = client.get(PLAYLIST, {"date": tomorrow()}, HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304 and not_modified["ETag"] == etag and not not_modified.content

    scheduled([setup["station"]], title="Mới")
    rebuild_playlists([setup["station"].pk], [setup["day"]])
    changed = client.get(PLAYLIST, {"date": tomorrow()}, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert changed.json()["version"] == 2


def test_a_revoked_token_never_gets_a_304_even_with_the_right_etag(setup):
    client = setup["client"]
    etag = client.get(PLAYLIST, {"date": tomorrow()})["ETag"]
    issue_station_token(setup["station"])  # revokes the client's token
    assert client.get(PLAYLIST, {"date": tomorrow()}, HTTP_IF_NONE_MATCH=etag).status_code == 401


def test_the_empty_playlist_etag_also_answers_304(setup):
    client = setup["client"]
    yesterday = (local_today() - dt.timedelta(days=1)).isoformat()
    etag = client.get(PLAYLIST, {"date": yesterday})["ETag"]
    assert client.get(PLAYLIST, {"date": yesterday}, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_unchanged_rebuild_keeps_the_etag_so_the_station_still_gets_304(setup):
    client = setup["client"]
    etag = client.get(PLAYLIST, {"date": tomorrow()})["ETag"]
    rebuild_playlists([setup["station"].pk], [setup["day"]])
    assert client.get(PLAYLIST, {"date": tomorrow()}, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_missing_or_wrong_token_is_401_and_staff_users_are_refused(setup, client_for, supervisor):
    assert APIClient().get(PLAYLIST).status_code == 401
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert bad.get(PLAYLIST).status_code == 401
    assert client_for(supervisor).get(PLAYLIST).status_code == 403


def test_dates_outside_the_published_range_are_400_and_a_day_without_playlist_is_empty(setup, settings):
    client = setup["client"]
    far = (local_today() + dt.timedelta(days=settings.PLAYLIST_DAYS_AHEAD + 1)).isoformat()
    response = client.get(PLAYLIST, {"date": far})
    assert response.status_code == 400 and "date" in response.json()
    assert client.get(PLAYLIST, {"date": "2025-13-40"}).status_code == 400

    empty = client.get(PLAYLIST, {"date": (local_today() - dt.timedelta(days=1)).isoformat()})
    assert empty.status_code == 200 and empty.json()["items"] == [] and empty.json()["version"] == 0


def test_audio_is_served_whole_and_by_range_with_the_sha256_as_etag(setup):
    rendition = setup["mine"].live_revision.rendition
    data = (Path(dj_settings.MEDIA_ROOT) / rendition.file).read_bytes()
    url = f"/api/v1/station/audio/{rendition.sha256}.mp3"
    client = setup["client"]

    whole = client.get(url)
    assert whole.status_code == 200 and whole["Content-Type"] == "audio/mpeg"
    assert hashlib.sha256(b"".join(whole.streaming_content)).hexdigest() == rendition.sha256
    assert whole["ETag"] == f'"{rendition.sha256}"'

    part = client.get(url, HTTP_RANGE="bytes=100-1099")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-1099/{len(data)}"
    assert b"".join(part.streaming_content) == data[100:1100]

    resumed = client.get(url, HTTP_RANGE=f"bytes={len(data) - 500}-")
    assert resumed.status_code == 206 and b"".join(resumed.streaming_content) == data[-500:]


def test_a_station_cannot_fetch_audio_outside_its_own_playlists(setup):
    theirs = setup["theirs"].live_revision.rendition.sha256
    response = setup["client"].get(f"/api/v1/station/audio/{theirs}.mp3")
    assert response.status_code == 404
    assert setup["other"].code not in response.content.decode()
    assert setup["client"].get(f"/api/v1/station/audio/{'0' * 64}.mp3").status_code == 404


def test_bundle_contains_playlist_files_and_audio_whose_sha256s_match(setup):
    client = setup["client"]
    response = client.get(BUNDLE, {"date": tomorrow()})

    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = set(archive.namelist())
    document = json.loads(archive.read("playlist.json"))
    shas = {i["audio"]["sha256"] for i in document["items"]}
    assert names == {"playlist.json", "playlist.m3u8", *(f"audio/{sha}.mp3" for sha in shas)}
    for sha in shas:
        assert hashlib.sha256(archive.read(f"audio/{sha}.mp3")).hexdigest() == sha
    m3u8 = archive.read("playlist.m3u8").decode()
    assert m3u8.startswith("#EXTM3U") and f"audio/{next(iter(shas))}.mp3" in m3u8
    assert setup["theirs"].live_revision.rendition.sha256 not in shas

    again = client.get(BUNDLE, {"date": tomorrow()}, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_m3u8_lists_extinf_and_absolute_signed_urls(setup):
    response = setup["client"].get(PLAYLIST, {"date": tomorrow(), "format": "m3u8"})
    assert response.status_code == 200 and response["Content-Type"].startswith("audio/x-mpegurl")
    lines = response.content.decode().splitlines()
    assert lines[0] == "#EXTM3U"
    assert "#EXTINF:1.000,Lịch tiêm chủng, đợt 2" in lines
    urls = [line for line in lines if line.startswith("http")]
    assert len(urls) == 2 and all("&s=" in u for u in urls)
    # The signed URL opens the audio without a header; a tampered signature does not.
    path = urls[0].removeprefix("http://testserver")
    assert APIClient().get(path).status_code == 200
    assert APIClient().get(path[:-4] + "0000").status_code == 401


def test_signed_urls_die_with_a_revoked_token(setup):
    response = setup["client"].get(PLAYLIST, {"date": tomorrow(), "format": "m3u8"})
    path = next(line for line in response.content.decode().splitlines() if line.startswith("http"))
    issue_station_token(setup["station"])  # revokes the credential the URL was signed for
    assert APIClient().get(path.removeprefix("http://testserver")).status_code == 401


@pytest.mark.django_db(transaction=True)
def test_ffprobe_opens_the_m3u8_from_a_live_server(live_server, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    station = StationFactory()
    scheduled([station], seconds=2.0)
    rebuild_playlists([station.pk], [local_today() + dt.timedelta(days=1)])
    token = issue_station_token(station)
    url = f"{live_server.url}{PLAYLIST}?date={tomorrow()}&format=m3u8"

    result = subprocess.run(
        ["ffprobe", "-v", "error", "-headers", f"Authorization: Bearer {token}\r\n",
         "-show_entries", "format=format_name,duration", "-of", "json", url],
        capture_output=True, text=True, timeout=60,
    )

    assert result.returncode == 0, result.stderr
    fmt = json.loads(result.stdout)["format"]
    assert float(fmt["duration"]) > 1.5


# ---------------------------------------------------------------- bundle: resumable, built once per version


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_a_resumed_bundle_download_reassembles_to_the_identical_bytes(setup):
    client = setup["client"]
    whole = client.get(BUNDLE, {"date": tomorrow()})
    data, etag = _body(whole), whole["ETag"]
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes"

    first = client.get(BUNDLE, {"date": tomorrow()}, HTTP_RANGE="bytes=0-999")
    assert first.status_code == 206 and first["Content-Range"] == f"bytes 0-999/{len(data)}"
    rest = client.get(BUNDLE, {"date": tomorrow()}, HTTP_RANGE="bytes=1000-", HTTP_IF_RANGE=etag)
    assert rest.status_code == 206 and rest["Content-Range"] == f"bytes 1000-{len(data) - 1}/{len(data)}"

    resumed = _body(first) + _body(rest)
    assert resumed == data
    assert zipfile.ZipFile(io.BytesIO(resumed)).testzip() is None


def test_a_bundle_range_under_a_stale_if_range_gets_the_whole_new_bundle(setup):
    client = setup["client"]
    old = client.get(BUNDLE, {"date": tomorrow()})["ETag"]
    scheduled([setup["station"]], title="Mới")
    rebuild_playlists([setup["station"].pk], [setup["day"]])

    response = client.get(BUNDLE, {"date": tomorrow()}, HTTP_RANGE="bytes=1000-", HTTP_IF_RANGE=old)

    assert response.status_code == 200 and response["ETag"] != old
    assert len(zipfile.ZipFile(io.BytesIO(_body(response))).namelist()) == 2 + 2


def test_an_unsatisfiable_bundle_range_is_416_with_the_size(setup):
    client = setup["client"]
    size = len(_body(client.get(BUNDLE, {"date": tomorrow()})))
    response = client.get(BUNDLE, {"date": tomorrow()}, HTTP_RANGE=f"bytes={size}-")
    assert response.status_code == 416 and response["Content-Range"] == f"bytes */{size}"


def test_the_bundle_is_built_once_per_playlist_version(setup, monkeypatch):
    from broadcast.services import downloads

    built = []
    real = downloads.write_bundle
    monkeypatch.setattr(downloads, "write_bundle", lambda *a, **k: built.append(a) or real(*a, **k))
    client = setup["client"]

    one = _body(client.get(BUNDLE, {"date": tomorrow()}))
    two = _body(client.get(BUNDLE, {"date": tomorrow()}))
    assert one == two and len(built) == 1
    cached = list((Path(dj_settings.MEDIA_ROOT) / "cache" / "bundles").rglob("*.zip"))
    assert len(cached) == 1 and cached[0].read_bytes() == one
    assert not [p for p in cached[0].parent.iterdir() if p.name.startswith(".")]  # no temp file left

    scheduled([setup["station"]], title="Mới")
    rebuild_playlists([setup["station"].pk], [setup["day"]])
    three = _body(client.get(BUNDLE, {"date": tomorrow()}))
    assert three != one and len(built) == 2
    assert [p.read_bytes() for p in cached[0].parent.glob("*.zip")] == [three]  # the old version is gone


# ---------------------------------------------------------------- plain players


def _ffmpeg_decode(url: str, *headers: str) -> subprocess.CompletedProcess:
    extra = ["-headers", "".join(f"{h}\r\n" for h in headers)] if headers else []
    return subprocess.run(["ffmpeg", "-nostdin", "-v", "error", *extra, "-i", url, "-f", "null", "-"],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def live_playlist(live_server, settings):
    """A station with three 1.5 s items tomorrow, served by a live server."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    station = StationFactory()
    scheduled([station], title="Một", seconds=1.5, slots=("morning",))
    scheduled([station], title="Hai", seconds=1.5, slots=("morning",))
    scheduled([station], title="Ba", seconds=1.5, slots=("evening",))
    rebuild_playlists([station.pk], [local_today() + dt.timedelta(days=1)])
    return {"station": station, "token": issue_station_token(station), "base": live_server.url}


@pytest.mark.django_db(transaction=True)
def test_ffmpeg_decodes_the_m3u8_item_after_item_without_errors_at_boundaries(live_playlist):
    url = f"{live_playlist['base']}{PLAYLIST}?date={tomorrow()}&format=m3u8"
    result = _ffmpeg_decode(url, f"Authorization: Bearer {live_playlist['token']}")
    assert result.returncode == 0 and result.stderr == "", result.stderr


@pytest.mark.django_db(transaction=True)
def test_a_plain_player_opens_the_signed_m3u8_url_without_headers_and_decodes_it_cleanly(live_playlist):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {live_playlist['token']}")
    link = client.get("/api/v1/station/player-url/", {"date": tomorrow()})
    assert link.status_code == 200
    url = link.json()["m3u8_url"].replace("http://testserver", live_playlist["base"])

    result = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "info", "-i", url, "-f", "null", "-"], capture_output=True, text=True,
        timeout=120)
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower() or "missing" in line.lower()]
    assert result.returncode == 0 and not errors, result.stderr
    # All three items were decoded, one after another (3 × 1.5 s).
    decoded = [line for line in result.stderr.replace("\r", "\n").splitlines() if "time=" in line][-1]
    hours, minutes, seconds = decoded.split("time=")[1].split()[0].split(":")
    assert float(seconds) + 60 * int(minutes) >= 4.0


# ---------------------------------------------------------------- audio lookup and signed URLs


def test_the_playlist_item_sha256_lookup_is_indexed(db):
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, PlaylistItem._meta.db_table)
    indexed = [c["columns"] for c in constraints.values() if c["index"] or c["unique"]]
    assert ["playlist_id", "sha256"] in indexed, indexed
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, AudioRendition._meta.db_table)
    assert ["sha256"] in [c["columns"] for c in constraints.values() if c["index"]]


def test_an_upper_case_sha256_gets_the_same_404_as_an_unknown_file(setup):
    mine = setup["mine"].live_revision.rendition.sha256
    client = setup["client"]
    unknown = client.get(f"/api/v1/station/audio/{'0' * 64}.mp3")
    upper = client.get(f"/api/v1/station/audio/{mine.upper()}.mp3")
    assert unknown.status_code == upper.status_code == 404
    assert upper.json() == unknown.json() and upper["Content-Type"] == unknown["Content-Type"]


def _signed_audio_urls(setup) -> list[str]:
    body = setup["client"].get(PLAYLIST, {"date": tomorrow(), "format": "m3u8"}).content.decode()
    return [line.removeprefix("http://testserver") for line in body.splitlines() if line.startswith("http")]


def test_signed_audio_urls_carry_an_expiry_a_few_days_after_their_playlist_date(setup, settings):
    from urllib.parse import parse_qs, urlsplit

    url = _signed_audio_urls(setup)[0]
    query = parse_qs(urlsplit(url).query)
    assert set(query) == {"c", "d", "e", "s"}
    expires = dt.datetime.fromtimestamp(int(query["e"][0]), tz=dt.UTC)
    day_after = dt.datetime.combine(setup["day"] + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    assert day_after < expires <= day_after + dt.timedelta(days=settings.STATION_AUDIO_URL_DAYS + 1)
    assert APIClient().get(url).status_code == 200


def test_an_expired_signed_audio_url_is_refused(setup):
    from broadcast.api.station import signed_audio_query

    sha = setup["mine"].live_revision.rendition.sha256
    cred = setup["station"].credentials.get(revoked_at__isnull=True).pk
    past = int(dt.datetime.now(tz=dt.UTC).timestamp()) - 60
    future = past + 3600
    url = f"/api/v1/station/audio/{sha}.mp3?"
    assert APIClient().get(url + signed_audio_query(cred, setup["day"], sha, future)).status_code == 200
    expired = APIClient().get(url + signed_audio_query(cred, setup["day"], sha, past))
    assert expired.status_code == 401 and "hết hạn" in expired.json()["detail"]


def test_a_signed_url_opens_only_audio_of_that_stations_playlist(setup):
    from broadcast.api.station import signed_audio_query

    theirs = setup["theirs"].live_revision.rendition.sha256
    mine = setup["mine"].live_revision.rendition.sha256
    cred = setup["station"].credentials.get(revoked_at__isnull=True).pk
    future = int(dt.datetime.now(tz=dt.UTC).timestamp()) + 3600
    # A valid signature over a file that is not in the station's playlist of that date opens nothing.
    assert APIClient().get(f"/api/v1/station/audio/{theirs}.mp3?"
                           + signed_audio_query(cred, setup["day"], theirs, future)).status_code == 404
    today = local_today()
    assert APIClient().get(f"/api/v1/station/audio/{mine}.mp3?"
                           + signed_audio_query(cred, today - dt.timedelta(days=1), mine, future)).status_code == 404
    # The signature binds the file: moving it to another sha256 is refused.
    url = _signed_audio_urls(setup)[0]
    assert APIClient().get(url.replace(mine, theirs)).status_code == 401


@pytest.mark.parametrize("param, value", [
    ("c", "²"), ("c", "abc"), ("c", "１"), ("c", "-1"), ("c", "9" * 40),
    ("e", "x"), ("e", "²"), ("e", "9" * 40), ("d", "ngày"), ("d", "2026-99-99"),
    ("s", "é" * 32), ("s", "zz"), ("s", ""),
])
def test_a_malformed_signed_url_parameter_is_401_never_500(setup, param, value):
    from urllib.parse import parse_qs, urlencode, urlsplit

    url = _signed_audio_urls(setup)[0]
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query[param] = value
    response = APIClient().get(f"{parts.path}?{urlencode(query)}")
    assert response.status_code == 401, response.content[:200]
    assert response.json()["detail"]


# ---------------------------------------------------------------- the 304 polling path


def test_the_304_fast_path_counts_against_the_station_throttle(setup, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import SimpleRateThrottle

    from stations.auth import StationThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES",
                        {**SimpleRateThrottle.THROTTLE_RATES, "station": "3/min"})
    monkeypatch.setattr(StationThrottle, "timer", lambda self: 1_000_000_050.0)  # 30 s before its window ends
    cache.clear()
    client = setup["client"]
    etag = client.get(PLAYLIST, {"date": tomorrow()})["ETag"]  # 1
    statuses = [client.get(PLAYLIST, {"date": tomorrow()}, HTTP_IF_NONE_MATCH=etag).status_code
                for _ in range(3)]
    assert statuses == [304, 304, 429]
    throttled = client.get(PLAYLIST, {"date": tomorrow()}, HTTP_IF_NONE_MATCH=etag)
    assert throttled.status_code == 429 and throttled["Retry-After"] == "30"
    cache.clear()


def test_the_304_fast_path_hands_its_count_to_the_shared_cache_a_batch_at_a_time(setup, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import SimpleRateThrottle

    from stations.auth import StationThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES",
                        {**SimpleRateThrottle.THROTTLE_RATES, "station": "100/min"})
    monkeypatch.setattr(StationThrottle, "timer", lambda self: 2_000_000_010.0)
    cache.clear()
    client = setup["client"]
    etag = client.get(PLAYLIST, {"date": tomorrow()})["ETag"]  # counted in the shared cache: 1
    key = f"{StationThrottle().station_key(setup['station'].pk)}:{int(2_000_000_010 // 60)}"
    assert cache.get(key) == 1
    for _ in range(9):  # a tenth of the rate stays in the worker's memory
        assert client.get(PLAYLIST, {"date": tomorrow()}, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert cache.get(key) == 1
    assert client.get(PLAYLIST, {"date": tomorrow()}, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert cache.get(key) == 11  # the tenth poll hands over all ten
    cache.set(key, 95)  # other workers counted the rest of the station's requests
    statuses = [client.get(PLAYLIST, {"date": tomorrow()}, HTTP_IF_NONE_MATCH=etag).status_code
                for _ in range(10)]
    assert statuses[:9] == [304] * 9 and statuses[9] == 429
    cache.clear()


def test_the_304_fast_path_updates_last_seen_at_most_once_per_resolution(
        setup, settings, django_assert_max_num_queries):
    from stations.models import Station

    settings.STATION_LAST_SEEN_RESOLUTION_SECONDS = 60
    client, station = setup["client"], setup["station"]
    etag = client.get(PLAYLIST, {"date": tomorrow()})["ETag"]
    Station.objects.filter(pk=station.pk).update(last_seen_at=None)

    assert client.get(PLAYLIST, {"date": tomorrow()}, HTTP_IF_NONE_MATCH=etag).status_code == 304
    seen = Station.objects.get(pk=station.pk).last_seen_at
    assert seen is not None

    with django_assert_max_num_queries(1):  # recently seen: the one read, no write
        assert client.get(PLAYLIST, {"date": tomorrow()}, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert Station.objects.get(pk=station.pk).last_seen_at == seen

    old = seen - dt.timedelta(minutes=5)
    Station.objects.filter(pk=station.pk).update(last_seen_at=old)
    assert client.get(PLAYLIST, {"date": tomorrow()}, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert Station.objects.get(pk=station.pk).last_seen_at > old


# ---------------------------------------------------------------- heartbeat


def test_a_heartbeat_state_over_the_cap_is_refused_in_vietnamese_and_nothing_is_stored(setup):
    from stations.models import Station

    client = setup["client"]
    ok = client.post("/api/v1/station/heartbeat/", {"agent_version": "1.0", "state": {"disk": "ok"}}, format="json")
    assert ok.status_code == 200
    huge = {"log": "x" * 20_000}
    response = client.post("/api/v1/station/heartbeat/", {"agent_version": "1.1", "state": huge}, format="json")
    assert response.status_code in (400, 413)
    assert "state" in response.json() and "KB" in response.json()["state"][0]
    station = Station.objects.get(pk=setup["station"].pk)
    assert station.agent_version == "1.0" and station.agent_state["state"] == {"disk": "ok"}


@pytest.mark.parametrize("prepare", [True, False], ids=["prepared", "not-prepared"])
def test_on_postgresql_the_304_poll_query_is_prepared_once_per_connection_unless_turned_off(
        setup, settings, prepare, django_assert_num_queries):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements: PostgreSQL only")
    def prepared() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%token_hash%"])
            return cursor.fetchone()[0]

    settings.DB_PREPARE_POLL = prepare
    before = prepared()
    client = setup["client"]
    etag = client.get(PLAYLIST, {"date": tomorrow()})["ETag"]
    with django_assert_num_queries(1):  # a prepared query is still seen and counted by Django
        assert client.get(PLAYLIST, {"date": tomorrow()}, HTTP_IF_NONE_MATCH=etag).status_code == 304
    for _ in range(2):
        assert client.get(PLAYLIST, {"date": tomorrow()}, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert prepared() == (1 if prepare else before)
    assert client.get(PLAYLIST, {"date": tomorrow()}, HTTP_IF_NONE_MATCH='"other"').status_code == 200
