"""A schedule created through the service is materialized into playlists by a real Celery worker."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from broadcast.models import Playlist, PlaylistItem
from broadcast.selectors.playlists import local_today
from broadcast.services.schedules import cancel_schedule, create_schedule
from tests.factories import StationFactory, UserFactory, approved_bulletin

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met before timeout")


def test_schedule_and_cancel_rebuild_playlists_through_the_worker(celery_worker):
    station, other = StationFactory(), StationFactory()
    user = UserFactory(roles=["supervisor"])
    tomorrow = local_today() + dt.timedelta(days=1)
    schedule = create_schedule(approved_bulletin(), by=user, start_date=tomorrow, end_date=tomorrow,
                               slots=["morning", "evening"], targets={"stations": [station.code]})

    items = wait_for(lambda: list(PlaylistItem.objects.filter(schedule=schedule).order_by("position")))
    assert [i.slot for i in items] == ["morning", "evening"]
    assert {i.playlist.station_id for i in items} == {station.pk}
    assert not Playlist.objects.filter(station=other).exists()  # only the targeted station was rebuilt
    version = Playlist.objects.get(station=station, date=tomorrow).version

    cancel_schedule(schedule, user)

    wait_for(lambda: not PlaylistItem.objects.filter(schedule=schedule).exists())
    assert Playlist.objects.get(station=station, date=tomorrow).version == version + 1
