"""Writes for schedules: create (validated), cancel, and the targeted rebuilds they trigger."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from stations.models import AdminUnit, District, Station

from ..models import Bulletin, PlaylistItem, Schedule
from ..selectors.playlists import build_dates, local_today, schedule_is_airable, target_station_ids
from .playlists import Placement, RebuildStats, placement_of, rebuild_playlists
from .playlists.enqueue import rebuild_for_schedule_on_commit

__all__ = [
    "ScheduleConflict",
    "ScheduleValidationError",
    "cancel_schedule",
    "create_schedule",
    "rebuild_for_bulletin",
    "rebuild_for_schedule",
    "rebuild_for_stations",
    "validate_targets",
]

TARGET_KEYS = ("all", "districts", "units", "stations", "kinds")
MAX_PLAYS_PER_SLOT = 20


class ScheduleValidationError(Exception):
    """Bad input, by field: {field: [Vietnamese message, …]} (the API answers 400)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


class ScheduleConflict(Exception):
    """The bulletin or schedule is in a state that forbids the action (the API answers 409)."""


def _codes(value: Any, field: str, errors: dict[str, list[str]]) -> list[str]:
    if value in (None, ""):
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        errors.setdefault("targets", []).append(f"«{field}» phải là danh sách mã.")
        return []
    return sorted(set(value))


def validate_targets(targets: Any) -> dict[str, Any]:
    """Normalizes a target spec; raises ScheduleValidationError naming unknown codes or an empty target."""
    errors: dict[str, list[str]] = {}
    if not isinstance(targets, dict):
        raise ScheduleValidationError({"targets": ["Đối tượng nhận phải là một đối tượng JSON."]})
    unknown_keys = sorted(set(targets) - set(TARGET_KEYS))
    if unknown_keys:
        errors.setdefault("targets", []).append(f"Khóa không hợp lệ: {', '.join(unknown_keys)}.")
    all_flag = targets.get("all", False)
    if not isinstance(all_flag, bool):
        errors.setdefault("targets", []).append("«all» phải là true hoặc false.")
        all_flag = False
    districts = _codes(targets.get("districts"), "districts", errors)
    units = _codes(targets.get("units"), "units", errors)
    stations = _codes(targets.get("stations"), "stations", errors)
    kinds = _codes(targets.get("kinds"), "kinds", errors)
    if districts:
        known = set(District.objects.filter(code__in=districts).values_list("code", flat=True))
        if missing := [c for c in districts if c not in known]:
            errors.setdefault("targets", []).append(f"Không tìm thấy quận/huyện: {', '.join(missing)}.")
    if units:
        # Commune-level units of the two-level map only: codes repeat across maps.
        known = set(AdminUnit.objects.filter(map=AdminUnit.Map.SINCE_2025, level=AdminUnit.Level.COMMUNE,
                                             code__in=units).values_list("code", flat=True))
        if missing := [c for c in units if c not in known]:
            errors.setdefault("targets", []).append(f"Không tìm thấy xã/phường: {', '.join(missing)}.")
    if stations:
        known = set(Station.objects.filter(code__in=stations).values_list("code", flat=True))
        if missing := [c for c in stations if c not in known]:
            errors.setdefault("targets", []).append(f"Không tìm thấy đài: {', '.join(missing)}.")
    if missing := [k for k in kinds if k not in Station.Kind.values]:
        errors.setdefault("targets", []).append(f"Loại đài không hợp lệ: {', '.join(missing)}.")
    if not errors and not (all_flag or districts or units or stations or kinds):
        errors["targets"] = ["Chưa chọn đài nhận (all, districts, units, stations hoặc kinds)."]
    if errors:
        raise ScheduleValidationError(errors)
    return {"all": all_flag, "districts": districts, "units": units, "stations": stations, "kinds": kinds}


def create_schedule(
    bulletin: Bulletin,
    *,
    by: Any,
    start_date: dt.date | None,
    end_date: dt.date | None,
    slots: Sequence[str],
    targets: dict[str, Any],
    days_of_week: Sequence[int] | None = None,
    plays_per_slot: int = 1,
    immediate: bool = False,
    now: dt.datetime | None = None,
) -> Schedule:
    """Schedules the bulletin's approved (live) revision; the affected playlists rebuild on commit.
    The returned schedule carries `placement`: what the build does with its plays (placed, carried,
    unplaced and why), computed by the builder's planner as of `now` (default: the present; a build
    as of another moment, like the demo's as of midnight, passes that moment).

    Raises ScheduleConflict if the bulletin has no approved revision with ready audio, and
    ScheduleValidationError ({field: [messages]}) for bad dates, slots, days or targets, for a range
    without any of the chosen days, and when not one play could be placed (saying why).
    """
    if not schedule_is_airable(bulletin):
        raise ScheduleConflict("Chỉ bản tin đã duyệt (âm thanh sẵn sàng) mới được lên lịch phát.")
    errors: dict[str, list[str]] = {}
    today = local_today()
    if immediate:
        start_date = start_date or today
        end_date = end_date or start_date
        if bulletin.priority != Bulletin.Priority.EMERGENCY:
            errors["immediate"] = ["Chỉ bản tin khẩn cấp mới được phát ngay."]
        elif not (start_date <= today <= end_date):
            errors["start_date"] = ["Lịch phát ngay phải bao gồm ngày hôm nay."]
    if start_date is None:
        errors["start_date"] = ["Trường này là bắt buộc."]
    if end_date is None:
        errors["end_date"] = ["Trường này là bắt buộc."]
    if start_date and end_date:
        if end_date < start_date:
            errors["end_date"] = ["Ngày kết thúc phải sau hoặc bằng ngày bắt đầu."]
        elif end_date < today:
            errors["end_date"] = ["Ngày kết thúc đã qua."]
    days = sorted(set(days_of_week or []))
    if any(not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 6 for d in days):
        errors["days_of_week"] = ["Thứ trong tuần phải là số từ 0 (thứ Hai) đến 6 (Chủ nhật)."]
    elif days and start_date and end_date and not immediate and not any(
            (start_date + dt.timedelta(days=n)).weekday() in days
            for n in range(min(7, (end_date - start_date).days + 1))):
        errors["days_of_week"] = ["Không có ngày nào trong khoảng đã chọn rơi vào các thứ đã chọn."]
    if not isinstance(plays_per_slot, int) or not 1 <= plays_per_slot <= MAX_PLAYS_PER_SLOT:
        errors["plays_per_slot"] = [f"Số lần mỗi khung phải từ 1 đến {MAX_PLAYS_PER_SLOT}."]
    slot_names = list(dict.fromkeys(slots or []))
    if not slot_names and not immediate:
        errors["slots"] = ["Chọn ít nhất một khung giờ."]
    try:
        norm_targets = validate_targets(targets)
    except ScheduleValidationError as exc:
        errors.update(exc.errors)
        norm_targets = None
    station_ids: list[int] = []
    if norm_targets is not None:
        station_ids = target_station_ids(norm_targets)
        if not station_ids:
            errors["targets"] = ["Không có đài nào đang hoạt động trong đối tượng đã chọn."]
        elif slot_names:
            known: set[str] = set()
            for station_slots in Station.objects.filter(pk__in=station_ids).values_list("slots", flat=True):
                known.update(str(s.get("name")) for s in station_slots or [] if isinstance(s, dict))
            if unknown := [s for s in slot_names if s not in known]:
                errors["slots"] = [f"Khung giờ không tồn tại ở các đài đã chọn: {', '.join(unknown)}."]
    if errors:
        raise ScheduleValidationError(errors)

    with transaction.atomic():
        schedule = Schedule.objects.create(
            bulletin=bulletin, start_date=start_date, end_date=end_date, days_of_week=days, slots=slot_names,
            plays_per_slot=plays_per_slot, targets=norm_targets, immediate=immediate,
            target_station_count=len(station_ids), created_by=by,
        )
        placement = placement_of(schedule, now=now)
        if not placement.placed:
            raise ScheduleValidationError({"slots": [_nothing_placed(placement)]})  # rolls the schedule back
        rebuild_for_schedule_on_commit(schedule.pk)
    schedule.placement = placement
    return schedule


def _nothing_placed(placement: Placement) -> str:
    why = "; ".join(f"{r['message']} ({r['count']} lượt)" for r in placement.reason_list())
    return f"Không xếp được lượt phát nào: {why or 'không có lượt phát nào trong những ngày đã chọn.'}"


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
        rebuild_for_schedule_on_commit(locked.pk)
    schedule.cancelled_at, schedule.cancelled_by = locked.cancelled_at, locked.cancelled_by
    return schedule


def _schedule_dates(schedule: Schedule, window: Iterable[dt.date]) -> list[dt.date]:
    return [d for d in window if schedule.airs_on(d)]


def _holders(dates: Iterable[dt.date], **item_filter: Any) -> set[int]:
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
    station_ids = set(target_station_ids(schedule.targets or {})) | _holders(dates, schedule_id=schedule_id)
    return rebuild_playlists(station_ids, dates)


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
        station_ids |= _holders(dates, bulletin_id=bulletin_id)
    if not station_ids:
        return RebuildStats()
    return rebuild_playlists(station_ids, dates)


def rebuild_for_stations(station_ids: Iterable[int]) -> RebuildStats:
    """Stations' targeting changed (code, kind, district, slots, active): rebuild their coming playlists
    (a deactivated station keeps only the plays already airing)."""
    ids = list(station_ids)
    return rebuild_playlists(ids, build_dates()) if ids else RebuildStats()
