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

from broadcast.models import Playlist, PlaylistItem
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
    assert "#EXTINF:1,Lịch tiêm chủng, đợt 2" in lines
    urls = [line for line in lines if line.startswith("http")]
    assert len(urls) == 2 and all("sig=" in u for u in urls)
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
