"""Reactions to other areas' events: rebuild only the playlists they affect (via Celery)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from stations.signals import stations_changed

from .services.playlists import enqueue
from .signals import live_revision_changed


@receiver(live_revision_changed, dispatch_uid="playlists.live_revision_changed")
def on_live_revision_changed(sender: Any, bulletin_id: int, **kwargs: Any) -> None:
    enqueue.rebuild_for_bulletin_on_commit(bulletin_id)


@receiver(stations_changed, dispatch_uid="playlists.stations_changed")
def on_stations_changed(sender: Any, station_ids: list[int], **kwargs: Any) -> None:
    """A registry change that affects targeting (import, admin, API): rebuild those stations' playlists."""
    enqueue.rebuild_for_stations_on_commit(station_ids)


@receiver(stations_changed, dispatch_uid="reports.stations_changed")
def on_stations_changed_record_activity(sender: Any, station_ids: list[int], **kwargs: Any) -> None:
    # Synchronous and cheap (three queries): coverage must know from when a station stopped counting.
    from .services.reports import record_activity_changes

    record_activity_changes(int(pk) for pk in station_ids)
