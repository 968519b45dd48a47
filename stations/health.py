"""Station health, the healthchecks way.

Every heartbeat stores a deadline (`now + period + grace`) on the station row (indexed). A periodic
sweep claims stations whose deadline has passed with a conditional UPDATE (status still what we
read, deadline still overdue) and records each change as a `StationStatusChange` row:

    never ──heartbeat──► online ──deadline passed──► late ──deadline + silent_after──► silent
                           ▲                                                            │
                           └──────────────────────── heartbeat ◄───────────────────────┘
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import Station, StationStatusChange

SWEEP_BATCH = 1000


def heartbeat_window() -> timedelta:
    """How long after a heartbeat a station still counts as online."""
    return timedelta(
        seconds=settings.STATION_HEARTBEAT_PERIOD_SECONDS + settings.STATION_HEARTBEAT_GRACE_SECONDS
    )


def silent_after() -> timedelta:
    return timedelta(seconds=settings.STATION_SILENT_AFTER_SECONDS)


def status_at(deadline: datetime | None, now: datetime) -> str:
    """The status a station with this stored deadline has at `now` (what the sweep converges to)."""
    if deadline is None:
        return Station.Status.NEVER
    if now <= deadline:
        return Station.Status.ONLINE
    if now <= deadline + silent_after():
        return Station.Status.LATE
    return Station.Status.SILENT


@transaction.atomic
def record_heartbeat(
    station: Station,
    *,
    agent_version: str = "",
    state: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Station:
    """Marks the station seen at `now`, refreshes its deadline, and records a change back to online."""
    now = now or timezone.now()
    locked = Station.objects.select_for_update().only("id", "status").get(pk=station.pk)
    previous = locked.status
    fields: dict[str, Any] = {
        "last_seen_at": now,
        "heartbeat_deadline": now + heartbeat_window(),
        "status": Station.Status.ONLINE,
    }
    if agent_version:
        fields["agent_version"] = agent_version[:64]
    if state is not None:
        fields["agent_state"] = state
    if previous != Station.Status.ONLINE:
        fields["status_changed_at"] = now
        StationStatusChange.objects.create(
            station_id=station.pk, from_status=previous, to_status=Station.Status.ONLINE, at=now
        )
    Station.objects.filter(pk=station.pk).update(**fields)
    for name, value in fields.items():
        setattr(station, name, value)
    return station


def last_seen_is_stale(last_seen_at: datetime | None, now: datetime) -> bool:
    """Whether a request at `now` should write last_seen_at (at most once per the resolution)."""
    resolution = timedelta(seconds=settings.STATION_LAST_SEEN_RESOLUTION_SECONDS)
    return last_seen_at is None or now - last_seen_at >= resolution


def touch_last_seen(station_id: int, last_seen_at: datetime | None, now: datetime | None = None) -> bool:
    """Records that the station made a request. Callers pass the last_seen_at they already read, so a
    station seen recently costs nothing; otherwise one conditional UPDATE (two web workers racing write
    once). Health status and the heartbeat deadline stay the heartbeat's business."""
    now = now or timezone.now()
    if not last_seen_is_stale(last_seen_at, now):
        return False
    cutoff = now - timedelta(seconds=settings.STATION_LAST_SEEN_RESOLUTION_SECONDS)
    return bool(
        Station.objects.filter(pk=station_id)
        .filter(Q(last_seen_at__isnull=True) | Q(last_seen_at__lte=cutoff))
        .update(last_seen_at=now)
    )


@dataclass
class SweepResult:
    late: int = 0
    silent: int = 0

    @property
    def changed(self) -> int:
        return self.late + self.silent


def _claim(from_status: str, to_status: str, overdue_before: datetime, now: datetime) -> int:
    """Moves stations in `from_status` whose deadline is before `overdue_before` to `to_status`.

    Rows are locked (skip_locked, so two sweeps never fight, and a heartbeat holding the row wins) and
    updated with the same condition; one change row is written per station moved.
    """
    moved = 0
    while True:
        with transaction.atomic():
            overdue = Station.objects.filter(status=from_status, heartbeat_deadline__lt=overdue_before)
            ids = list(
                overdue.select_for_update(skip_locked=True).order_by("heartbeat_deadline")
                .values_list("id", flat=True)[:SWEEP_BATCH]
            )
            if not ids:
                return moved
            # The rows are locked (SQLite: the whole database, IMMEDIATE transactions), so the
            # conditional UPDATE moves exactly `ids`.
            overdue.filter(pk__in=ids).update(status=to_status, status_changed_at=now)
            StationStatusChange.objects.bulk_create(
                [StationStatusChange(station_id=i, from_status=from_status, to_status=to_status, at=now)
                 for i in ids]
            )
            moved += len(ids)
            if len(ids) < SWEEP_BATCH:
                return moved


def sweep_statuses(now: datetime | None = None) -> SweepResult:
    """Brings every station's stored status in line with its deadline at `now`. Safe to run twice."""
    now = now or timezone.now()
    result = SweepResult()
    silent_cutoff = now - silent_after()
    # Long overdue first, so a station not swept for a while goes straight to silent (one change row).
    result.silent += _claim(Station.Status.ONLINE, Station.Status.SILENT, silent_cutoff, now)
    result.silent += _claim(Station.Status.LATE, Station.Status.SILENT, silent_cutoff, now)
    result.late += _claim(Station.Status.ONLINE, Station.Status.LATE, now, now)
    return result
