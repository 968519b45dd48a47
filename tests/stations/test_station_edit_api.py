"""Supervisors edit a station's slots and active flag through the API, under the registry's one slot rule."""

from __future__ import annotations

import datetime as dt

import pytest

from broadcast.models import PlaylistItem
from broadcast.selectors.playlists import LOCAL_TZ, local_today
from broadcast.services.playlists import rebuild_playlists
from broadcast.services.schedules import create_schedule
from stations.models import Station
from tests.factories import StationFactory, UserFactory, approved_bulletin

pytestmark = pytest.mark.django_db


def url(station: Station) -> str:
    return f"/api/v1/stations/{station.code}/"


@pytest.mark.parametrize("slots", [
    [{"name": "sang", "start": "6h", "end": "06:30"}],
    [{"name": "now", "start": "06:00", "end": "06:30"}],
    "sang=06:00-06:30",
    [],
], ids=["bad-time", "emergency-name", "not-a-list", "empty"])
def test_a_malformed_slot_is_a_400_on_slots_and_nothing_changes(client_for, supervisor, slots):
    station = StationFactory()
    before = station.slots

    response = client_for(supervisor).patch(url(station), {"slots": slots}, format="json")

    assert response.status_code == 400, response.json()
    assert "slots" in response.json()
    station.refresh_from_db()
    assert station.slots == before


def test_a_slot_edit_is_kept_by_reimport_and_rebuilds_the_station(client_for, supervisor,
                                                                   django_capture_on_commit_callbacks):
    station = StationFactory()
    tomorrow = local_today() + dt.timedelta(days=1)
    create_schedule(approved_bulletin(), by=UserFactory(roles=["supervisor"]), start_date=tomorrow,
                    end_date=tomorrow, slots=["evening"], targets={"all": True})
    rebuild_playlists([station.pk], [tomorrow])
    later = [{"name": "evening", "start": "18:00", "end": "18:30"}]

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(supervisor).patch(url(station), {"slots": later, "active": True}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["slots"] == later
    station.refresh_from_db()
    assert station.edited_fields == ["slots"]  # active did not change
    (item,) = PlaylistItem.objects.filter(playlist__station=station, position__isnull=False)
    assert item.starts_at == dt.datetime.combine(tomorrow, dt.time(18), tzinfo=LOCAL_TZ)


def test_only_supervisors_edit_stations(client_for, editor, district_operator):
    station = StationFactory()
    for user in (editor, district_operator):
        response = client_for(user).patch(url(station), {"active": False}, format="json")
        assert response.status_code in (403, 404)
    station.refresh_from_db()
    assert station.active is True


def test_an_edit_leaves_the_heartbeat_recorded_meanwhile_alone():
    from stations import health, services

    station = StationFactory()
    editing = Station.objects.get(pk=station.pk)  # read before the heartbeat, as a request would
    health.record_heartbeat(Station.objects.get(pk=station.pk), agent_version="loa-player/2.1")
    seen = Station.objects.get(pk=station.pk)

    services.edit_station(editing, {"slots": [{"name": "sang", "start": "06:00", "end": "06:30"}]})

    station.refresh_from_db()
    assert station.slots == [{"name": "sang", "start": "06:00", "end": "06:30"}]
    assert (station.status, station.last_seen_at, station.heartbeat_deadline, station.agent_version) == (
        seen.status, seen.last_seen_at, seen.heartbeat_deadline, "loa-player/2.1")
