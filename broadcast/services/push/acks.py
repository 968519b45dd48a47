"""Stations' acknowledgements of an emergency, over MQTT or from their report queue: stored per
(schedule, station), idempotently, states only moving forward (EmergencyDelivery.apply_ack)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from stations.models import Station

from ...models import EmergencyDelivery, Schedule
from ...push.messages import Ack, AckError, parse_ack
from ...selectors.push import station_holds_emergency

MAX_BATCH = 500
UNKNOWN = "Đài không có tin khẩn cấp này trong danh sách phát."
TOO_FAR = "Thời điểm xác nhận lệch quá xa giờ máy chủ."


class AckBatchTooLarge(ValueError):
    pass


@dataclass
class AckResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected}


def parse_batch(raw: Any) -> tuple[list[tuple[int, Ack]], list[dict[str, Any]]]:
    """The valid acknowledgements with their index, and the rejected ones' field errors."""
    if not isinstance(raw, list):
        raise AckError({"acks": ["Cần danh sách các xác nhận."]})
    if len(raw) > MAX_BATCH:
        raise AckBatchTooLarge(f"Tối đa {MAX_BATCH} xác nhận mỗi lần gửi.")
    valid, rejected = [], []
    for index, data in enumerate(raw):
        try:
            valid.append((index, parse_ack(data)))
        except AckError as exc:
            rejected.append({"index": index, "errors": exc.errors})
    return valid, rejected


def _expiry_for(schedules: dict[int, Schedule], schedule_id: int, now: dt.datetime) -> dt.datetime:
    created = schedules[schedule_id].created_at
    return max(now, created + dt.timedelta(seconds=settings.PUSH_COMMAND_TTL_S))


def record_acks(station: Station, acks: Sequence[tuple[int, Ack]], *,
                now: dt.datetime | None = None) -> AckResult:
    """Stores one station's acknowledgements (index, ack). One the station has no play for is rejected; a
    delivery the station learned of by polling (never rung, or push off) is made on its first ack."""
    now = now or timezone.now()
    result = AckResult()
    if not acks:
        return result
    skew = dt.timedelta(seconds=settings.REPORTS_MAX_FUTURE_SECONDS)
    schedule_ids = {ack.schedule_id for _, ack in acks}
    with transaction.atomic():
        rows = {row.schedule_id: row for row in EmergencyDelivery.objects.select_for_update().filter(
            station=station, schedule_id__in=schedule_ids)}
        missing = schedule_ids - set(rows)
        if missing:
            held = station_holds_emergency(station.pk, missing)
            schedules = Schedule.objects.in_bulk(held)
            EmergencyDelivery.objects.bulk_create(
                [EmergencyDelivery(schedule_id=pk, station=station, expires_at=_expiry_for(schedules, pk, now))
                 for pk in held], ignore_conflicts=True)
            rows.update({row.schedule_id: row for row in EmergencyDelivery.objects.select_for_update().filter(
                station=station, schedule_id__in=held)})
        changed: dict[int, set[str]] = {}
        for index, ack in acks:
            row = rows.get(ack.schedule_id)
            if row is None:
                result.rejected.append({"index": index, "errors": {"schedule": [UNKNOWN]}})
                continue
            if ack.at > now + skew:
                result.rejected.append({"index": index, "errors": {"at": [TOO_FAR]}})
                continue
            fields = row.apply_ack(ack.state, ack.at, ack.reason)
            if fields:
                changed.setdefault(row.pk, set()).update(fields)
                result.accepted += 1
            else:
                result.duplicates += 1
        by_pk = {row.pk: row for row in rows.values()}
        for pk, fields in changed.items():
            by_pk[pk].save(update_fields=sorted(fields))
    return result


def ingest_acks(station: Station, raw: Any, *, now: dt.datetime | None = None) -> AckResult:
    """An HTTP batch: parse, store the valid ones, list the others (one bad ack never sinks the batch)."""
    valid, rejected = parse_batch(raw)
    result = record_acks(station, valid, now=now)
    result.rejected = sorted(rejected + result.rejected, key=lambda r: r["index"])
    return result
