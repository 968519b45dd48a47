"""A rebuild that changes a station's playlist of today or tomorrow rings it ("playlist" command with the
new version); later days and unchanged playlists ring nobody; without a broker nothing fails."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from broadcast.selectors.playlists import LOCAL_TZ
from broadcast.services.playlists.ringing import ring_playlist_changes
from broadcast.services.schedules import create_schedule, rebuild_for_stations
from tests.broadcast.factories_reports import plain_bulletin
from tests.factories import StationFactory

from .push_helpers import listener_for

pytestmark = pytest.mark.django_db(transaction=True)


def _day(offset: int) -> dt.date:
    return timezone.localdate(timezone.now(), LOCAL_TZ) + dt.timedelta(days=offset)


def test_a_schedule_for_tomorrow_rings_each_station_with_its_new_playlist_version(
        mqtt_broker, supervisor, django_capture_on_commit_callbacks):
    stations = StationFactory.create_batch(2)
    with listener_for(mqtt_broker, topics=("loa/st/+/cmd",)) as listener:
        with django_capture_on_commit_callbacks(execute=True):
            create_schedule(plain_bulletin("Lịch tiêm chủng", duration_ms=20_000), by=supervisor,
                            start_date=_day(1), end_date=_day(1), slots=["morning"], targets={"all": True})
        heard = listener.wait_for(2)
    commands = [h.json for h in heard]
    assert {c["station"] for c in commands} == {s.code for s in stations}
    assert all(c["kind"] == "playlist" and c["date"] == _day(1).isoformat() for c in commands)
    assert all(c["id"] == f"pl-{c['date']}-{c['version']}" and c["version"] >= 1 for c in commands)


def test_later_days_and_unchanged_playlists_ring_nobody(mqtt_broker, supervisor):
    station = StationFactory()
    with listener_for(mqtt_broker, topics=("loa/st/+/cmd",)) as listener:
        rebuild_for_stations([station.pk])  # empty first playlists: nothing to ring
        assert ring_playlist_changes([(station.pk, station.code, _day(3), 2)]) == 0
        assert ring_playlist_changes([(station.pk, station.code, _day(0), 2)]) == 1
        rebuild_for_stations([station.pk])  # built already: nothing changes
        heard = listener.wait_for(5, timeout=1.0)
    assert [h.json["date"] for h in heard] == [_day(0).isoformat()]


def test_without_a_broker_configured_a_change_rings_nobody_and_fails_nothing(settings, supervisor):
    settings.MQTT_URL = ""
    station = StationFactory()
    assert ring_playlist_changes([(station.pk, station.code, _day(0), 1)]) == 0
