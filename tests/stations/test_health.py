"""Station health: heartbeats refresh a stored deadline; the sweep moves overdue stations and records it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from stations import health
from stations.models import Station, StationStatusChange
from stations.tasks import sweep_station_health
from tests.factories import StationFactory

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2025, 3, 1, 0, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _windows(settings):
    settings.STATION_HEARTBEAT_PERIOD_SECONDS = 300
    settings.STATION_HEARTBEAT_GRACE_SECONDS = 600
    settings.STATION_SILENT_AFTER_SECONDS = 3600


def _changes(station):
    return list(StationStatusChange.objects.filter(station=station).order_by("at", "id")
                .values_list("from_status", "to_status", "at"))


def _status(station):
    station.refresh_from_db()
    return station.status


def test_status_transitions_over_time_with_a_frozen_clock(station):
    assert _status(station) == "never"
    health.sweep_statuses(now=T0)
    assert _status(station) == "never"  # never heard from: not late, not silent

    health.record_heartbeat(station, agent_version="1.2", state={"volume": 7}, now=T0)
    station.refresh_from_db()
    assert station.status == "online" and station.last_seen_at == T0
    assert station.heartbeat_deadline == T0 + dt.timedelta(seconds=900)
    assert station.agent_version == "1.2" and station.agent_state == {"volume": 7}

    health.sweep_statuses(now=T0 + dt.timedelta(seconds=899))
    assert _status(station) == "online"
    health.sweep_statuses(now=T0 + dt.timedelta(seconds=901))
    assert _status(station) == "late"
    health.sweep_statuses(now=T0 + dt.timedelta(seconds=900 + 3599))
    assert _status(station) == "late"
    health.sweep_statuses(now=T0 + dt.timedelta(seconds=900 + 3601))
    assert _status(station) == "silent"
    back = T0 + dt.timedelta(hours=5)
    health.record_heartbeat(station, agent_version="1.2", now=back)
    assert _status(station) == "online"
    assert [(f, t) for f, t, _ in _changes(station)] == [
        ("never", "online"), ("online", "late"), ("late", "silent"), ("silent", "online"),
    ]
    assert _changes(station)[-1][2] == back


def test_repeated_heartbeats_and_sweeps_record_each_change_once(station):
    for minute in range(0, 15, 5):
        health.record_heartbeat(station, now=T0 + dt.timedelta(minutes=minute))
    later = T0 + dt.timedelta(minutes=40)
    assert health.sweep_statuses(now=later).late == 1
    assert health.sweep_statuses(now=later).changed == 0
    assert [(f, t) for f, t, _ in _changes(station)] == [("never", "online"), ("online", "late")]


def test_a_station_not_swept_for_long_goes_straight_to_silent(station):
    health.record_heartbeat(station, now=T0)
    result = health.sweep_statuses(now=T0 + dt.timedelta(days=1))
    assert (result.late, result.silent) == (0, 1)
    assert [(f, t) for f, t, _ in _changes(station)] == [("never", "online"), ("online", "silent")]


def test_a_heartbeat_keeps_the_station_out_of_the_sweep(station):
    health.record_heartbeat(station, now=T0)
    health.record_heartbeat(station, now=T0 + dt.timedelta(minutes=14))
    health.sweep_statuses(now=T0 + dt.timedelta(minutes=20))
    assert _status(station) == "online"


def test_sweep_moves_many_stations_and_matches_status_at():
    stations = [StationFactory() for _ in range(6)]
    for n, s in enumerate(stations):
        health.record_heartbeat(s, now=T0 - dt.timedelta(minutes=20 * n))
    now = T0 + dt.timedelta(minutes=5)
    health.sweep_statuses(now=now)
    for s in stations:
        s.refresh_from_db()
        assert s.status == health.status_at(s.heartbeat_deadline, now)
    assert [s.status for s in stations] == ["online", "late", "late", "late", "silent", "silent"]


def test_sweep_task_runs_the_sweep(station):
    health.record_heartbeat(station, now=timezone.now() - dt.timedelta(days=2))
    assert sweep_station_health.apply().get() == {"late": 0, "silent": 1}
    assert _status(station) == Station.Status.SILENT


def test_heartbeat_api_updates_state_and_answers_playlist_versions(station, station_client_for):
    from broadcast.models import Playlist

    today = timezone.localdate()
    for offset, version in [(-1, 4), (0, 2), (1, 1)]:
        Playlist.objects.create(station=station, date=today + dt.timedelta(days=offset), version=version,
                                generated_at=timezone.now())
    client = station_client_for(station)
    resp = client.post("/api/v1/station/heartbeat/",
                       {"agent_version": "loa-agent 2.0", "playlist_version": 2, "state": "playing",
                        "disk_free_mb": 512, "volume": 80}, format="json")
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["playlist_versions"] == {today.isoformat(): 2, (today + dt.timedelta(days=1)).isoformat(): 1}
    assert dt.datetime.fromisoformat(body["server_time"]).tzinfo is not None
    station.refresh_from_db()
    assert station.status == "online" and station.agent_version == "loa-agent 2.0"
    assert station.agent_state == {"playlist_version": 2, "state": "playing", "disk_free_mb": 512.0, "volume": 80.0}


def test_heartbeat_api_requires_agent_version_and_a_station(station, station_client_for, api_client):
    resp = station_client_for(station).post("/api/v1/station/heartbeat/", {"volume": -3}, format="json")
    assert resp.status_code == 400
    assert set(resp.json()) == {"agent_version", "volume"}
    assert api_client.post("/api/v1/station/heartbeat/", {"agent_version": "x"}, format="json").status_code == 401
