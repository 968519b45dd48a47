"""The targeted rebuilds a schedule change triggers (run by the tasks, after the commit)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from ...models import PlaylistItem, Schedule
from ...selectors.playlists import build_dates, target_station_ids
from ..playlists import RebuildStats, rebuild_playlists
from ..playlists.ringing import ring_playlist_changes


def _rung(stats: RebuildStats) -> RebuildStats:
    ring_playlist_changes(stats.changes)
    return stats


def _schedule_dates(schedule: Schedule, window: Iterable[dt.date]) -> list[dt.date]:
    return [d for d in window if schedule.airs_on(d)]


def holders(dates: Iterable[dt.date], **item_filter: Any) -> set[int]:
    """Stations whose playlists on these dates hold such items, whatever their district or state now."""
    return set(PlaylistItem.objects.filter(playlist__date__in=list(dates), **item_filter)
               .values_list("playlist__station_id", flat=True).distinct())


def rebuild_for_schedule(schedule_id: int) -> RebuildStats:
    """Rebuilds only the stations and dates a schedule touches (after creation or cancellation): the
    stations it targets now and those holding its plays."""
    schedule = Schedule.objects.filter(pk=schedule_id).first()
    if schedule is None:
        return RebuildStats()
    dates = _schedule_dates(schedule, build_dates())
    if not dates:
        return RebuildStats()
    station_ids = set(target_station_ids(schedule.targets or {})) | holders(dates, schedule_id=schedule_id)
    stats = rebuild_playlists(station_ids, dates)
    # An emergency's stations are rung by push_emergency, with the command that carries its audio.
    return stats if schedule.immediate else _rung(stats)


def rebuild_for_bulletin(bulletin_id: int) -> RebuildStats:
    """A bulletin's live revision changed: rebuild the stations and dates its schedules touch, and the
    stations holding its plays."""
    window = build_dates()
    station_ids: set[int] = set()
    dates: set[dt.date] = set()
    for schedule in Schedule.objects.filter(bulletin_id=bulletin_id, end_date__gte=window[0]):
        schedule_dates = _schedule_dates(schedule, window)
        if schedule_dates:
            dates.update(schedule_dates)
            station_ids.update(target_station_ids(schedule.targets or {}))
    if dates:
        station_ids |= holders(dates, bulletin_id=bulletin_id)
    if not station_ids:
        return RebuildStats()
    return _rung(rebuild_playlists(station_ids, dates))


def rebuild_for_stations(station_ids: Iterable[int]) -> RebuildStats:
    """Stations' targeting changed (code, kind, district, slots, active), or a schedule reaching them was
    edited: rebuild their coming playlists (a deactivated station keeps only the plays already airing)."""
    ids = list(station_ids)
    return _rung(rebuild_playlists(ids, build_dates())) if ids else RebuildStats()
