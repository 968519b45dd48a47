"""Reactions to other areas' events: rebuild only the playlists they affect (via Celery)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from stations.signals import stations_changed

from .signals import live_revision_changed


@receiver(live_revision_changed, dispatch_uid="playlists.live_revision_changed")
def on_live_revision_changed(sender: Any, bulletin_id: int, **kwargs: Any) -> None:
    from .tasks.playlists import rebuild_for_bulletin_task

    rebuild_for_bulletin_task.delay(bulletin_id)


@receiver(stations_changed, dispatch_uid="playlists.stations_changed")
def on_stations_changed(sender: Any, station_ids: list[int], **kwargs: Any) -> None:
    from .tasks.playlists import rebuild_for_stations_task

    if station_ids:
        rebuild_for_stations_task.delay([int(pk) for pk in station_ids])
