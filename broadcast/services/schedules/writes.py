"""Create, edit and cancel a schedule; the affected playlists rebuild once the change is committed."""

from __future__ import annotations

import datetime as dt
from typing import Any, Unpack

from django.db import transaction
from django.utils import timezone

from ...models import Bulletin, Schedule
from ...selectors.playlists import build_dates, target_station_ids
from ..playlists import Placement, placement_of
from ..playlists.enqueue import rebuild_for_schedule_on_commit, rebuild_for_stations_on_commit
from .rebuilds import holders
from .validation import (
    ScheduleConflict,
    ScheduleFields,
    ScheduleRequest,
    ScheduleValidationError,
    clean_request,
)


def create_schedule(
    bulletin: Bulletin,
    *,
    by: Any,
    immediate: bool = False,
    now: dt.datetime | None = None,
    **fields: Unpack[ScheduleFields],
) -> Schedule:
    """Schedules the bulletin's approved (live) revision; the affected playlists rebuild on commit.
    The returned schedule carries `placement`: what the build does with its plays (placed, carried,
    unplaced and why), computed by the builder's planner as of `now` (default: the present; a build
    as of another moment, like the demo's as of midnight, passes that moment).

    Raises ScheduleConflict if the bulletin has no approved revision with ready audio, and
    ScheduleValidationError ({field: [messages]}) for bad dates, slots, days or targets, for a range
    without any of the chosen days, and when not one play could be placed (saying why).
    """
    request = clean_request(bulletin, immediate=immediate, **fields)
    with transaction.atomic():
        schedule = save_new(request, by=by, now=now)
        refuse_if_nothing_placed(schedule.placement)  # rolls the schedule back
        rebuild_for_schedule_on_commit(schedule.pk, immediate=schedule.immediate)
    return schedule


def save_new(request: ScheduleRequest, *, by: Any, now: dt.datetime | None, fill: bool = False) -> Schedule:
    """Inside the caller's transaction: the schedule row and its `placement` (the preview rolls it back)."""
    schedule = Schedule.objects.create(
        bulletin=request.bulletin, start_date=request.start_date, end_date=request.end_date,
        days_of_week=request.days_of_week, slots=request.slots, plays_per_slot=request.plays_per_slot,
        targets=request.targets, immediate=request.immediate, target_station_count=len(request.station_ids),
        created_by=by,
    )
    schedule.placement = placement_of(schedule, now=now, fill=fill)
    return schedule


def refuse_if_nothing_placed(placement: Placement) -> None:
    if not placement.placed:
        raise ScheduleValidationError({"slots": [nothing_placed(placement)]})


def nothing_placed(placement: Placement) -> str:
    why = "; ".join(f"{r['message']} ({r['count']} lượt)" for r in placement.reason_list())
    return f"Không xếp được lượt phát nào: {why or 'không có lượt phát nào trong những ngày đã chọn.'}"


def update_schedule(schedule: Schedule, *, now: dt.datetime | None = None,
                    **fields: Unpack[ScheduleFields]) -> Schedule:
    """Changes a live schedule's dates, days, slots, plays per slot and targets, with create's validation;
    on commit the stations it reached before or reaches now rebuild (plays in slots that have started
    stay as they are: the planner freezes them). The returned schedule carries `placement`.

    Raises ScheduleConflict for a cancelled or immediate schedule (or a bulletin no longer airable) and
    ScheduleValidationError as create does."""
    request = clean_request(schedule.bulletin, **fields)
    with transaction.atomic():
        locked, before = apply_edit(schedule, request, now=now)
        refuse_if_nothing_placed(locked.placement)
        rebuild_for_stations_on_commit(before | set(request.station_ids))
    for name in ("start_date", "end_date", "days_of_week", "slots", "plays_per_slot", "targets",
                 "target_station_count"):
        setattr(schedule, name, getattr(locked, name))
    schedule.placement = locked.placement
    return schedule


def apply_edit(schedule: Schedule, request: ScheduleRequest, *, now: dt.datetime | None,
               fill: bool = False) -> tuple[Schedule, set[int]]:
    """Inside the caller's transaction: the edited row (with `placement`) and the stations the schedule
    reached before the edit (targeted, or holding its plays in the coming days)."""
    locked = Schedule.objects.select_for_update().select_related("bulletin").get(pk=schedule.pk)
    if locked.cancelled_at is not None:
        raise ScheduleConflict("Lịch phát này đã bị hủy: không sửa được.")
    if locked.immediate:
        raise ScheduleConflict("Lịch phát ngay (khẩn cấp) không sửa được; hãy hủy và gửi lại.")
    before = set(target_station_ids(locked.targets or {})) | holders(build_dates(), schedule_id=locked.pk)
    locked.start_date, locked.end_date = request.start_date, request.end_date
    locked.days_of_week, locked.slots = request.days_of_week, request.slots
    locked.plays_per_slot, locked.targets = request.plays_per_slot, request.targets
    locked.target_station_count = len(request.station_ids)
    locked.save(update_fields=["start_date", "end_date", "days_of_week", "slots", "plays_per_slot", "targets",
                               "target_station_count"])
    locked.placement = placement_of(locked, now=now, fill=fill)
    return locked, before


def cancel_schedule(schedule: Schedule, by: Any) -> Schedule:
    """Cancels a schedule: its plays in slots still to come disappear at the rebuild, on every station
    holding one (also one that has since moved district or been deactivated); past plays stay."""
    with transaction.atomic():
        locked = Schedule.objects.select_for_update().get(pk=schedule.pk)
        if locked.cancelled_at is not None:
            raise ScheduleConflict("Lịch phát này đã bị hủy.")
        locked.cancelled_at = timezone.now()
        locked.cancelled_by = by
        locked.save(update_fields=["cancelled_at", "cancelled_by"])
        rebuild_for_schedule_on_commit(locked.pk, immediate=locked.immediate)
    schedule.cancelled_at, schedule.cancelled_by = locked.cancelled_at, locked.cancelled_by
    return schedule
