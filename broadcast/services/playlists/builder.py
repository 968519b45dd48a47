"""Building the daily playlists: reading the inputs, writing the difference, never a stale plan.

One build reads everything it needs in a constant number of queries (stations, schedules, playlists,
items — the items streamed in station order, so only one station's are in memory at a time), packs
each (station, day) with the pure `planner` and writes the difference in one transaction of set-based
statements (`bulk`: all rows in one JSON parameter). The number of SQL statements is the same for 5
stations or 12,000; a crash leaves the previous version of every playlist intact; unchanged items keep
their ids, unchanged playlists their version and ETag.

A build never writes a plan computed from inputs (schedules, stations) older than what another build
has already written: on PostgreSQL builds of a date are serialized by a transaction-level advisory lock
taken before the inputs are read; on SQLite the write transaction (which holds the database's write
lock) re-reads the inputs and plans again if they changed. The reads are in `inputs`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ...models import Playlist, PlaylistItem, Schedule
from ...selectors.playlists import LOCAL_TZ, StationRow, build_dates, parse_slot_bounds, target_station_ids
from .. import bulk
from .inputs import (
    Inputs,
    plan_station_day,
    plan_whole_reads,
    playlist_scope,
    read_inputs,
    read_snapshot,
    with_existing_items,
)
from .planner import (
    ITEM_FIELDS,
    POSITION_OFFSET,
    ExistingItem,
    Placement,
    content_hash,
    playlist_etag_for,
)

__all__ = ["RebuildStats", "placement_of", "rebuild_playlists"]


@dataclass(slots=True)
class RebuildStats:
    playlists_created: int = 0
    playlists_changed: int = 0
    playlists_unchanged: int = 0
    items_created: int = 0
    items_updated: int = 0
    items_deleted: int = 0
    dates: list[str] = field(default_factory=list)
    # (station id, station code, date, new version) of every playlist written: whom to ring (push).
    changes: list[tuple[int, str, dt.date, int]] = field(default_factory=list)


def _differs(item: ExistingItem, values: dict[str, Any]) -> bool:
    return any(getattr(item, name) != values[name] for name in ITEM_FIELDS)


# The units the station stands in are recorded on each playlist it gets (see Playlist.district/unit).
_PLAYLIST_PLACE_FIELDS = ("district", "unit")
_PLAYLIST_UPDATE_FIELDS = ("version", "content_hash", "etag", "generated_at", *_PLAYLIST_PLACE_FIELDS)
_PLAYLIST_INSERT_FIELDS = ("station_id", "date", *_PLAYLIST_UPDATE_FIELDS)
_ITEM_INSERT_FIELDS = ("playlist_id", "key", *ITEM_FIELDS)
# Optimistic builds (plan without locks, then write under a version check) before one fully locked build.
_OPTIMISTIC_ATTEMPTS = 2


@dataclass(slots=True)
class _Plan:
    """Everything one build writes, as compact rows ready for the set-based statements of `bulk`."""

    stats: RebuildStats
    expected: dict[tuple[int, dt.date], tuple[int, int]] = field(default_factory=dict)  # written: (id, version)
    new_playlists: list[tuple] = field(default_factory=list)        # _PLAYLIST_INSERT_FIELDS
    changed_playlists: list[tuple] = field(default_factory=list)    # (id, *_PLAYLIST_UPDATE_FIELDS)
    moved_playlists: list[tuple] = field(default_factory=list)      # (id, *_PLAYLIST_PLACE_FIELDS)
    delete_ids: list[int] = field(default_factory=list)
    offset_ids: list[int] = field(default_factory=list)
    update_rows: list[tuple] = field(default_factory=list)          # (id, *ITEM_FIELDS)
    insert_rows: list[tuple] = field(default_factory=list)          # (playlist id, key, *ITEM_FIELDS)
    pending_rows: list[tuple] = field(default_factory=list)         # ((station id, date), key, *ITEM_FIELDS)


def rebuild_playlists(
    station_ids: Iterable[int] | None = None,
    dates: Iterable[dt.date] | None = None,
    *,
    now: dt.datetime | None = None,
) -> RebuildStats:
    """Rebuild the playlists of these stations (default: all active ones, and inactive ones that still
    hold a playlist) on these dates (default: today and the coming PLAYLIST_DAYS_AHEAD days). Past dates
    are never rebuilt; an inactive station gets no new plays (those already airing stay). Safe to run
    twice: a rebuild that changes nothing keeps every version and ETag.

    The number of SQL statements does not depend on the number of stations or items: 4 reads
    (stations, schedules, playlists, items — the last one streamed) and, if anything changed, one
    transaction of at most 7 statements (lock check, insert playlists, delete / shift / update / insert
    items, update playlists), each carrying all its rows in one JSON parameter (see `bulk`). On
    PostgreSQL the whole build is one transaction that first takes the dates' advisory locks (+1
    statement, and its SET LOCAL); on SQLite the write transaction re-reads the two inputs (+2).

    All writes of a build are ONE transaction: a crash leaves every previous version intact. On SQLite
    the plan is computed before that transaction, without locks (its transactions here are IMMEDIATE: a
    lock held while planning 12,000 stations would stall report uploads for seconds); the transaction
    re-reads the inputs and the versions of the playlists it writes, FOR UPDATE, and if either changed
    in between, plans again from inputs read again; after `_OPTIMISTIC_ATTEMPTS` such conflicts it plans
    inside the transaction.
    On PostgreSQL the advisory locks only hold off other builds of the same dates (report uploads and
    station downloads never wait for them), so planning under them costs nothing but serialization.
    """
    now = now or timezone.now()
    today = timezone.localdate(now, LOCAL_TZ)
    date_list = sorted({d for d in (dates if dates is not None else build_dates(today)) if d >= today})
    empty = RebuildStats(dates=[d.isoformat() for d in date_list])
    if not date_list:
        return empty
    ids = None if station_ids is None else sorted({int(pk) for pk in station_ids})
    if ids == []:
        return empty
    gap_ms = int(settings.PLAYLIST_SLOT_GAP_SECONDS * 1000)
    with _builds_serialized(date_list) as serialized:
        inputs = read_inputs(ids, date_list)
        if not inputs.stations:
            return empty
        for _ in range(_OPTIMISTIC_ATTEMPTS):
            with read_snapshot():
                plan = _plan(inputs, date_list, now, gap_ms, lock=False)
            if not (plan.new_playlists or plan.changed_playlists or plan.moved_playlists):
                break  # nothing to write: no transaction at all
            with transaction.atomic(savepoint=not serialized):  # the serialized build needs no savepoint
                if not serialized:
                    fresh = read_inputs(ids, date_list)
                    if fresh != inputs:  # a change committed while planning: plan again from it
                        inputs = fresh
                        continue
                if _write(plan, inputs.stations, date_list):
                    break
            # Another build wrote these playlists meanwhile: its inputs may be newer than ours.
            inputs = read_inputs(ids, date_list)
        else:
            with transaction.atomic(savepoint=not serialized):
                inputs = read_inputs(ids, date_list)
                plan = _plan(inputs, date_list, now, gap_ms, lock=True)
                _write(plan, inputs.stations, date_list)
    plan.stats.dates = empty.dates
    return plan.stats


# Advisory lock key space of the playlist builds (two-int form: this constant, the date's ordinal).
_BUILD_LOCK_SPACE = 0x4C6F61  # "Loa"


@contextmanager
def _builds_serialized(dates: list[dt.date]) -> Iterator[bool]:
    """PostgreSQL: one transaction holding the advisory lock of each date (taken in date order, so two
    builds never deadlock), released at its end; yields True. The build reads its inputs after the
    locks, so it sees every change committed before the previous build of these dates finished.
    SQLite: yields False (see `rebuild_playlists`)."""
    if connection.vendor != "postgresql":
        yield False
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Volatile functions in the select list run after the sort: the locks are taken in order.
            cursor.execute("SELECT pg_advisory_xact_lock(%s, d) FROM unnest(%s::int[]) AS d ORDER BY d",
                           [_BUILD_LOCK_SPACE, [d.toordinal() for d in dates]])
            plan_whole_reads(cursor)
        yield True


def placement_of(schedule: Schedule, *, now: dt.datetime | None = None, fill: bool = False) -> Placement:
    """What a build does with a saved schedule's plays, read only and with the builder's own planner:
    on the active stations it targets, over the days of its range that are kept built now (a range that
    starts later: its first days, planned as they stand today). With `fill`, also how full each
    (date, slot) of those stations becomes (`Placement.fill`)."""
    now = now or timezone.now()
    dates = _placement_dates(schedule, timezone.localdate(now, LOCAL_TZ))
    placement = Placement(dates=dates)
    if not dates:
        return placement
    inputs = read_inputs(target_station_ids(schedule.targets or {}), dates)
    gap_ms = int(settings.PLAYLIST_SLOT_GAP_SECONDS * 1000)
    with read_snapshot():
        for station, station_items in with_existing_items(inputs.stations, dates):
            for date in dates:
                day = plan_station_day(inputs, station, date, station_items.get(date, {}), now, gap_ms)
                placement.add(day, schedule.pk)
                if fill:
                    placement.add_fill(parse_slot_bounds(station.slots, date), day, date, gap_ms, schedule.pk)
    return placement


def _placement_dates(schedule: Schedule, today: dt.date) -> list[dt.date]:
    window = build_dates(today)
    dates = [d for d in window if schedule.airs_on(d)]
    day = max(schedule.start_date, window[-1] + dt.timedelta(days=1))
    while not dates and day <= schedule.end_date:
        dates = [d for d in (day + dt.timedelta(days=n) for n in range(7)) if schedule.airs_on(d)][:len(window)]
        day += dt.timedelta(days=7)
    return dates


def _plan(inputs: Inputs, dates: list[dt.date], now: dt.datetime, gap_ms: int, *, lock: bool) -> _Plan:
    plan = _Plan(stats=RebuildStats())
    stations = inputs.stations
    stats = plan.stats
    scope = playlist_scope(stations, dates)
    if lock:
        scope = scope.select_for_update()
    playlists = {
        (station_id, date): (pk, version, digest, place)
        for pk, station_id, date, version, digest, *place in scope.values_list(
            "pk", "station_id", "date", "version", "content_hash", "district_id", "unit_id")
    }
    for station, station_items in with_existing_items(stations, dates, any_playlist=bool(playlists)):
        place = (station.district_id, station.unit_id)
        for date in dates:
            existing = station_items.get(date, {})
            final = plan_station_day(inputs, station, date, existing, now, gap_ms)
            digest = content_hash(final)
            current = playlists.get((station.id, date))
            if current is None:
                plan.new_playlists.append((station.id, date, 1, digest,
                                           playlist_etag_for(station.code, date, 1, digest), now, *place))
                if final:  # an empty first version tells a station nothing it does not know
                    stats.changes.append((station.id, station.code, date, 1))
                plan.pending_rows.extend(
                    ((station.id, date), key, *(values[name] for name in ITEM_FIELDS))
                    for key, values in final.items())
                stats.items_created += len(final)
                continue
            pk, version, old_digest, old_place = current
            if old_digest == digest:
                stats.playlists_unchanged += 1
                if tuple(old_place) != place:  # the station moved: same plays, recorded under its new units
                    plan.moved_playlists.append((pk, *place))
                continue
            plan.expected[(station.id, date)] = (pk, version)
            plan.changed_playlists.append(
                (pk, version + 1, digest, playlist_etag_for(station.code, date, version + 1, digest), now, *place))
            stats.changes.append((station.id, station.code, date, version + 1))
            _diff_items(plan, pk, existing, final)
    stats.playlists_created = len(plan.new_playlists)
    stats.playlists_changed = len(plan.changed_playlists)
    return plan


def _diff_items(plan: _Plan, playlist_id: int, existing: dict[str, ExistingItem],
                final: dict[str, dict[str, Any]]) -> None:
    stats = plan.stats
    for key, item in existing.items():
        if key not in final:
            plan.delete_ids.append(item.id)
            stats.items_deleted += 1
    for key, values in final.items():
        item = existing.get(key)
        row = tuple(values[name] for name in ITEM_FIELDS)
        if item is None:
            plan.insert_rows.append((playlist_id, key, *row))
            stats.items_created += 1
        elif _differs(item, values):
            if item.position is not None and item.position != values["position"]:
                plan.offset_ids.append(item.id)
            plan.update_rows.append((item.id, *row))
            stats.items_updated += 1


def _write(plan: _Plan, stations: Sequence[StationRow], dates: list[dt.date]) -> bool:
    """Apply the plan inside the caller's transaction; False (nothing written) if a concurrent build
    changed a playlist this plan writes since it was read."""
    current = {
        (station_id, date): (pk, version)
        for pk, station_id, date, version in playlist_scope(stations, dates).select_for_update()
        .values_list("pk", "station_id", "date", "version")
    }
    if any(current.get(key) != expected for key, expected in plan.expected.items()) or any(
            (station_id, date) in current for station_id, date, *_ in plan.new_playlists):
        return False

    insert_rows: Iterable[tuple] = plan.insert_rows
    if plan.new_playlists:
        created = bulk.insert(Playlist, _PLAYLIST_INSERT_FIELDS, plan.new_playlists,
                              returning=("id", "station_id", "date"))
        if created is None:  # the database cannot RETURN from INSERT … SELECT: one set-based re-read
            created = list(playlist_scope(stations, dates).values_list("id", "station_id", "date"))
        ids = {(station_id, date): pk for pk, station_id, date in created}
        insert_rows = chain(plan.insert_rows, ((ids[where], *rest) for where, *rest in plan.pending_rows))
    if plan.delete_ids:
        bulk.delete(PlaylistItem, plan.delete_ids)
    # Positions are unique per playlist: move the ones that change out of the way first.
    if plan.offset_ids:
        bulk.shift(PlaylistItem, "position", POSITION_OFFSET, plan.offset_ids)
    if plan.update_rows:
        bulk.update(PlaylistItem, ITEM_FIELDS, plan.update_rows)
    if plan.insert_rows or plan.pending_rows:
        bulk.insert(PlaylistItem, _ITEM_INSERT_FIELDS, insert_rows)
    if plan.changed_playlists:
        bulk.update(Playlist, _PLAYLIST_UPDATE_FIELDS, plan.changed_playlists)
    if plan.moved_playlists:
        bulk.update(Playlist, _PLAYLIST_PLACE_FIELDS, plan.moved_playlists)
    return True
