"""Reads of the supervisor's scheduling pages: the schedule list by state, the bulletins that may be
scheduled, the choices of the target picker and the live station count."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet

from stations.models import AdminUnit, Station, map_in_force

from ..models import AudioRendition, Bulletin, Schedule
from .playlists import local_today, schedule_list, target_station_ids

STATES = {"live": "Đang chạy và sắp tới", "current": "Đang chạy", "coming": "Sắp tới", "past": "Đã kết thúc", "cancelled": "Đã hủy",
          "all": "Tất cả"}


def schedules_by_state(state: str, *, bulletin_id: int | None = None,
                       today: dt.date | None = None) -> QuerySet[Schedule]:
    today = today or local_today()
    qs = schedule_list(bulletin_id=bulletin_id)
    if state == "cancelled":
        return qs.filter(cancelled_at__isnull=False).order_by("-cancelled_at", "-id")
    if state == "all":
        return qs.order_by("-created_at", "-id")
    qs = qs.filter(cancelled_at__isnull=True)
    if state == "live":
        return qs.filter(end_date__gte=today).order_by("start_date", "-created_at", "-id")
    if state == "coming":
        return qs.filter(start_date__gt=today).order_by("start_date", "id")
    if state == "past":
        return qs.filter(end_date__lt=today).order_by("-end_date", "-id")
    return qs.filter(start_date__lte=today, end_date__gte=today).order_by("-created_at", "-id")


def schedulable_bulletins() -> QuerySet[Bulletin]:
    """Bulletins with an approved live revision whose audio is ready (what create accepts)."""
    return (Bulletin.objects.exclude(status=Bulletin.Status.ARCHIVED)
            .filter(live_revision__approved_at__isnull=False,
                    live_revision__rendition__status=AudioRendition.Status.READY)
            .select_related("live_revision", "live_revision__rendition").order_by("-live_revision__approved_at"))


def bulletin_options(term: str = "", *, limit: int, chosen: int | None = None) -> tuple[list[Bulletin], bool]:
    """The newest airable bulletins whose title holds `term` (case and diacritics ignored), at most `limit`,
    plus the chosen one (first) when it is not among them; and whether more match than are shown."""
    from .bulletins import search_folded

    airable = (schedulable_bulletins().select_related(None).select_related("live_revision")
               .only("pk", "title", "priority", "live_revision__approved_at"))
    found = list(search_folded(airable, [term], ["title"])[: limit + 1])
    more = len(found) > limit
    found = found[:limit]
    if chosen is not None and all(b.pk != chosen for b in found):
        found = [*airable.filter(pk=chosen), *found]
    return found, more


def bulletins_with_schedules() -> list[tuple[int, str]]:
    return list(Bulletin.objects.filter(schedules__isnull=False).distinct().order_by("title")
                .values_list("pk", "title"))


def unit_choices(day: dt.date | None = None) -> list[tuple[str, str]]:
    """Commune-level units of the map in force that hold at least one active station."""
    day = day or local_today()
    units = AdminUnit.objects.filter(map=map_in_force(day), level=AdminUnit.Level.COMMUNE,
                                     stations__active=True).distinct().order_by("name")
    return [(code, f"{name} ({code})") for code, name in units.values_list("code", "name")]


def slot_choices() -> list[tuple[str, str]]:
    """Slot names of the active stations, in time order, with their times ('Sáng (morning) 06:00–06:30')."""
    from .week import slot_label

    seen: dict[str, set[str]] = {}
    first: dict[str, str] = {}
    # order_by(): the station's default ordering would join districts and make every row distinct.
    for slots in Station.objects.filter(active=True).order_by().values_list("slots", flat=True).distinct():
        for slot in slots or ():
            if isinstance(slot, dict) and slot.get("name"):
                name = str(slot["name"])
                seen.setdefault(name, set()).add(f"{slot.get('start')}–{slot.get('end')}")
                first[name] = min(first.get(name, "99:99"), str(slot.get("start")))
    return [(name, f"{slot_label(name)} {', '.join(sorted(seen[name]))}")
            for name in sorted(seen, key=lambda n: (first[n], n))]


def station_count(targets: dict[str, Any]) -> int:
    """Active stations a (normalized) target spec reaches."""
    return len(target_station_ids(targets))
