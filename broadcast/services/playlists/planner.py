"""Packing one station's day: plain data in, the full item list out. No database access here.

The builder writes what `plan_day` returns; the schedule-create answer counts the same result with
`summarize`, so what a supervisor is told is what the stations get.

Rules:
- priority order: emergency, high, normal; within a priority older schedules first;
- `immediate` schedules put one play at the top of today's playlist, starting at the schedule's
  creation time, outside the slots;
- a slot is never overfilled: what does not fit moves to the station's next slot that day, or is
  kept as an unplaced item with a reason (visible in the staff API, never sent to the station);
- a request for a slot that has already started is kept unplaced with that reason (never dropped);
- plays in a slot that has already started are frozen: a rebuild (a cancellation, a new revision)
  changes only slots still to come, never what has (or could have) aired.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter, namedtuple
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from stations.models import EMERGENCY_SLOT

from ...selectors.playlists import Slot, StationRow, parse_slot_bounds, schedule_targets_station

IMMEDIATE_SLOT = EMERGENCY_SLOT
PRIORITY_RANK = {"emergency": 0, "high": 1, "normal": 2}
POSITION_OFFSET = 1_000_000
ITEM_FIELDS = (
    "position", "slot", "requested_slot", "starts_at", "ends_at", "schedule_id", "bulletin_id", "revision_id",
    "rendition_id", "sha256", "duration_ms", "priority", "unplaced_reason",
)
# An existing item as read for the diff: a plain tuple, not a model instance (a national rebuild reads
# hundreds of thousands of them; they are streamed one station at a time).
ExistingItem = namedtuple("ExistingItem", ("station_id", "date", "id", "key", *ITEM_FIELDS))

# Why a play could not be placed (codes in the API, Vietnamese text in the item and the answer).
SLOT_STARTED = "slot_started"
SLOT_FULL = "slot_full"
SLOT_MISSING = "slot_missing"
REASON_MESSAGES = {
    SLOT_STARTED: "Khung giờ đã bắt đầu (hoặc đã qua) khi lên lịch: không thêm lượt phát vào đó.",
    SLOT_FULL: "Không đủ thời lượng trong khung giờ và các khung giờ sau trong ngày.",
    SLOT_MISSING: "Đài không có khung giờ này.",
}


def _item_reason(code: str, slot: str) -> str:
    return {
        SLOT_STARTED: f"Khung giờ «{slot}» đã bắt đầu khi lên lịch: lượt phát này không được thêm vào.",
        SLOT_FULL: f"Không đủ thời lượng trong khung giờ «{slot}» và các khung giờ sau trong ngày.",
        SLOT_MISSING: f"Đài không có khung giờ «{slot}».",
    }[code]


@dataclass(slots=True)
class PlanSchedule:
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

    def airs_immediately_on(self, date: dt.date) -> bool:
        return self.immediate and self.created_date == date


def playlist_etag_for(station_code: str, date: dt.date, version: int, content_hash: str) -> str:
    """Strong ETag, quoted as sent in the header."""
    return f'"{station_code}-{date:%Y%m%d}-v{version}-{content_hash[:12]}"'


def _item_values(sched: PlanSchedule, **kw: Any) -> dict[str, Any]:
    return {
        "schedule_id": sched.id, "bulletin_id": sched.bulletin_id, "revision_id": sched.revision_id,
        "rendition_id": sched.rendition_id, "sha256": sched.sha256, "duration_ms": sched.duration_ms,
        "priority": sched.priority, "position": None, "starts_at": None, "ends_at": None,
        "unplaced_reason": "", "reason": "", **kw,
    }


def _unplaced(sched: PlanSchedule, slot_name: str, code: str) -> dict[str, Any]:
    return _item_values(sched, slot=slot_name, requested_slot=slot_name, reason=code,
                        unplaced_reason=_item_reason(code, slot_name))


def _slot_start_of(item: ExistingItem, slots_by_name: dict[str, Slot]) -> dt.datetime | None:
    if item.slot == IMMEDIATE_SLOT:
        return item.starts_at
    name = item.slot if item.position is not None else (item.requested_slot or item.slot)
    slot = slots_by_name.get(name)
    if slot is not None:
        return slot.start
    return item.starts_at


def plan_day(
    station: StationRow, date: dt.date, schedules: Sequence[PlanSchedule], existing: dict[str, ExistingItem],
    now: dt.datetime, gap_ms: int,
) -> dict[str, dict[str, Any]]:
    """The full item list (key → field values, plus `reason`: a code when unplaced) a station should have
    on a date. `schedules` in packing order (see `packing_order`).

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
            final[key] = {**{name: getattr(item, name) for name in ITEM_FIELDS}, "reason": ""}

    used = [0] * len(slots)
    placed: list[list[tuple[str, int]]] = [[] for _ in slots]  # per slot: (key, duration)
    for sched in schedules:
        if not (sched.runs_on(date) or sched.airs_immediately_on(date)):
            continue
        if not schedule_targets_station(sched.targets, station):
            continue
        if sched.airs_immediately_on(date):
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
                    final[key] = _unplaced(sched, slot_name, SLOT_MISSING)
                    continue
                if slots[i].start <= now and key not in existing:
                    final[key] = _unplaced(sched, slot_name, SLOT_STARTED)
                    continue
                # (A play already carried to a later slot stays packed into the slots still to come.)
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
                    final[key] = _unplaced(sched, slot_name, SLOT_FULL)

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
        final[k]["position"] if k in frozen and final[k]["position"] is not None else POSITION_OFFSET,
        k,
    ))
    for position, key in enumerate(order_placed):
        final[key]["position"] = position
    return final


def packing_order(schedules: Iterable[PlanSchedule]) -> list[PlanSchedule]:
    return sorted(schedules, key=lambda s: (s.rank, s.created_at, s.id))


def _canonical(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return value


def content_hash(items: dict[str, dict[str, Any]]) -> str:
    payload = [[key, *(_canonical(v[name]) for name in ITEM_FIELDS)] for key, v in sorted(items.items())]
    return hashlib.sha256(json.dumps(payload, separators=(",", ":"), default=str).encode()).hexdigest()


# ---------------------------------------------------------------- what happened to one schedule's plays


@dataclass(slots=True)
class Placement:
    """One schedule's plays over some (station, day) plans: `placed` includes `carried` (placed in a
    later slot than asked); `planned` = `placed` + `unplaced`; `reasons` counts the unplaced by code."""

    dates: list[dt.date] = field(default_factory=list)
    planned: int = 0
    placed: int = 0
    carried: int = 0
    unplaced: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    # (date, slot name) → how full that slot is over the stations planned (filled only when asked for).
    fill: dict[tuple[dt.date, str], SlotLoad] = field(default_factory=dict)

    def add_fill(self, slots: Sequence[Slot], day: dict[str, dict[str, Any]], date: dt.date, gap_ms: int,
                 schedule_id: int) -> None:
        for load in day_slot_loads(slots, day, gap_ms, schedule_id):
            total = self.fill.setdefault((date, load.name), SlotLoad(load.name))
            total.merge(load)

    def fill_list(self) -> list[SlotLoad]:
        """Per (date, slot) loads in date and slot-start order."""
        return [self.fill[key] for key in sorted(self.fill, key=lambda k: (k[0], self.fill[k].first_start, k[1]))]

    def add(self, day: dict[str, dict[str, Any]], schedule_id: int) -> None:
        for values in day.values():
            if values["schedule_id"] != schedule_id:
                continue
            self.planned += 1
            if values["position"] is None:
                self.unplaced += 1
                self.reasons[values["reason"] or SLOT_FULL] += 1
            else:
                self.placed += 1
                self.carried += values["slot"] != values["requested_slot"]

    def reason_list(self) -> list[dict[str, Any]]:
        """[{code, count, message}], most frequent first."""
        return [{"code": code, "count": n, "message": REASON_MESSAGES[code]}
                for code, n in self.reasons.most_common()]


@dataclass(slots=True)
class SlotLoad:
    """How full a slot is: one station's (from `day_slot_loads`) or summed over stations (`merge`).
    `used_ms` counts the placed plays with the gaps between them, as the packing does; `overfull`
    counts station-slots holding more than their length (only plays frozen before a slot was shortened
    can do that: the planner never overfills)."""

    name: str
    date: dt.date | None = None
    first_start: dt.datetime | None = None
    times: set[tuple[str, str]] = field(default_factory=set)
    station_slots: int = 0
    used_ms: int = 0
    capacity_ms: int = 0
    plays: int = 0
    schedule_plays: int = 0  # plays of the schedule being looked at, when there is one
    overfull: int = 0
    full: int = 0  # station-slots with less room left than a gap

    def merge(self, other: SlotLoad) -> None:
        self.date = self.date or other.date
        if other.first_start is not None and (self.first_start is None or other.first_start < self.first_start):
            self.first_start = other.first_start
        self.times |= other.times
        self.station_slots += other.station_slots
        self.used_ms += other.used_ms
        self.capacity_ms += other.capacity_ms
        self.plays += other.plays
        self.schedule_plays += other.schedule_plays
        self.overfull += other.overfull
        self.full += other.full

    @property
    def percent(self) -> int:
        return round(100 * self.used_ms / self.capacity_ms) if self.capacity_ms else 0

    @property
    def used_minutes(self) -> float:
        return round(self.used_ms / 60000, 1)

    @property
    def capacity_minutes(self) -> float:
        return round(self.capacity_ms / 60000, 1)


def day_slot_loads(slots: Sequence[Slot], day: dict[str, dict[str, Any]], gap_ms: int,
                   schedule_id: int | None = None) -> list[SlotLoad]:
    """One station's slots on one day (from `parse_slot_bounds`) with what a plan puts in them."""
    loads = {s.name: SlotLoad(s.name, s.start.date(), s.start, {(f"{s.start:%H:%M}", f"{s.end:%H:%M}")}, 1, 0,
                              s.capacity_ms)
             for s in slots}
    for values in day.values():
        load = loads.get(values["slot"]) if values["position"] is not None else None
        if load is None:
            continue
        load.used_ms += int(values["duration_ms"] or 0) + (gap_ms if load.plays else 0)
        load.plays += 1
        load.schedule_plays += values["schedule_id"] == schedule_id
    for load in loads.values():
        load.overfull = int(load.used_ms > load.capacity_ms)
        load.full = int(load.capacity_ms - load.used_ms < max(gap_ms, 1))
    return list(loads.values())


def summarize(days: Iterable[dict[str, dict[str, Any]]], schedule_id: int) -> Placement:
    placement = Placement()
    for day in days:
        placement.add(day, schedule_id)
    return placement
