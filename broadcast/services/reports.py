"""Proof of play: ingesting playback reports and folding them into the planned items.

A batch is validated item by item; valid reports are stored even when others are rejected. The pair
(station, report_id) is unique in the database, so a retried or reordered batch changes nothing.
Each stored report snapshots what it refers to, so later edits or deletions never change the log.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from broadcast.models import PlaybackReport, PlaylistItem, StationInactivity
from broadcast.selectors.playlists import parse_slot_bounds
from broadcast.services import bulk
from stations.models import Station

# When several reports concern one planned play, the strongest outcome wins; `played` beats all.
OUTCOME_RANK: dict[str, int] = {"": 0, "skipped": 1, "failed": 2, "interrupted": 3, "played": 4}
REPORT_ID_MAX = 64
ERROR_TEXT_MAX = 2000
TIME_TEXT_MAX = 40
BIGINT_MAX = 2**63 - 1
# A sanity floor for any time; the planned item's own window (plausible_start_window) is far narrower.
EARLIEST_REPORT_TIME = datetime(1970, 1, 1, tzinfo=UTC)

MSG_NOT_OBJECT = "Mỗi báo cáo phải là một đối tượng JSON."
MSG_REQUIRED = "Trường này là bắt buộc."
MSG_REPORT_ID = f"report_id phải là chuỗi từ 1 đến {REPORT_ID_MAX} ký tự."
MSG_DUP_IN_BATCH = "report_id bị lặp lại trong cùng một lô (đã nhận báo cáo ở vị trí {first})."
MSG_ITEM_INVALID = "playlist_item phải là số nguyên dương (tối đa 64 bit)."
MSG_ITEM_UNKNOWN = "Không tìm thấy mục phát này trong danh sách phát của đài."
MSG_STATUS = "Trạng thái không hợp lệ: {value!r} (played, failed, skipped hoặc interrupted)."
MSG_STATUS_TYPE = "Trạng thái phải là một trong: played, failed, skipped, interrupted."
MSG_DATETIME = "Thời gian không hợp lệ, cần dạng ISO 8601 (ví dụ 2025-01-31T06:00:00+07:00)."
MSG_TOO_OLD = "Thời gian quá xa trong quá khứ (trước năm 1970): đồng hồ của thiết bị có thể bị sai."
MSG_BEFORE_SLOT = ("Thời điểm bắt đầu ({started}) sớm hơn khung giờ của mục phát (bắt đầu {slot_start}, "
                   "cho phép lệch đồng hồ {minutes} phút): đồng hồ của thiết bị có thể bị sai.")
MSG_AFTER_DAY = ("Thời điểm bắt đầu ({started}) quá muộn so với ngày phát {day} của mục phát "
                 "(cho phép lệch đồng hồ {minutes} phút).")
MSG_FUTURE = "Thời gian ở quá xa trong tương lai (quá {hours} giờ so với máy chủ)."
MSG_END_BEFORE_START = "Thời điểm kết thúc phải sau thời điểm bắt đầu."
MSG_ERROR_TEXT = "error phải là chuỗi ký tự."
MSG_ERROR_TOO_LONG = f"error dài quá {ERROR_TEXT_MAX} ký tự."
MSG_NUL = "Chuỗi chứa ký tự NUL (\\u0000), không được chấp nhận."
MSG_SURROGATE = "Chuỗi chứa ký tự Unicode không hợp lệ (surrogate lẻ)."


class BatchError(ValueError):
    """The envelope itself is unusable (→ 400 with these field errors)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(str(errors))
        self.errors = errors


class BatchTooLarge(ValueError):
    """More reports than REPORTS_MAX_BATCH (→ 413)."""


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected}


@dataclass
class _Valid:
    index: int
    report_id: str
    item_id: int
    status: str
    started_at: datetime
    ended_at: datetime | None
    error: str


def _text_problem(value: str) -> str | None:
    """Why this text cannot be stored (PostgreSQL refuses NUL; UTF-8 cannot encode a lone surrogate)."""
    if "\x00" in value:
        return MSG_NUL
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return MSG_SURROGATE
    return None


def _is_id_value(value: Any) -> bool:
    """A text, or an integer short enough to write out (str() refuses ints of over 4,300 digits)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, str) or (isinstance(value, int) and -(10**64) < value < 10**64)


def _printable(value: str, limit: int) -> str:
    """`value` made safe to echo back: storable characters only, at most `limit` (+ an ellipsis)."""
    value = value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "?")
    return value if len(value) <= limit else value[:limit] + "…"


def _parse_time(value: Any) -> tuple[datetime | None, str]:
    """An aware datetime that converts to UTC inside a sane range, or (None, the reason)."""
    if not isinstance(value, str) or len(value) > TIME_TEXT_MAX:
        return None, MSG_DATETIME
    try:
        parsed = parse_datetime(value.strip())
        if parsed is None:
            return None, MSG_DATETIME
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)  # read as Asia/Ho_Chi_Minh, the stations' local time
        # Year 1 at +07:00 is 1 BC in UTC: PostgreSQL would store it and fail every later read.
        parsed = parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None, MSG_DATETIME
    if parsed < EARLIEST_REPORT_TIME:
        return None, MSG_TOO_OLD
    return parsed, ""


def _validate(index: int, raw: Any, now: datetime) -> tuple[_Valid | None, dict[str, list[str]]]:
    if not isinstance(raw, dict):
        return None, {"non_field_errors": [MSG_NOT_OBJECT]}
    errors: dict[str, list[str]] = {}
    report_id = raw.get("report_id")
    if report_id is None or report_id == "":
        errors["report_id"] = [MSG_REQUIRED]
    elif not _is_id_value(report_id) or len(str(report_id)) > REPORT_ID_MAX:
        errors["report_id"] = [MSG_REPORT_ID]
    elif problem := _text_problem(str(report_id)):
        errors["report_id"] = [problem]
    item = raw.get("playlist_item")
    if item is None:
        errors["playlist_item"] = [MSG_REQUIRED]
    else:
        if isinstance(item, str) and item.isascii() and item.isdigit() and len(item) <= 19:
            item = int(item)
        if isinstance(item, bool) or not isinstance(item, int) or not 0 < item <= BIGINT_MAX:
            errors["playlist_item"] = [MSG_ITEM_INVALID]
    status = raw.get("status")
    if status is None:
        errors["status"] = [MSG_REQUIRED]
    elif not isinstance(status, str):
        errors["status"] = [MSG_STATUS_TYPE]
    elif status not in PlaybackReport.Status.values:
        errors["status"] = [MSG_STATUS.format(value=_printable(status, 20))]
    limit = now + timedelta(seconds=settings.REPORTS_MAX_FUTURE_SECONDS)
    hours = settings.REPORTS_MAX_FUTURE_SECONDS // 3600
    started = None
    if raw.get("started_at") in (None, ""):
        errors["started_at"] = [MSG_REQUIRED]
    else:
        started, problem = _parse_time(raw.get("started_at"))
        if started is None:
            errors["started_at"] = [problem]
        elif started > limit:
            errors["started_at"] = [MSG_FUTURE.format(hours=hours)]
    ended = None
    if raw.get("ended_at") not in (None, ""):
        ended, problem = _parse_time(raw.get("ended_at"))
        if ended is None:
            errors["ended_at"] = [problem]
        elif ended > limit:
            errors["ended_at"] = [MSG_FUTURE.format(hours=hours)]
        elif started is not None and ended < started:
            errors["ended_at"] = [MSG_END_BEFORE_START]
    error_text = raw.get("error") or ""
    if not isinstance(error_text, str):
        errors["error"] = [MSG_ERROR_TEXT]
    elif len(error_text) > ERROR_TEXT_MAX:
        errors["error"] = [MSG_ERROR_TOO_LONG]
    elif problem := _text_problem(error_text):
        errors["error"] = [problem]
    if errors:
        return None, errors
    return _Valid(index, str(report_id), int(item), status, started, ended, error_text), {}


def _reject(result: IngestResult, index: int, raw: Any, errors: dict[str, list[str]]) -> None:
    report_id = raw.get("report_id") if isinstance(raw, dict) else None
    if not _is_id_value(report_id):
        echoed = None
    else:
        echoed = _printable(str(report_id), REPORT_ID_MAX)
    result.rejected.append({"index": index, "report_id": echoed, "errors": errors})


def ingest_reports(station: Station, reports: Any, *, now: datetime | None = None) -> IngestResult:
    """Stores a batch of playback reports for `station`; see the module docstring.

    Raises BatchError for an envelope that is not a list and BatchTooLarge above the batch limit.
    Queries per batch are constant: one item lookup, one duplicate lookup, one insert, ≤4 updates.
    """
    if not isinstance(reports, list):
        raise BatchError({"reports": ["Trường reports phải là một danh sách báo cáo."]})
    if len(reports) > settings.REPORTS_MAX_BATCH:
        raise BatchTooLarge(f"Tối đa {settings.REPORTS_MAX_BATCH} báo cáo mỗi lần gửi (nhận {len(reports)}).")
    now = now or timezone.now()
    result = IngestResult()
    valid: list[_Valid] = []
    first_index: dict[str, int] = {}
    for index, raw in enumerate(reports):
        parsed, errors = _validate(index, raw, now)
        if parsed is not None and parsed.report_id in first_index:
            errors = {"report_id": [MSG_DUP_IN_BATCH.format(first=first_index[parsed.report_id])]}
            parsed = None
        if parsed is None:
            _reject(result, index, raw, errors)
            continue
        first_index[parsed.report_id] = index
        valid.append(parsed)
    if not valid:
        result.rejected.sort(key=lambda r: r["index"])
        return result

    with transaction.atomic():
        # One lock per station serializes its concurrent uploads, so the duplicate count is exact.
        Station.objects.select_for_update().filter(pk=station.pk).values_list("pk", flat=True).first()
        items = _items_of_station(station, {v.item_id for v in valid})
        existing = set(
            PlaybackReport.objects.filter(station=station, report_id__in=[v.report_id for v in valid])
            .values_list("report_id", flat=True)
        )
        rows: list[PlaybackReport] = []
        new: list[_Valid] = []
        for v in valid:
            if v.report_id in existing:  # already stored: changes nothing, even if its item is gone
                result.duplicates += 1
                continue
            item = items.get(v.item_id)
            if item is None:
                _reject(result, v.index, reports[v.index], {"playlist_item": [MSG_ITEM_UNKNOWN]})
                continue
            if problem := _implausible_start(v.started_at, item, station):
                _reject(result, v.index, reports[v.index], {"started_at": [problem]})
                continue
            new.append(v)
            rows.append(
                PlaybackReport(
                    station_id=station.pk, report_id=v.report_id, playlist_item_id=v.item_id,
                    status=v.status, started_at=v.started_at, ended_at=v.ended_at, error=v.error,
                    playlist_date=item["playlist__date"], bulletin_id_snapshot=item["bulletin_id"],
                    bulletin_title=item["revision__title"], revision_number=item["revision__number"],
                    sha256=item["sha256"], slot=item["slot"], planned_start=item["starts_at"],
                    # Made under the units of the playlist it names, not where the station stands now.
                    district_id=item["playlist__district_id"], unit_id=item["playlist__unit_id"],
                )
            )
        PlaybackReport.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        result.accepted = len(rows)
        fold_outcomes(((v.item_id, v.status) for v in new), now=now)
    result.rejected.sort(key=lambda r: r["index"])
    return result


def _implausible_start(started: datetime, item: dict[str, Any], station: Station) -> str | None:
    """Why a play of `item` cannot have started at `started` (see PlaybackReport.plausible_start_window)."""
    skew = timedelta(seconds=settings.REPORTS_CLOCK_SKEW_SECONDS)
    day = item["playlist__date"]
    slot_start = next((s.start for s in parse_slot_bounds(station.slots, day) if s.name == item["slot"]), None)
    earliest, latest = PlaybackReport.plausible_start_window(day, slot_start, item["starts_at"], skew=skew)
    if earliest <= started <= latest:
        return None
    minutes = int(skew.total_seconds() // 60)
    local = timezone.localtime(started).strftime("%H:%M %d/%m/%Y")
    if started < earliest:
        slot_start = timezone.localtime(earliest + skew).strftime("%H:%M %d/%m/%Y")
        return MSG_BEFORE_SLOT.format(started=local, slot_start=slot_start, minutes=minutes)
    return MSG_AFTER_DAY.format(started=local, day=item["playlist__date"].strftime("%d/%m/%Y"), minutes=minutes)


def _items_of_station(station: Station, item_ids: set[int]) -> dict[int, dict[str, Any]]:
    """The planned items among `item_ids` that belong to this station's playlists (others: unknown)."""
    rows = PlaylistItem.objects.filter(pk__in=item_ids, playlist__station_id=station.pk).values(
        "id", "playlist__date", "bulletin_id", "revision__title", "revision__number", "sha256", "slot",
        "starts_at", "playlist__district_id", "playlist__unit_id",
    )
    return {row["id"]: row for row in rows}


def fold_outcomes(outcomes: Iterable[tuple[int, str]], *, now: datetime | None = None) -> int:
    """Raises each item's `report_status` to the strongest reported outcome (never lowers it).

    Bulk: at most one UPDATE per outcome kind. Order-independent, so replays and late reports are safe.
    """
    now = now or timezone.now()
    best: dict[int, str] = {}
    for item_id, status in outcomes:
        if OUTCOME_RANK[status] > OUTCOME_RANK[best.get(item_id, "")]:
            best[item_id] = status
    by_status: dict[str, list[int]] = {}
    for item_id, status in best.items():
        by_status.setdefault(status, []).append(item_id)
    changed = 0
    for status, ids in by_status.items():
        weaker = [s for s, rank in OUTCOME_RANK.items() if rank < OUTCOME_RANK[status]]
        changed += PlaylistItem.objects.filter(pk__in=ids, report_status__in=weaker).update(
            report_status=status, reported_at=now
        )
    return changed


def record_activity_changes(station_ids: Iterable[int], *, now: datetime | None = None) -> int:
    """Opens an inactivity span for each of these stations now inactive without one, and closes the
    open span of each now active again (coverage stops and resumes expecting their plays). Called after
    any registry change of these stations; idempotent. Returns how many spans were opened or closed."""
    now = now or timezone.now()
    ids = list(station_ids)
    if not ids:
        return 0
    with transaction.atomic():
        # One JSON parameter per id list: a whole-city import may name 12,000 stations. The stations'
        # rows are locked (in id order) so two changes of one station never both open a span.
        active = dict(Station.objects.select_for_update().filter(pk__in=bulk.id_list(ids)).order_by("pk")
                      .values_list("pk", "active"))
        open_ids = set(StationInactivity.objects
                       .filter(station_id__in=bulk.id_list(ids), until__isnull=True)
                       .values_list("station_id", flat=True))
        to_open = [pk for pk, is_active in active.items() if not is_active and pk not in open_ids]
        to_close = [pk for pk in open_ids if active.get(pk)]
        StationInactivity.objects.bulk_create([StationInactivity(station_id=pk, since=now) for pk in to_open],
                                              batch_size=1000)
        closed = (StationInactivity.objects.filter(station_id__in=bulk.id_list(to_close), until__isnull=True)
                  .update(until=now)) if to_close else 0
    return len(to_open) + closed
