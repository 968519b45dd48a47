"""Reactions to other areas' events: rebuild only the playlists they affect, tell people of workflow steps
(both via Celery, after commit)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from stations.signals import stations_changed

from .models import BulletinTransition
from .services import notifications
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


@receiver(post_save, sender=BulletinTransition, dispatch_uid="notifications.transition_recorded")
def on_transition_recorded(sender: Any, instance: BulletinTransition, created: bool, raw: bool = False,
                           **kwargs: Any) -> None:
    """A workflow step (submitted, approved, sent back, withdrawn): tell whom it concerns, after commit."""
    if created and not raw and notifications.concerns(instance):
        notifications.notify_on_commit(instance.pk)
