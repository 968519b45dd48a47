"""What a create or an edit would do, before it is done: the same validation, the same rows written and
the builder's own planner run on them, then everything rolled back. So the preview cannot drift from
what saving does."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Unpack

from django.db import transaction

from ...models import Bulletin, Schedule
from ...models.schedules import WEEKDAY_NAMES
from ..playlists import Placement
from .validation import ScheduleFields, ScheduleRequest, clean_request
from .writes import apply_edit, nothing_placed, save_new


@dataclass(slots=True)
class Preview:
    """`placement` as saving would report it, with `fill` (per date and slot); `refused`: the message
    saving would answer when not one play could be placed (else empty)."""

    request: ScheduleRequest
    placement: Placement
    station_count: int
    refused: str = ""

    def fill_rows(self) -> list[dict[str, Any]]:
        """The per-(date, slot) loads with the words a page shows: the day's name, the slot's label."""
        from ...selectors.week import slot_label

        return [{"day": f"{WEEKDAY_NAMES[load.date.weekday()]} {load.date:%d/%m}" if load.date else "",
                 "slot": slot_label(load.name), "load": load} for load in self.placement.fill_list()]

    @property
    def overfull_slots(self) -> int:
        return sum(1 for load in self.placement.fill.values() if load.overfull)


class _RollBack(Exception):
    def __init__(self, placement: Placement) -> None:
        super().__init__()
        self.placement = placement


def _preview(request: ScheduleRequest, write: Any) -> Preview:
    try:
        with transaction.atomic():
            raise _RollBack(write())
    except _RollBack as done:
        placement = done.placement
    refused = "" if placement.placed else nothing_placed(placement)
    return Preview(request, placement, len(request.station_ids), refused)


def preview_schedule(bulletin: Bulletin, *, by: Any, immediate: bool = False, now: dt.datetime | None = None,
                     **fields: Unpack[ScheduleFields]) -> Preview:
    """What `create_schedule(bulletin, by=by, **fields)` would do (raises what it raises for bad input)."""
    request = clean_request(bulletin, immediate=immediate, **fields)
    return _preview(request, lambda: save_new(request, by=by, now=now, fill=True).placement)


def preview_update(schedule: Schedule, *, now: dt.datetime | None = None, **fields: Unpack[ScheduleFields]) -> Preview:
    """What `update_schedule(schedule, **fields)` would do (raises what it raises)."""
    request = clean_request(schedule.bulletin, **fields)
    return _preview(request, lambda: apply_edit(schedule, request, now=now, fill=True)[0].placement)
