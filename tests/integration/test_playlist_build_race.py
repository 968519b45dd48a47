"""Two playlist builds at the same moment on PostgreSQL, with different inputs: the newer change survives.

Build A reads its inputs (a schedule still live), then stalls; meanwhile the schedule is cancelled and
the cancellation's own build B runs on another connection. Whatever order the two then write in, the
playlist must end without the cancelled schedule's plays (today's nightly build would be the only fix).
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from broadcast.models import PlaylistItem
from broadcast.selectors.playlists import local_today
from broadcast.services import playlists as playlist_services
from broadcast.services import schedules as schedule_services
from broadcast.services.playlists import rebuild_playlists
from broadcast.services.schedules import writes as schedule_writes
from tests.factories import StationFactory, UserFactory, approved_bulletin

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _plays_of(schedule_id: int, station_id: int, date: dt.date) -> int:
    return PlaylistItem.objects.filter(schedule_id=schedule_id, playlist__station_id=station_id,
                                       playlist__date=date, position__isnull=False).count()


@pytest.mark.parametrize("stall_in", ["_plan", "_write"], ids=["stalled-planning", "stalled-writing"])
@pytest.mark.parametrize("built_before", [True, False], ids=["cancel-removes-plays", "cancel-changes-nothing-yet"])
def test_a_build_with_stale_inputs_never_overwrites_a_newer_cancellation(monkeypatch, built_before, stall_in):
    """built_before=False: the doomed schedule's plays were never written, so the cancellation's build,
    if it ran first, would find nothing to change and the stale build would then write them.
    stall_in: build A stalls after reading its inputs, or inside its write transaction."""
    # The builds are run by hand here, not through a worker.
    monkeypatch.setattr(schedule_writes, "rebuild_for_schedule_on_commit", lambda schedule_id, **_: None)
    station = StationFactory()
    user = UserFactory(username="giamsat-race", roles=["supervisor"])
    day = local_today() + dt.timedelta(days=1)
    keep = schedule_services.create_schedule(approved_bulletin(title="Giữ"), by=user, start_date=day,
                                             end_date=day, slots=["morning"], targets={"all": True})
    if not built_before:
        rebuild_playlists([station.pk], [day])  # before the doomed schedule exists: its plays are new to both
    doomed = schedule_services.create_schedule(approved_bulletin(title="Hủy"), by=user, start_date=day,
                                               end_date=day, slots=["evening"], targets={"all": True})
    added = None
    if built_before:
        rebuild_playlists([station.pk], [day])
        # Not built yet: gives build A something to write besides the doomed plays it already has.
        added = schedule_services.create_schedule(approved_bulletin(title="Thêm"), by=user, start_date=day,
                                                  end_date=day, slots=["morning"], targets={"all": True})
    assert _plays_of(doomed.pk, station.pk, day) == (1 if built_before else 0)

    a_has_read, release_a = threading.Event(), threading.Event()
    real = getattr(playlist_services.builder, stall_in)
    errors: list[BaseException] = []

    def stalling(*args, **kwargs):
        if threading.current_thread().name == "build-a" and not a_has_read.is_set():
            a_has_read.set()  # A has read its inputs (the doomed schedule is still live for it)
            release_a.wait(timeout=30)
        return real(*args, **kwargs)

    monkeypatch.setattr(playlist_services.builder, stall_in, stalling)

    def run(target) -> None:  # noqa: ANN001
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    build_a = threading.Thread(target=run, args=(lambda: rebuild_playlists([station.pk], [day]),),
                               name="build-a")
    build_a.start()
    assert a_has_read.wait(timeout=30)

    schedule_services.cancel_schedule(doomed, user)  # committed: the newer change
    build_b = threading.Thread(target=run, args=(lambda: schedule_services.rebuild_for_schedule(doomed.pk),),
                               name="build-b")
    build_b.start()
    build_b.join(timeout=2)  # B may finish first, or wait for A: both orders must end right
    release_a.set()
    build_a.join(timeout=30)
    build_b.join(timeout=30)

    assert not build_a.is_alive() and not build_b.is_alive()
    assert errors == []
    assert _plays_of(doomed.pk, station.pk, day) == 0  # the cancellation survived
    assert _plays_of(keep.pk, station.pk, day) == 1
    if added is not None:
        assert _plays_of(added.pk, station.pk, day) == 1
