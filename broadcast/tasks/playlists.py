"""Celery tasks of the distribution area: each loads ids and calls a service; all safe to run twice."""

from __future__ import annotations

import datetime as dt
from typing import Any

from celery import shared_task
from django.db import IntegrityError, OperationalError

__all__ = [
    "nightly_playlists_task",
    "rebuild_for_bulletin_task",
    "rebuild_for_schedule_task",
    "rebuild_for_stations_task",
    "rebuild_playlists_task",
]

# Two rebuilds racing to create the same (station, date) playlist: the loser retries and finds it.
_RETRY = {"autoretry_for": (IntegrityError, OperationalError), "retry_backoff": 2, "max_retries": 5}


def _stats(stats: Any) -> dict[str, Any]:
    # The changes list can hold every station of the city: counted, not returned.
    return {name: getattr(stats, name) for name in stats.__slots__ if name != "changes"}


@shared_task(name="broadcast.rebuild_playlists", **_RETRY)
def rebuild_playlists_task(station_ids: list[int] | None = None, dates: list[str] | None = None) -> dict:
    from ..services.playlists import rebuild_playlists

    parsed = [dt.date.fromisoformat(d) for d in dates] if dates is not None else None
    return _stats(rebuild_playlists(station_ids, parsed))


@shared_task(name="broadcast.rebuild_for_schedule", **_RETRY)
def rebuild_for_schedule_task(schedule_id: int) -> dict:
    from ..services.schedules import rebuild_for_schedule

    return _stats(rebuild_for_schedule(schedule_id))


@shared_task(name="broadcast.rebuild_for_bulletin", **_RETRY)
def rebuild_for_bulletin_task(bulletin_id: int) -> dict:
    from ..services.schedules import rebuild_for_bulletin

    return _stats(rebuild_for_bulletin(bulletin_id))


@shared_task(name="broadcast.rebuild_for_stations", **_RETRY)
def rebuild_for_stations_task(station_ids: list[int]) -> dict:
    from ..services.schedules import rebuild_for_stations

    return _stats(rebuild_for_stations(station_ids))


@shared_task(name="broadcast.nightly_playlists", **_RETRY)
def nightly_playlists_task() -> dict:
    """Beat: materialize today and the coming days for every active station."""
    from ..services.playlists import rebuild_playlists

    return _stats(rebuild_playlists())
