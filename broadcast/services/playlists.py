"""Building the daily playlists: slot packing, stable item keys, versioning by content hash.

One pass loads everything it needs in a fixed number of queries (schedules once; stations, existing
playlists and items once per chunk of stations), packs each (station, day) in Python and writes the
difference with bulk statements. Each chunk is one transaction, so a crash leaves the previous
version of every playlist in that chunk intact.

Rules (issue 5):
- priority order: emergency, high, normal; within a priority older schedules first;
- `immediate` schedules put one play at the top of today's playlist, starting at the schedule's
  creation time, outside the slots;
- a slot is never overfilled: what does not fit moves to the station's next slot that day, or is
  kept as an unplaced item with a reason (visible in the staff API, never sent to the station);
- plays in a slot that has already started are frozen: a rebuild (a cancellation, a new revision)
  changes only slots still to come, never what has (or could have) aired.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ..models import Playlist, PlaylistItem, Schedule
from ..selectors.playlists import (
    LOCAL_TZ,
    StationRow,
    active_station_rows,
    build_dates,
    local_today,
    schedule_is_airable,
    schedule_targets_station,
    schedules_for_dates,
)

__all__ = ["IMMEDIATE_SLOT", "RebuildStats", "rebuild_playlists", "parse_slot_bounds", "playlist_etag_for"]

IMMEDIATE_SLOT = "now"
PRIORITY_RANK = {"emergency": 0, "high": 1, "normal": 2}
_POSITION_OFFSET = 1_000_000
_ITEM_FIELDS = (
    "position", "slot", "requested_slot", "starts_at", "ends_at", "schedule_id", "bulletin_id", "revision_id",
    "rendition_id", "sha256", "duration_ms", "priority", "unplaced_reason",
)


@dataclass(slots=True)
class RebuildStats:
    playlists_created: int = 0
    playlists_changed: int = 0
    playlists_unchanged: int = 0
    items_created: int = 0
    items_updated: int = 0
    items_deleted: int = 0
    dates: list[str] = field(default_factory=list)

    def merge(self, other: RebuildStats) -> None:
        for name in ("playlists_created", "playlists_changed", "playlists_unchanged", "items_created",
                     "items_updated", "items_deleted"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True, slots=True)
class Slot:
    name: str
    start: dt.datetime
    end: dt.datetime

    @property
    def capacity_ms(self) -> int:
        return int((self.end - self.start).total_seconds() * 1000)


@dataclass(slots=True)
class _Sched:
    """A live schedule flattened for the packing loop."""

    id: int
    rank: int
    created_at: dt.datetime
    created_date: dt.date
    immediate: bool
    slots: list[str]
    plays_per_slot: int
    days_of_week: frozenset[int]
    start_date: dt.date
    end_date: dt.date
    targets: dict[str, Any]
    bulletin_id: int
    revision_id: int
    rendition_id: int
    sha256: str
    duration_ms: int
    priority: str

    def runs_on(self, date: dt.date) -> bool:
        return self.start_date <= date <= self.end_date and (
            not self.days_of_week or date.weekday() in self.days_of_week
        )


def _parse_hhmm(value: str) -> dt.time:
    hours, minutes = value.split(":")
    return dt.time(int(hours), int(minutes))


def parse_slot_bounds(slots: Sequence[dict[str, str]], date: dt.date) -> list[Slot]:
    """A station's slots on a local date as aware datetimes, in time order (bad entries skipped)."""
    out = []
    for slot in slots or ():
        try:
            start = dt.datetime.combine(date, _parse_hhmm(slot["start"]), tzinfo=LOCAL_TZ)
            end = dt.datetime.combine(date, _parse_hhmm(slot["end"]), tzinfo=LOCAL_TZ)
        except (KeyError, ValueError, TypeError, AttributeError):
            continue
        if end > start:
            out.append(Slot(str(slot["name"]), start, end))
    return sorted(out, key=lambda s: s.start)


def playlist_etag_for(station_code: str, date: dt.date, version: int, content_hash: str) -> str:
    """Strong ETag, quoted as sent in the header."""
    return f'"{station_code}-{date:%Y%m%d}-v{version}-{content_hash[:12]}"'


def _flatten(schedules: Iterable[Schedule]) -> list[_Sched]:
    out = []
    for s in schedules:
        bulletin = s.bulletin
        if not schedule_is_airable(bulletin):
            continue
        revision = bulletin.live_revision
        rendition = revision.rendition
        out.append(_Sched(
            id=s.pk, rank=PRIORITY_RANK.get(bulletin.priority, 2), created_at=s.created_at,
            created_date=timezone.localdate(s.created_at, LOCAL_TZ), immediate=s.immediate,
            slots=list(s.slots or []), plays_per_slot=s.plays_per_slot,
            days_of_week=frozenset(s.days_of_week or []), start_date=s.start_date, end_date=s.end_date,
            targets=s.targets or {}, bulletin_id=bulletin.pk, revision_id=revision.pk,
            rendition_id=rendition.pk, sha256=revision.approved_sha256 or rendition.sha256,
            duration_ms=int(rendition.duration_ms or 0), priority=bulletin.priority,
        ))
    out.sort(key=lambda s: (s.rank, s.created_at, s.id))
    return out


def _item_values(sched: _Sched, **kw: Any) -> dict[str, Any]:
    return {
        "schedule_id": sched.id, "bulletin_id": sched.bulletin_id, "revision_id": sched.revision_id,
        "rendition_id": sched.rendition_id, "sha256": sched.sha256, "duration_ms": sched.duration_ms,
        "priority": sched.priority, "position": None, "starts_at": None, "ends_at": None,
        "unplaced_reason": "", **kw,
    }


def _slot_start_of(item: PlaylistItem, slots_by_name: dict[str, Slot]) -> dt.datetime | None:
    if item.slot == IMMEDIATE_SLOT:
        return item.starts_at
    name = item.slot if item.position is not None else (item.requested_slot or item.slot)
    slot = slots_by_name.get(name)
    if slot is not None:
        return slot.start
    return item.starts_at


def plan_day(
    station: StationRow, date: dt.date, schedules: Sequence[_Sched], existing: dict[str, PlaylistItem],
    now: dt.datetime, gap_ms: int,
) -> dict[str, dict[str, Any]]:
    """The full item list (key → field values) a station should have on a date.

    Existing items in slots that have already started are kept exactly as they are (frozen).
    """
    slots = parse_slot_bounds(station.slots, date)
    slots_by_name = {s.name: s for s in slots}
    slot_index = {s.name: i for i, s in enumerate(slots)}
    final: dict[str, dict[str, Any]] = {}
    frozen: set[str] = set()
    for key, item in existing.items():
        start = _slot_start_of(item, slots_by_name)
        if start is not None and start <= now:
            frozen.add(key)
            final[key] = {name: getattr(item, name) for name in _ITEM_FIELDS}

    used = [0] * len(slots)
    placed: list[list[tuple[str, int]]] = [[] for _ in slots]  # per slot: (key, duration)
    for sched in schedules:
        if not sched.runs_on(date) and not (sched.immediate and sched.created_date == date):
            continue
        if not schedule_targets_station(sched.targets, station):
            continue
        if sched.immediate and sched.created_date == date:
            key = f"s{sched.id}:{IMMEDIATE_SLOT}:0"
            if key not in frozen:
                final[key] = _item_values(
                    sched, slot=IMMEDIATE_SLOT, requested_slot=IMMEDIATE_SLOT, starts_at=sched.created_at,
                    ends_at=sched.created_at + dt.timedelta(milliseconds=sched.duration_ms),
                )
        if not sched.runs_on(date):
            continue
        for slot_name in sched.slots:
            for n in range(sched.plays_per_slot):
                key = f"s{sched.id}:{slot_name}:{n}"
                if key in frozen:
                    continue
                i = slot_index.get(slot_name)
                if i is None:
                    final[key] = _item_values(
                        sched, slot=slot_name, requested_slot=slot_name,
                        unplaced_reason=f"Đài không có khung giờ «{slot_name}».",
                    )
                    continue
                if slots[i].start <= now and key not in existing:
                    continue  # asked for a slot that has already started: nothing to add
                for j in range(i, len(slots)):
                    if slots[j].start <= now:
                        continue
                    need = sched.duration_ms + (gap_ms if placed[j] else 0)
                    if used[j] + need <= slots[j].capacity_ms:
                        used[j] += need
                        placed[j].append((key, sched.duration_ms))
                        final[key] = _item_values(sched, slot=slots[j].name, requested_slot=slot_name)
                        break
                else:
                    final[key] = _item_values(
                        sched, slot=slot_name, requested_slot=slot_name,
                        unplaced_reason=f"Không đủ thời lượng trong khung giờ «{slot_name}» "
                                        "và các khung giờ sau trong ngày.",
                    )

    # Times within each slot, back to back with a gap.
    for j, entries in enumerate(placed):
        t = slots[j].start
        for key, duration in entries:
            final[key]["starts_at"] = t
            final[key]["ends_at"] = t + dt.timedelta(milliseconds=duration)
            t = final[key]["ends_at"] + dt.timedelta(milliseconds=gap_ms)

    # Positions: immediate plays on top, then everything by start time (frozen plays keep their order).
    order_placed = [k for k, v in final.items() if v["starts_at"] is not None]
    order_placed.sort(key=lambda k: (
        0 if final[k]["slot"] == IMMEDIATE_SLOT else 1,
        final[k]["starts_at"],
        final[k]["position"] if k in frozen and final[k]["position"] is not None else _POSITION_OFFSET,
        k,
    ))
    for position, key in enumerate(order_placed):
        final[key]["position"] = position
    return final


def _canonical(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return value


def content_hash(items: dict[str, dict[str, Any]]) -> str:
    payload = [[key, *(_canonical(v[name]) for name in _ITEM_FIELDS)] for key, v in sorted(items.items())]
    return hashlib.sha256(json.dumps(payload, separators=(",", ":"), default=str).encode()).hexdigest()


def _differs(item: PlaylistItem, values: dict[str, Any]) -> bool:
    return any(getattr(item, name) != values[name] for name in _ITEM_FIELDS)


def _chunks(seq: Sequence[StationRow], size: int) -> Iterable[Sequence[StationRow]]:
    for i in range(0, len(seq), size):
        yield seq[i:i + size]


def rebuild_playlists(
    station_ids: Iterable[int] | None = None,
    dates: Iterable[dt.date] | None = None,
    *,
    now: dt.datetime | None = None,
) -> RebuildStats:
    """Rebuild the playlists of these stations (default: all active) on these dates (default: today and
    the coming PLAYLIST_DAYS_AHEAD days). Past dates are never rebuilt. Safe to run twice: a rebuild
    that changes nothing keeps every version and ETag.
    """
    now = now or timezone.now()
    today = timezone.localdate(now, LOCAL_TZ)
    date_list = sorted({d for d in (dates if dates is not None else build_dates(today)) if d >= today})
    stats = RebuildStats(dates=[d.isoformat() for d in date_list])
    if not date_list:
        return stats
    stations = active_station_rows(station_ids)
    if not stations:
        return stats
    schedules = _flatten(schedules_for_dates(date_list))
    gap_ms = int(settings.PLAYLIST_SLOT_GAP_SECONDS * 1000)
    for chunk in _chunks(stations, settings.PLAYLIST_BUILD_CHUNK):
        stats.merge(_rebuild_chunk(chunk, date_list, schedules, now, gap_ms))
    return stats


@transaction.atomic
def _rebuild_chunk(
    stations: Sequence[StationRow], dates: list[dt.date], schedules: list[_Sched], now: dt.datetime, gap_ms: int,
) -> RebuildStats:
    stats = RebuildStats()
    ids = [s.id for s in stations]
    playlists = {
        (p.station_id, p.date): p
        for p in Playlist.objects.select_for_update().filter(station_id__in=ids, date__in=dates)
    }
    existing_items: dict[int, dict[str, PlaylistItem]] = defaultdict(dict)
    if playlists:
        for item in PlaylistItem.objects.filter(playlist__station_id__in=ids, playlist__date__in=dates):
            existing_items[item.playlist_id][item.key] = item

    new_playlists: list[Playlist] = []
    changed_playlists: list[Playlist] = []
    plans: list[tuple[Playlist, dict[str, dict[str, Any]]]] = []
    for station in stations:
        for date in dates:
            playlist = playlists.get((station.id, date))
            existing = existing_items.get(playlist.pk, {}) if playlist else {}
            final = plan_day(station, date, schedules, existing, now, gap_ms)
            digest = content_hash(final)
            if playlist is None:
                playlist = Playlist(station_id=station.id, date=date, version=1, content_hash=digest,
                                    etag=playlist_etag_for(station.code, date, 1, digest), generated_at=now)
                new_playlists.append(playlist)
            elif playlist.content_hash != digest:
                playlist.version += 1
                playlist.content_hash = digest
                playlist.etag = playlist_etag_for(station.code, date, playlist.version, digest)
                playlist.generated_at = now
                changed_playlists.append(playlist)
            else:
                stats.playlists_unchanged += 1
                continue
            plans.append((playlist, final))

    if new_playlists:
        Playlist.objects.bulk_create(new_playlists, batch_size=1000)
    to_delete: list[int] = []
    to_offset: list[int] = []
    to_update: list[PlaylistItem] = []
    to_create: list[PlaylistItem] = []
    for playlist, final in plans:
        existing = existing_items.get(playlist.pk, {})
        for key, item in existing.items():
            if key not in final:
                to_delete.append(item.pk)
        for key, values in final.items():
            item = existing.get(key)
            if item is None:
                to_create.append(PlaylistItem(playlist_id=playlist.pk, key=key, **values))
            elif _differs(item, values):
                if item.position is not None and item.position != values["position"]:
                    to_offset.append(item.pk)
                for name, value in values.items():
                    setattr(item, name, value)
                to_update.append(item)

    if to_delete:
        for i in range(0, len(to_delete), 1000):
            PlaylistItem.objects.filter(pk__in=to_delete[i:i + 1000]).delete()
    # Positions are unique per playlist: move the ones that change out of the way first.
    for i in range(0, len(to_offset), 1000):
        PlaylistItem.objects.filter(pk__in=to_offset[i:i + 1000]).update(position=F("position") + _POSITION_OFFSET)
    if to_update:
        PlaylistItem.objects.bulk_update(to_update, list(_UPDATE_FIELDS), batch_size=500)
    if to_create:
        PlaylistItem.objects.bulk_create(to_create, batch_size=1000)
    if changed_playlists:
        Playlist.objects.bulk_update(changed_playlists, ["version", "content_hash", "etag", "generated_at"],
                                     batch_size=1000)
    stats.playlists_created = len(new_playlists)
    stats.playlists_changed = len(changed_playlists)
    stats.items_created, stats.items_updated, stats.items_deleted = len(to_create), len(to_update), len(to_delete)
    return stats


_UPDATE_FIELDS = tuple(name.removesuffix("_id") if name.endswith("_id") else name for name in _ITEM_FIELDS)


def default_dates() -> list[dt.date]:
    return build_dates(local_today())
