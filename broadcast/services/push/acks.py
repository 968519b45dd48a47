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
from ...selectors.push import stations_holding_emergencies
from .delivery import delivery_expiry

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


_ACK_FIELDS = ["state", "received_at", "downloaded_at", "started_at", "ended_at", "reason", "unreachable_at"]


def record_acks(station: Station, acks: Sequence[tuple[int, Ack]], *,
                now: dt.datetime | None = None) -> AckResult:
    """Stores one station's acknowledgements (index, ack). One the station has no play for is rejected; a
    delivery the station learned of by polling (never rung, or push off) is made on its first ack."""
    return record_acks_of_stations({station.pk: acks}, now=now)[station.pk]


def record_acks_of_stations(acks: dict[int, Sequence[tuple[int, Ack]]], *,
                            now: dt.datetime | None = None) -> dict[int, AckResult]:
    """record_acks for many stations at once (the MQTT listener's batch): one transaction and a fixed
    number of statements for any number of stations, so a city's acknowledgements in the seconds after
    an emergency cost the database a few statements per batch, not a transaction per station."""
    now = now or timezone.now()
    results = {station_id: AckResult() for station_id in acks}
    pairs = {(station_id, ack.schedule_id) for station_id, items in acks.items() for _, ack in items}
    if not pairs:
        return results
    skew = dt.timedelta(seconds=settings.REPORTS_MAX_FUTURE_SECONDS)

    def locked(where_pairs: set[tuple[int, int]]) -> dict[tuple[int, int], EmergencyDelivery]:
        # The filter may match a few rows outside the pairs (another station's delivery of the same
        # schedule): they are locked too, in one order, which costs nothing but a little contention.
        found = EmergencyDelivery.objects.select_for_update().filter(
            station_id__in={s for s, _ in where_pairs}, schedule_id__in={e for _, e in where_pairs}).order_by("pk")
        return {(row.station_id, row.schedule_id): row for row in found
                if (row.station_id, row.schedule_id) in where_pairs}

    with transaction.atomic():
        rows = locked(pairs)
        missing = pairs - set(rows)
        if missing:
            held = stations_holding_emergencies({s for s, _ in missing}, {e for _, e in missing}) & missing
            schedules = Schedule.objects.in_bulk({e for _, e in held})
            EmergencyDelivery.objects.bulk_create(
                [EmergencyDelivery(schedule_id=e, station_id=s, expires_at=delivery_expiry(schedules[e], now))
                 for s, e in held], ignore_conflicts=True)
            rows.update(locked(held))
        changed: dict[int, EmergencyDelivery] = {}
        for station_id, items in acks.items():
            result = results[station_id]
            for index, ack in items:
                row = rows.get((station_id, ack.schedule_id))
                if row is None:
                    result.rejected.append({"index": index, "errors": {"schedule": [UNKNOWN]}})
                elif ack.at > now + skew:
                    result.rejected.append({"index": index, "errors": {"at": [TOO_FAR]}})
                elif row.apply_ack(ack.state, ack.at, ack.reason):
                    changed[row.pk] = row
                    result.accepted += 1
                else:
                    result.duplicates += 1
        if changed:
            EmergencyDelivery.objects.bulk_update(list(changed.values()), _ACK_FIELDS)
    return results


def ingest_acks(station: Station, raw: Any, *, now: dt.datetime | None = None) -> AckResult:
    """An HTTP batch: parse, store the valid ones, list the others (one bad ack never sinks the batch)."""
    valid, rejected = parse_batch(raw)
    result = record_acks(station, valid, now=now)
    result.rejected = sorted(rejected + result.rejected, key=lambda r: r["index"])
    return result
