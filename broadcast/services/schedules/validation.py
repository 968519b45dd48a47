"""The one validation of a schedule request, shared by create, edit and their previews."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

from stations.models import AdminUnit, District, Station

from ...models import Bulletin
from ...selectors.playlists import local_today, schedule_is_airable, target_station_ids

TARGET_KEYS = ("all", "districts", "units", "stations", "kinds")
MAX_PLAYS_PER_SLOT = 20


class ScheduleValidationError(Exception):
    """Bad input, by field: {field: [Vietnamese message, …]} (the API answers 400)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


class ScheduleConflict(Exception):
    """The bulletin or schedule is in a state that forbids the action (the API answers 409)."""


@dataclass(frozen=True, slots=True)
class ScheduleRequest:
    """A validated, normalized schedule request: what create and edit store."""

    bulletin: Bulletin
    start_date: dt.date
    end_date: dt.date
    days_of_week: list[int]
    slots: list[str]
    plays_per_slot: int
    targets: dict[str, Any]
    immediate: bool
    station_ids: list[int]


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


class ScheduleFields(TypedDict):
    """The keywords of a schedule that create, edit and their previews pass on to `clean_request`."""

    start_date: dt.date | None
    end_date: dt.date | None
    slots: Sequence[str]
    targets: dict[str, Any]
    days_of_week: NotRequired[Sequence[int] | None]
    plays_per_slot: NotRequired[int]


def clean_request(
    bulletin: Bulletin,
    *,
    start_date: dt.date | None,
    end_date: dt.date | None,
    slots: Sequence[str],
    targets: dict[str, Any],
    days_of_week: Sequence[int] | None = None,
    plays_per_slot: int = 1,
    immediate: bool = False,
) -> ScheduleRequest:
    """Raises ScheduleConflict if the bulletin has no approved revision with ready audio, and
    ScheduleValidationError ({field: [messages]}) for bad dates, slots, days or targets, and for a range
    without any of the chosen days."""
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
    assert start_date is not None and end_date is not None and norm_targets is not None
    return ScheduleRequest(bulletin, start_date, end_date, days, slot_names, plays_per_slot, norm_targets,
                           immediate, station_ids)
