"""What a playlist build reads: its inputs (stations, live schedules) and the playlists and items already
written, in a constant number of queries (the items streamed in station order, one station's in memory at
a time), and the plan of one (station, day) from them."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from stations.models import Station

from ...models import Playlist, PlaylistItem, Schedule
from ...selectors.playlists import LOCAL_TZ, StationRow, schedule_is_airable, schedules_for_dates
from .. import bulk
from .planner import ITEM_FIELDS, PRIORITY_RANK, ExistingItem, PlanSchedule, packing_order, plan_day

# Rows per round trip of the streamed reads (a fetch size, not a statement: the read is one query).
_FETCH_ROWS = 2000


@dataclass(frozen=True, slots=True)
class Inputs:
    """What a plan is computed from; two reads are compared to detect a change made meanwhile."""

    stations: list[StationRow]
    inactive: frozenset[int]  # stations that get no new plays (their frozen ones stay)
    schedules: list[PlanSchedule]


def _flatten(schedules: Iterable[Schedule]) -> list[PlanSchedule]:
    out = []
    for s in schedules:
        bulletin = s.bulletin
        if not schedule_is_airable(bulletin):
            continue
        revision = bulletin.live_revision
        rendition = revision.rendition
        out.append(PlanSchedule(
            id=s.pk, rank=PRIORITY_RANK.get(bulletin.priority, 2), created_at=s.created_at,
            created_date=timezone.localdate(s.created_at, LOCAL_TZ), immediate=s.immediate,
            slots=list(s.slots or []), plays_per_slot=s.plays_per_slot,
            days_of_week=frozenset(s.days_of_week or []), start_date=s.start_date, end_date=s.end_date,
            targets=s.targets or {}, bulletin_id=bulletin.pk, revision_id=revision.pk,
            rendition_id=rendition.pk, sha256=revision.approved_sha256 or rendition.sha256,
            duration_ms=int(rendition.duration_ms or 0), priority=bulletin.priority,
        ))
    return packing_order(out)


def read_inputs(station_ids: list[int] | None, dates: list[dt.date]) -> Inputs:
    """Stations asked for (inactive ones included: their coming plays must go), or every active station
    and every station holding a playlist on these dates; and the live schedules of the dates."""
    if station_ids is None:
        qs = Station.objects.filter(Q(active=True) | Q(pk__in=Playlist.objects.filter(date__in=dates)
                                                       .values("station_id")))
    else:
        qs = Station.objects.filter(pk__in=bulk.id_list(station_ids))
    stations, inactive = [], set()
    for pk, code, district_id, district_code, kind, slots, active, unit_id, unit_code in qs.order_by(
            "pk").values_list("pk", "code", "district_id", "district__code", "kind", "slots", "active",
                              "unit_id", "unit__code"):
        stations.append(StationRow(pk, code, district_id, district_code, kind, slots, unit_id, unit_code or ""))
        if not active:
            inactive.add(pk)
    schedules = _flatten(schedules_for_dates(dates)) if stations else []
    return Inputs(stations, frozenset(inactive), schedules)


def plan_station_day(inputs: Inputs, station: StationRow, date: dt.date, existing: dict[str, ExistingItem],
                      now: dt.datetime, gap_ms: int) -> dict[str, dict[str, Any]]:
    schedules = () if station.id in inputs.inactive else inputs.schedules
    return plan_day(station, date, schedules, existing, now, gap_ms)


def read_snapshot() -> Any:
    """PostgreSQL: read inside a transaction, so the streamed item read is a plain server-side cursor
    (outside a transaction Django declares it WITH HOLD, which materializes all rows first); a
    serialized build already is one. SQLite: no transaction (here they are IMMEDIATE, i.e. take the
    write lock)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return nullcontext()
    return _pg_snapshot()


@contextmanager
def _pg_snapshot() -> Iterator[None]:
    with transaction.atomic():
        with connection.cursor() as cursor:
            plan_whole_reads(cursor)
        yield


def plan_whole_reads(cursor: Any) -> None:
    # The item stream is read whole: plan it for all rows, not for the first 10 % (the cursor default
    # picks a fast-start plan, far slower for a read of every row).
    cursor.execute("SET LOCAL cursor_tuple_fraction = 1.0")


def playlist_scope(stations: Sequence[StationRow], dates: list[dt.date]) -> Any:
    return Playlist.objects.filter(
        station_id__in=bulk.id_list(s.id for s in stations), date__in=dates).order_by()


def _existing_items(
    stations: Sequence[StationRow], dates: list[dt.date],
) -> Iterator[tuple[int, dict[dt.date, dict[str, ExistingItem]]]]:
    """(station id, {date: {key: item}}) in station id order, read in one streamed query."""
    rows = (
        PlaylistItem.objects.filter(playlist__station_id__in=bulk.id_list(s.id for s in stations),
                                    playlist__date__in=dates)
        .order_by("playlist__station_id")
        .values_list("playlist__station_id", "playlist__date", "id", "key", *ITEM_FIELDS)
        .iterator(chunk_size=_FETCH_ROWS)
    )
    for station_id, group in groupby(rows, key=itemgetter(0)):
        by_date: dict[dt.date, dict[str, ExistingItem]] = defaultdict(dict)
        for row in group:
            item = ExistingItem._make(row)
            by_date[item.date][item.key] = item
        yield station_id, by_date


def with_existing_items(
    stations: Sequence[StationRow], dates: list[dt.date], *, any_playlist: bool = True,
) -> Iterator[tuple[StationRow, dict[dt.date, dict[str, ExistingItem]]]]:
    """Each station with its existing items by date. A merge join: stations and the item stream are both
    in station id order, so only one station's existing items are in memory at a time."""
    stream = _existing_items(stations, dates) if any_playlist else iter(())
    upcoming = next(stream, None)
    for station in stations:
        while upcoming is not None and upcoming[0] < station.id:
            upcoming = next(stream, None)
        station_items: dict[dt.date, dict[str, ExistingItem]] = {}
        if upcoming is not None and upcoming[0] == station.id:
            station_items = upcoming[1]
            upcoming = next(stream, None)
        yield station, station_items
