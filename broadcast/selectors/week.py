"""The week view: for a commune-level unit or one station, seven days × the slots — what is planned, how
full each slot is, what could not be placed, and the emergencies (immediate plays outside the slots).

Days with built playlists are read from their items; days not built yet (further ahead than the nightly
build reaches) are planned read-only by the builder's own planner and marked as such (`planned`)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from stations.models import EMERGENCY_SLOT, AdminUnit, Station, slot_words

from ..models import BulletinRevision, Playlist, PlaylistItem
from ..models.schedules import WEEKDAY_NAMES
from ..services.playlists.inputs import plan_station_day, read_inputs
from .playlists import LOCAL_TZ, StationRow, local_today, parse_slot_bounds

_ITEM_VALUES = ("slot", "requested_slot", "position", "starts_at", "duration_ms", "schedule_id", "bulletin_id",
                "revision_id", "priority", "unplaced_reason")


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def slot_label(name: str) -> str:
    """'Sáng (morning)' for the usual names, the name itself otherwise."""
    return f"{slot_words(name)} ({name})" if slot_words(name) != name else name


@dataclass(slots=True)
class WeekPlay:
    title: str
    priority: str
    starts_at: dt.datetime | None
    duration_ms: int
    station: str
    slot: str
    requested_slot: str
    unplaced_reason: str = ""

    @property
    def carried(self) -> bool:
        return bool(self.requested_slot) and self.requested_slot != self.slot


@dataclass(slots=True)
class WeekCell:
    date: dt.date
    slot: str
    station_slots: int = 0
    plays: int = 0
    used_ms: int = 0
    capacity_ms: int = 0
    overfull: int = 0
    unplaced: int = 0
    items: list[WeekPlay] = field(default_factory=list)  # a station's week only
    unplaced_items: list[WeekPlay] = field(default_factory=list)

    @property
    def percent(self) -> int:
        return round(100 * self.used_ms / self.capacity_ms) if self.capacity_ms else 0

    @property
    def used_minutes(self) -> str:
        return f"{self.used_ms / 60000:.1f}".replace(".", ",")

    @property
    def capacity_minutes(self) -> str:
        return f"{self.capacity_ms / 60000:.0f}"


@dataclass(slots=True)
class WeekDay:
    date: dt.date
    name: str
    built: bool  # every station's playlist of the day is built
    planned: bool  # some station's day is only planned (not built yet)
    past: bool
    emergencies: list[WeekPlay] = field(default_factory=list)

    @property
    def is_today(self) -> bool:
        return self.date == local_today()


@dataclass(slots=True)
class WeekRow:
    slot: str
    label: str
    times: str
    cells: list[WeekCell]


@dataclass(slots=True)
class Week:
    start: dt.date
    days: list[WeekDay]
    rows: list[WeekRow]
    station_count: int
    per_station: bool

    @property
    def previous(self) -> dt.date:
        return self.start - dt.timedelta(days=7)

    @property
    def next(self) -> dt.date:
        return self.start + dt.timedelta(days=7)

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=6)

    @property
    def emergencies(self) -> int:
        return sum(len(d.emergencies) for d in self.days)

    @property
    def unplaced(self) -> int:
        return sum(c.unplaced for r in self.rows for c in r.cells)

    @property
    def overfull(self) -> int:
        return sum(c.overfull for r in self.rows for c in r.cells)


def unit_for_week(code: str) -> AdminUnit | None:
    return AdminUnit.objects.filter(map=AdminUnit.Map.SINCE_2025, level=AdminUnit.Level.COMMUNE,
                                    code=code).first()


def _rows(stations: QuerySet[Station]) -> list[StationRow]:
    return [StationRow(pk, code, district_id, district_code, kind, slots, unit_id, unit_code or "")
            for pk, code, district_id, district_code, kind, slots, unit_id, unit_code in stations.order_by("pk")
            .values_list("pk", "code", "district_id", "district__code", "kind", "slots", "unit_id", "unit__code")]


def week_of(stations: QuerySet[Station], start: dt.date, *, per_station: bool,
            now: dt.datetime | None = None) -> Week:
    """The week from `start` (a Monday) for these stations (active ones: what they are to air)."""
    now = now or timezone.now()
    today = timezone.localdate(now, LOCAL_TZ)
    dates = [start + dt.timedelta(days=n) for n in range(7)]
    rows = _rows(stations.filter(active=True))
    ids = [s.id for s in rows]
    gap_ms = int(settings.PLAYLIST_SLOT_GAP_SECONDS * 1000)

    # Built days: their items, as the planner's day dicts.
    built: dict[tuple[int, dt.date], dict[str, dict[str, Any]]] = {}
    for station_id, date in Playlist.objects.filter(station_id__in=ids, date__in=dates).values_list(
            "station_id", "date"):
        built[(station_id, date)] = {}
    if built:
        for station_id, date, key, *values in PlaylistItem.objects.filter(
                playlist__station_id__in=ids, playlist__date__in=dates).values_list(
                "playlist__station_id", "playlist__date", "key", *_ITEM_VALUES).iterator(chunk_size=2000):
            built[(station_id, date)][key] = dict(zip(_ITEM_VALUES, values, strict=True))
    # Days to come that are not built: planned as a build would, nothing written.
    to_plan = [d for d in dates if d >= today and any((s.id, d) not in built for s in rows)]
    planned: dict[tuple[int, dt.date], dict[str, dict[str, Any]]] = {}
    if to_plan and rows:
        inputs = read_inputs(ids, to_plan)
        for station in inputs.stations:
            for date in to_plan:
                if (station.id, date) not in built:
                    planned[(station.id, date)] = plan_station_day(inputs, station, date, {}, now, gap_ms)

    revisions = {rid for day in (*built.values(), *planned.values()) for v in day.values()
                 for rid in [v["revision_id"]]}
    titles = dict(BulletinRevision.objects.filter(pk__in=revisions).values_list("pk", "title"))

    codes = {s.id: s.code for s in rows}
    days = [WeekDay(d, WEEKDAY_NAMES[d.weekday()], built=all((s.id, d) in built for s in rows) and bool(rows),
                    planned=any((s.id, d) in planned for s in rows), past=d < today) for d in dates]
    cells: dict[tuple[str, dt.date], WeekCell] = {}
    slot_order: dict[str, tuple[dt.time, set[str]]] = {}
    for station in rows:
        for index, date in enumerate(dates):
            bounds = parse_slot_bounds(station.slots, date)
            for slot in bounds:
                local_start = slot.start.astimezone(LOCAL_TZ)
                known = slot_order.setdefault(slot.name, (local_start.time(), set()))
                known[1].add(f"{local_start:%H:%M}–{slot.end.astimezone(LOCAL_TZ):%H:%M}")
                if local_start.time() < known[0]:
                    slot_order[slot.name] = (local_start.time(), known[1])
                cell = cells.setdefault((slot.name, date), WeekCell(date, slot.name))
                cell.station_slots += 1
                cell.capacity_ms += slot.capacity_ms
            day = built.get((station.id, date)) or planned.get((station.id, date)) or {}
            used: dict[str, tuple[int, int]] = defaultdict(lambda: (0, 0))  # slot → (plays, ms)
            for values in sorted(day.values(), key=lambda v: (v["position"] is None, v["position"] or 0)):
                play = WeekPlay(titles.get(values["revision_id"], "?"), values["priority"], values["starts_at"],
                                int(values["duration_ms"] or 0), codes[station.id], values["slot"],
                                values["requested_slot"], values["unplaced_reason"])
                if values["slot"] == EMERGENCY_SLOT:
                    days[index].emergencies.append(play)
                    continue
                cell = cells.setdefault((values["requested_slot"] or values["slot"], date),
                                        WeekCell(date, values["requested_slot"] or values["slot"]))
                if values["position"] is None:
                    cell.unplaced += 1
                    if per_station:
                        cell.unplaced_items.append(play)
                    continue
                placed_cell = cells.setdefault((values["slot"], date), WeekCell(date, values["slot"]))
                plays, ms = used[values["slot"]]
                used[values["slot"]] = (plays + 1, ms + play.duration_ms + (gap_ms if plays else 0))
                placed_cell.plays += 1
                if per_station:
                    placed_cell.items.append(play)
            for slot in bounds:
                plays, ms = used.get(slot.name, (0, 0))
                cell = cells[(slot.name, date)]
                cell.used_ms += ms
                cell.overfull += ms > slot.capacity_ms
    names = sorted({name for name, _ in cells}, key=lambda n: (slot_order.get(n, (dt.time.max, set()))[0], n))
    week_rows = [WeekRow(name, slot_label(name), ", ".join(sorted(slot_order.get(name, (None, set()))[1])),
                         [cells.get((name, d)) or WeekCell(d, name) for d in dates]) for name in names]
    return Week(start, days, week_rows, len(rows), per_station)


def units_for(scope: Any) -> list[tuple[str, str]]:
    """Commune-level units (two-level map) with active stations the scope sees, for the picker."""
    stations = Station.objects.filter(scope.q(), active=True, unit__map=AdminUnit.Map.SINCE_2025)
    return list(AdminUnit.objects.filter(pk__in=stations.values("unit_id")).order_by("name")
                .values_list("code", "name"))
