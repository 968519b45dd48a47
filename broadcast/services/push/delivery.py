"""Sending an emergency's doorbell to its stations, ringing again, and listing who cannot be reached.

Each function is safe to run twice (a task retried, two beats at once): deliveries are claimed with a
row lock that skips rows another run holds, and a command's id is stable, so a station that hears one
twice acts once. The broker being down never loses anything: the attempt is recorded as failed, the
delivery stays "sent" and the sweep rings again; meanwhile stations find the play by polling.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ...models import EmergencyDelivery, PushAttempt, Schedule
from ...push import messages
from ...push.messages import EmergencyTarget
from ...push.publisher import Publication, publish_configured
from ...selectors.emergency import emergency_day
from ...selectors.playlists import LOCAL_TZ
from ...selectors.push import emergency_targets, playlist_versions_on
from ..schedules import rebuild_for_schedule

log = logging.getLogger("loa.push")


@dataclass
class PushStats:
    deliveries: int = 0
    published: int = 0
    failed: int = 0
    unreachable: int = 0
    error: str = ""


def delivery_expiry(schedule: Schedule, now: dt.datetime) -> dt.datetime:
    """When a delivery made now stops being worth ringing (and its command is ignored)."""
    # The play leaves the stations' playlists at the end of its day: ringing after that would be noise.
    end_of_day = dt.datetime.combine(emergency_day(schedule) + dt.timedelta(days=1), dt.time(), LOCAL_TZ)
    return min(now + dt.timedelta(seconds=settings.PUSH_COMMAND_TTL_S), end_of_day)


def _prefix() -> str:
    return settings.MQTT_TOPIC_PREFIX


def _ttl(expires_at: dt.datetime, now: dt.datetime) -> int:
    return max(1, int((expires_at - now).total_seconds()))


def _record(rows: Sequence[EmergencyDelivery], done: Sequence[bool], kind: str, now: dt.datetime,
            error: str, by: str = "") -> PushStats:
    attempts = [
        PushAttempt(delivery=row, kind=kind, at=now, by=by,
                    outcome=PushAttempt.Outcome.PUBLISHED if ok else PushAttempt.Outcome.FAILED,
                    error="" if ok else (error or "Máy chủ tin không nhận trong thời hạn.")[:300])
        for row, ok in zip(rows, done, strict=True)
    ]
    PushAttempt.objects.bulk_create(attempts)
    published = sum(done)
    return PushStats(deliveries=len(rows), published=published, failed=len(rows) - published, error=error)


def _emergency_publications(schedule: Schedule, rows: Sequence[EmergencyDelivery], now: dt.datetime,
                            targets: dict[int, EmergencyTarget] | None = None,
                            ) -> tuple[list[EmergencyDelivery], list[Publication]]:
    """The command of each delivery whose station still holds the play: to its command topic and, retained,
    to its current-emergency topic. Returns the rows it built for, in order (two publications each).
    `targets`: the stations' plays when the caller has just read them."""
    if targets is None:
        targets = emergency_targets(schedule, emergency_day(schedule), [row.station_id for row in rows])
    built, publications = [], []
    for row in rows:
        target = targets.get(row.station_id)
        if target is None:
            continue
        expires_at = max(row.expires_at, now)
        payload = messages.encode(messages.emergency_command(
            schedule.pk, target, issued_at=now, expires_at=expires_at, tz=LOCAL_TZ))
        ttl = _ttl(expires_at, now)
        built.append(row)
        publications += [
            Publication(messages.station_topic(_prefix(), target.code, "cmd"), payload, expiry_s=ttl),
            Publication(messages.station_topic(_prefix(), target.code, "emergency"), payload, retain=True,
                        expiry_s=ttl),
        ]
    return built, publications


def _publish_pairs(schedule: Schedule, rows: Sequence[EmergencyDelivery], kind: str, now: dt.datetime,
                   by: str = "", targets: dict[int, EmergencyTarget] | None = None) -> PushStats:
    built, publications = _emergency_publications(schedule, rows, now, targets)
    done, error = publish_configured(publications)
    # A delivery counts as rung when its command (the first of its pair) reached the broker.
    return _record(built, done[0::2], kind, now, error, by)


def push_emergency(schedule_id: int, *, now: dt.datetime | None = None) -> PushStats:
    """After an immediate schedule is made or cancelled: rebuild the playlists it touches, then ring every
    station that holds its play (or, cancelled, tell them to stop). Safe to run twice."""
    schedule = Schedule.objects.filter(pk=schedule_id, immediate=True).first()
    if schedule is None:
        return PushStats()
    rebuild_for_schedule(schedule_id)
    now = now or timezone.now()
    if schedule.cancelled_at is not None:
        return cancel_at_stations(schedule, now=now)
    day = emergency_day(schedule)
    targets = emergency_targets(schedule, day)
    expires_at = delivery_expiry(schedule, now)
    EmergencyDelivery.objects.bulk_create(
        [EmergencyDelivery(schedule=schedule, station_id=station_id, item_id=target.item_id,
                           expires_at=expires_at) for station_id, target in targets.items()],
        ignore_conflicts=True,
    )
    if not settings.MQTT_URL:
        # Push off: the deliveries still collect the acknowledgements stations send after polling.
        return PushStats(deliveries=len(targets))
    with transaction.atomic():
        rows = list(EmergencyDelivery.objects.select_for_update(skip_locked=True)
                    .filter(schedule=schedule, state=EmergencyDelivery.State.PENDING))
        EmergencyDelivery.objects.filter(pk__in=[r.pk for r in rows], state=EmergencyDelivery.State.PENDING).update(
            state=EmergencyDelivery.State.SENT, first_sent_at=now, last_sent_at=now, attempts=F("attempts") + 1)
    return _publish_pairs(schedule, rows, PushAttempt.Kind.SEND, now, targets=targets)


def cancel_at_stations(schedule: Schedule, *, now: dt.datetime | None = None) -> PushStats:
    """Tells every station the emergency reached to stop it (a station that started reports it
    interrupted) and clears its retained current emergency. Safe to run twice (the id is the same)."""
    now = now or timezone.now()
    rows = list(EmergencyDelivery.objects.filter(schedule=schedule).select_related("station"))
    if not rows or not settings.MQTT_URL:
        return PushStats()
    day = emergency_day(schedule)
    versions = playlist_versions_on(day, [row.station_id for row in rows])
    expires_at = delivery_expiry(schedule, now)
    ttl = _ttl(expires_at, now)
    publications = []
    for row in rows:
        code = row.station.code
        payload = messages.encode(messages.cancel_command(
            schedule.pk, code, date=day, version=versions.get(row.station_id, 0), issued_at=now,
            expires_at=expires_at, tz=LOCAL_TZ))
        publications += [
            Publication(messages.station_topic(_prefix(), code, "cmd"), payload, expiry_s=ttl),
            # An empty retained message removes the retained one: no current emergency.
            Publication(messages.station_topic(_prefix(), code, "emergency"), b"", retain=True),
        ]
    done, error = publish_configured(publications)
    return _record(rows, done[0::2], PushAttempt.Kind.CANCEL, now, error)


def resend(schedule_id: int, station_ids: Sequence[int] | None = None, *, by: str = "",
           now: dt.datetime | None = None) -> PushStats:
    """Rings again, at once, the stations of a live emergency that have not acknowledged "received" (a
    person's request: all of them, or the ones chosen)."""
    now = now or timezone.now()
    schedule = Schedule.objects.filter(pk=schedule_id, immediate=True, cancelled_at__isnull=True).first()
    if schedule is None:
        return PushStats()
    with transaction.atomic():
        rows = EmergencyDelivery.objects.select_for_update(skip_locked=True).filter(
            schedule=schedule, state__in=EmergencyDelivery.AWAITING_RECEIPT, expires_at__gt=now)
        if station_ids is not None:
            rows = rows.filter(station_id__in=list(station_ids))
        rows = list(rows)
        _mark_sent(rows, now)
    return _publish_pairs(schedule, rows, PushAttempt.Kind.RESEND, now, by)


def _mark_sent(rows: Sequence[EmergencyDelivery], now: dt.datetime) -> None:
    EmergencyDelivery.objects.filter(pk__in=[r.pk for r in rows]).update(
        state=EmergencyDelivery.State.SENT, last_sent_at=now, attempts=F("attempts") + 1)
    EmergencyDelivery.objects.filter(pk__in=[r.pk for r in rows], first_sent_at__isnull=True).update(
        first_sent_at=now)


def escalate(*, now: dt.datetime | None = None) -> PushStats:
    """The sweep (beat): ring again the stations that have not acknowledged "received" PUSH_RESEND_AFTER_S
    after the last ring, and list as unreachable those still silent PUSH_UNREACHABLE_AFTER_S after the
    first. An unreachable station is not rung again by the sweep (a person phones it, or re-sends)."""
    now = now or timezone.now()
    if not settings.MQTT_URL:
        return PushStats()  # nothing was rung: nobody is overdue
    waiting = EmergencyDelivery.objects.filter(
        state__in=EmergencyDelivery.AWAITING_RECEIPT, expires_at__gt=now, schedule__cancelled_at__isnull=True)
    unreachable = waiting.filter(
        unreachable_at__isnull=True,
        first_sent_at__lte=now - dt.timedelta(seconds=settings.PUSH_UNREACHABLE_AFTER_S),
    ).update(unreachable_at=now)
    stats = PushStats(unreachable=unreachable)
    with transaction.atomic():
        due = list(waiting.select_for_update(skip_locked=True).filter(
            unreachable_at__isnull=True,
            last_sent_at__lte=now - dt.timedelta(seconds=settings.PUSH_RESEND_AFTER_S),
        ).select_related("schedule"))
        _mark_sent(due, now)
    by_schedule: dict[int, list[EmergencyDelivery]] = {}
    for row in due:
        by_schedule.setdefault(row.schedule_id, []).append(row)
    for rows in by_schedule.values():
        sent = _publish_pairs(rows[0].schedule, rows, PushAttempt.Kind.RESEND, now)
        stats.deliveries += sent.deliveries
        stats.published += sent.published
        stats.failed += sent.failed
        stats.error = stats.error or sent.error
    return stats
