"""Syncer against the real server (live_server, a station with a real token, a playlist with real audio):
ETag polling, heartbeats that refetch changed days at once, and prefetching verified audio."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from stations.agent.downloads import AudioCache
from stations.agent.http import StationAPI, Unauthorized
from stations.agent.store import Store
from stations.agent.sync import Syncer


class WallClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def monotonic(self) -> float:
        return time.monotonic()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def station_setup(live_server, tmp_path):
    from broadcast.selectors.playlists import local_today
    from stations.services import issue_station_token
    from tests.broadcast.factories_reports import make_playlist
    from tests.factories import StationFactory, approved_bulletin

    station = StationFactory()
    bulletin = approved_bulletin(title="Phòng chống sốt xuất huyết", seconds=1.0)
    today = local_today()
    items = make_playlist(station, today, [bulletin], version=1)
    api = StationAPI(live_server.url, issue_station_token(station), timeout=10)
    store = Store.open(tmp_path / "data")
    config = SimpleNamespace(change_freeze_s=0, data_dir=tmp_path / "data")
    cache = AudioCache(tmp_path / "data" / "audio", api)
    return SimpleNamespace(station=station, bulletin=bulletin, today=today, items=items, api=api, store=store,
                           syncer=Syncer(api, store, WallClock(), config, cache), cache=cache)


def test_poll_stores_today_and_then_gets_304_for_an_unchanged_day(station_setup):
    s = station_setup
    today = s.today.isoformat()

    assert today in s.syncer.poll()
    assert s.store.versions()[today] == 1
    assert [i["id"] for i in s.store.playlist(today)["items"]] == [i.pk for i in s.items]
    assert s.store.etag(today)

    assert s.syncer.poll() == []


def test_a_heartbeat_reports_the_agents_state_and_refetches_a_changed_day_at_once(station_setup):
    from broadcast.models import Playlist
    from tests.broadcast.factories_reports import make_playlist
    from tests.factories import approved_bulletin

    s = station_setup
    today = s.today.isoformat()
    s.syncer.poll()
    s.store.set_last_error("Mất kết nối lúc 05:00")
    make_playlist(s.station, s.today, [approved_bulletin(title="Khẩn: bão số 5", seconds=1.0)], slots=("evening",))
    Playlist.objects.filter(station=s.station, date=s.today).update(version=2, etag='"v2-new"')

    reply = s.syncer.heartbeat({"playing": None})

    assert abs(reply["clock_offset_s"]) < 5
    assert reply["playlist_versions"][today] == 2 and reply["refetched"] == [today]
    assert s.store.versions()[today] == 2 and len(s.store.playlist(today)["items"]) == len(s.items) + 1
    s.station.refresh_from_db()
    assert s.station.agent_version.startswith("loa-agent/")
    assert s.station.agent_state["state"]["last_error"] == "Mất kết nối lúc 05:00"
    assert s.station.agent_state["state"]["queue_length"] == 0 and s.station.agent_state["disk_free_mb"] > 0
    assert s.syncer.heartbeat()["refetched"] == []


def test_prefetch_downloads_each_audio_file_once_with_the_right_hash(station_setup):
    s = station_setup
    s.syncer.poll()

    assert s.syncer.prefetch() == []

    sha = s.bulletin.live_revision.rendition.sha256
    path = Path(s.cache.path_for(sha))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha
    assert s.store.needed_shas() == {sha}


def test_a_revoked_token_stops_sync_with_unauthorized(station_setup):
    from stations.services import issue_station_token

    issue_station_token(station_setup.station)  # revokes the agent's token

    with pytest.raises(Unauthorized):
        station_setup.syncer.poll()
