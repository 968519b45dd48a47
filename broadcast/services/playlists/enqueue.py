"""Queueing the playlist rebuilds a change needs, once the change is committed (services never import
tasks at module level; outside a transaction `on_commit` runs at once)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction


def rebuild_for_schedule_on_commit(schedule_id: int, *, immediate: bool = False) -> None:
    """An immediate (emergency) schedule also rings its stations once rebuilt (push delivery)."""
    from ...tasks.playlists import rebuild_for_schedule_task
    from ...tasks.push import push_emergency_task

    task = push_emergency_task if immediate else rebuild_for_schedule_task
    transaction.on_commit(lambda: task.delay(schedule_id))


def rebuild_for_bulletin_on_commit(bulletin_id: int) -> None:
    from ...tasks.playlists import rebuild_for_bulletin_task

    transaction.on_commit(lambda: rebuild_for_bulletin_task.delay(bulletin_id))


def rebuild_for_stations_on_commit(station_ids: Iterable[int]) -> None:
    from ...tasks.playlists import rebuild_for_stations_task

    ids = sorted({int(pk) for pk in station_ids})
    if ids:
        transaction.on_commit(lambda: rebuild_for_stations_task.delay(ids))
