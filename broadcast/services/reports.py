"""Proof of play: ingesting playback reports and folding them into the planned items.

A batch is validated item by item; valid reports are stored even when others are rejected. The pair
(station, report_id) is unique in the database, so a retried or reordered batch changes nothing.
Each stored report snapshots what it refers to, so later edits or deletions never change the log.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from broadcast.models import PlaybackReport, PlaylistItem
from stations.models import Station

# When several reports concern one planned play, the strongest outcome wins; `played` beats all.
OUTCOME_RANK: dict[str, int] = {"": 0, "skipped": 1, "failed": 2, "interrupted": 3, "played": 4}
REPORT_ID_MAX = 64
ERROR_TEXT_MAX = 2000

MSG_NOT_OBJECT = "Mỗi báo cáo phải là một đối tượng JSON."
MSG_REQUIRED = "Trường này là bắt buộc."
MSG_REPORT_ID = f"report_id phải là chuỗi từ 1 đến {REPORT_ID_MAX} ký tự."
MSG_DUP_IN_BATCH = "report_id bị lặp lại trong cùng một lô (đã nhận báo cáo ở vị trí {first})."
MSG_ITEM_INVALID = "playlist_item phải là số nguyên dương."
MSG_ITEM_UNKNOWN = "Không tìm thấy mục phát này trong danh sách phát của đài."
MSG_STATUS = "Trạng thái không hợp lệ: {value!r} (played, failed, skipped hoặc interrupted)."
MSG_DATETIME = "Thời gian không hợp lệ, cần dạng ISO 8601 (ví dụ 2025-01-31T06:00:00+07:00)."
MSG_FUTURE = "Thời gian ở quá xa trong tương lai (quá {hours} giờ so với máy chủ)."
MSG_END_BEFORE_START = "Thời điểm kết thúc phải sau thời điểm bắt đầu."
MSG_ERROR_TEXT = "error phải là chuỗi ký tự."


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


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:
        return None
    if parsed is None:
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)  # read as Asia/Ho_Chi_Minh, the stations' local time
    return parsed


def _validate(index: int, raw: Any, now: datetime) -> tuple[_Valid | None, dict[str, list[str]]]:
    if not isinstance(raw, dict):
        return None, {"non_field_errors": [MSG_NOT_OBJECT]}
    errors: dict[str, list[str]] = {}
    report_id = raw.get("report_id")
    if report_id is None or report_id == "":
        errors["report_id"] = [MSG_REQUIRED]
    elif isinstance(report_id, bool) or not isinstance(report_id, (str, int)) or len(str(report_id)) > REPORT_ID_MAX:
        errors["report_id"] = [MSG_REPORT_ID]
    item = raw.get("playlist_item")
    if item is None:
        errors["playlist_item"] = [MSG_REQUIRED]
    elif isinstance(item, bool) or not isinstance(item, int) or item <= 0:
        if isinstance(item, str) and item.isdigit() and int(item) > 0:
            item = int(item)
        else:
            errors["playlist_item"] = [MSG_ITEM_INVALID]
    status = raw.get("status")
    if status is None:
        errors["status"] = [MSG_REQUIRED]
    elif status not in PlaybackReport.Status.values:
        errors["status"] = [MSG_STATUS.format(value=status)]
    limit = now + timedelta(seconds=settings.REPORTS_MAX_FUTURE_SECONDS)
    hours = settings.REPORTS_MAX_FUTURE_SECONDS // 3600
    started = _parse_time(raw.get("started_at"))
    if raw.get("started_at") in (None, ""):
        errors["started_at"] = [MSG_REQUIRED]
    elif started is None:
        errors["started_at"] = [MSG_DATETIME]
    elif started > limit:
        errors["started_at"] = [MSG_FUTURE.format(hours=hours)]
    ended = None
    if raw.get("ended_at") not in (None, ""):
        ended = _parse_time(raw.get("ended_at"))
        if ended is None:
            errors["ended_at"] = [MSG_DATETIME]
        elif ended > limit:
            errors["ended_at"] = [MSG_FUTURE.format(hours=hours)]
        elif started is not None and ended < started:
            errors["ended_at"] = [MSG_END_BEFORE_START]
    error_text = raw.get("error") or ""
    if not isinstance(error_text, str):
        errors["error"] = [MSG_ERROR_TEXT]
    if errors:
        return None, errors
    return _Valid(index, str(report_id), int(item), status, started, ended, error_text[:ERROR_TEXT_MAX]), {}


def _reject(result: IngestResult, index: int, raw: Any, errors: dict[str, list[str]]) -> None:
    report_id = raw.get("report_id") if isinstance(raw, dict) else None
    result.rejected.append({"index": index, "report_id": report_id, "errors": errors})


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
            new.append(v)
            rows.append(
                PlaybackReport(
                    station_id=station.pk, report_id=v.report_id, playlist_item_id=v.item_id,
                    status=v.status, started_at=v.started_at, ended_at=v.ended_at, error=v.error,
                    playlist_date=item["playlist__date"], bulletin_id_snapshot=item["bulletin_id"],
                    bulletin_title=item["revision__title"], revision_number=item["revision__number"],
                    sha256=item["sha256"], slot=item["slot"], planned_start=item["starts_at"],
                )
            )
        PlaybackReport.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        result.accepted = len(rows)
        fold_outcomes(((v.item_id, v.status) for v in new), now=now)
    result.rejected.sort(key=lambda r: r["index"])
    return result


def _items_of_station(station: Station, item_ids: set[int]) -> dict[int, dict[str, Any]]:
    """The planned items among `item_ids` that belong to this station's playlists (others: unknown)."""
    rows = PlaylistItem.objects.filter(pk__in=item_ids, playlist__station_id=station.pk).values(
        "id", "playlist__date", "bulletin_id", "revision__title", "revision__number", "sha256", "slot",
        "starts_at",
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
