"""Reads for the emergency pages: the bulletins that may be sent, how many stations a target reaches, and
who has confirmed an emergency sent (its immediate schedule's plays in the "now" slot, one per station).

Each function runs a fixed number of queries whatever the number of stations; the confirmations are read
through the item's schedule index (PlaylistItem.schedule_id) and nothing else.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from stations.models import EMERGENCY_SLOT, AdminUnit, Station
from stations.selectors import Scope

from ..models import AudioRendition, Bulletin, PlaylistItem, Schedule
from .playlists import LOCAL_TZ, local_today, schedule_is_airable, target_station_ids

# Whom to phone first: a station that stopped calling, then one that never called, then a late one.
CALL_ORDER = {Station.Status.SILENT: 0, Station.Status.NEVER: 1, Station.Status.LATE: 2, Station.Status.ONLINE: 3}
CONFIRMED = "confirmed"
TROUBLE = "trouble"  # started but not played through: failed, interrupted, skipped
WAITING = "waiting"
OUTCOME_LABELS = {CONFIRMED: "Đã phát", TROUBLE: "Bắt đầu/lỗi", WAITING: "Chưa xác nhận"}
REPORT_LABELS = {"failed": "Lỗi phát", "interrupted": "Bị ngắt", "skipped": "Bỏ qua"}
DUPLICATE_WINDOW = dt.timedelta(minutes=1)


def _local(moment: dt.datetime | None, fmt: str) -> str:
    # strftime on the local time: a template date filter per row costs more than the query on 600 rows.
    return moment.astimezone(LOCAL_TZ).strftime(fmt) if moment else ""


def outcome_of(report_status: str) -> str:
    if report_status == "played":
        return CONFIRMED
    return TROUBLE if report_status else WAITING


# ---------------------------------------------------------------- before sending


def sendable_bulletins() -> list[Bulletin]:
    """Approved emergency bulletins whose live revision has ready audio (what schedule_is_airable allows),
    newest first. One query."""
    candidates = (Bulletin.objects.filter(
        priority=Bulletin.Priority.EMERGENCY, live_revision__approved_at__isnull=False,
        live_revision__rendition__status=AudioRendition.Status.READY,
    ).exclude(status=Bulletin.Status.ARCHIVED)
        .select_related("live_revision__rendition").order_by("-updated_at", "-id"))
    return [b for b in candidates if schedule_is_airable(b)]


def commune_units() -> list[AdminUnit]:
    """Commune-level units of the two-level map that hold at least one active station (for targeting)."""
    return list(AdminUnit.objects.filter(
        map=AdminUnit.Map.SINCE_2025, level=AdminUnit.Level.COMMUNE, stations__active=True,
    ).annotate(station_count=Count("stations")).order_by("name", "code").only("id", "code", "name"))


@dataclass
class Reach:
    """How many active stations a target reaches, and how many of them cannot be heard from right now."""

    total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def silent(self) -> int:
        return self.by_status.get(Station.Status.SILENT, 0)

    @property
    def never(self) -> int:
        return self.by_status.get(Station.Status.NEVER, 0)

    @property
    def late(self) -> int:
        return self.by_status.get(Station.Status.LATE, 0)


def reach(targets: dict[str, Any]) -> Reach:
    """The stations a (validated) target spec reaches now, counted by health status. Two queries."""
    ids = target_station_ids(targets)
    if not ids:
        return Reach()
    counts = dict(Station.objects.filter(pk__in=ids).order_by().values_list("status").annotate(n=Count("id")))
    return Reach(total=len(ids), by_status=counts)


def recent_duplicate(bulletin: Bulletin, now: dt.datetime | None = None) -> Schedule | None:
    """A live immediate schedule of this bulletin made within the last minute (a second click, another tab)."""
    now = now or timezone.now()
    return (Schedule.objects.filter(bulletin=bulletin, immediate=True, cancelled_at__isnull=True,
                                    created_at__gte=now - DUPLICATE_WINDOW).order_by("-created_at").first())


# ---------------------------------------------------------------- after sending


@dataclass
class Counts:
    targeted: int = 0
    delivered: int = 0  # stations whose playlist holds the play (the build runs right after sending)
    confirmed: int = 0
    trouble: int = 0
    waiting: int = 0

    @property
    def percent(self) -> int:
        return round(100 * self.confirmed / self.targeted) if self.targeted else 0


@dataclass
class Row:
    station_id: int
    code: str
    name: str
    status: str
    status_label: str
    last_seen_at: dt.datetime | None
    contact_name: str
    contact_phone: str
    place: str
    outcome: str
    report_status: str
    reported_at: dt.datetime | None

    @property
    def outcome_label(self) -> str:
        if self.outcome == TROUBLE:
            return REPORT_LABELS.get(self.report_status, OUTCOME_LABELS[TROUBLE])
        return OUTCOME_LABELS[self.outcome]

    @property
    def last_seen_label(self) -> str:
        return _local(self.last_seen_at, "%H:%M %d/%m/%Y") or "chưa bao giờ"

    @property
    def reported_label(self) -> str:
        return _local(self.reported_at, "%H:%M:%S") or "—"

    @property
    def tel(self) -> str:
        """The phone number as a tel: link wants it (digits and a leading +)."""
        phone = self.contact_phone.strip()
        return ("+" if phone.startswith("+") else "") + "".join(c for c in phone if c.isdigit())


@dataclass
class Confirmations:
    schedule: Schedule
    counts: Counts
    rows: list[Row]
    to_call: list[Row]
    day: dt.date
    whole: bool  # the viewer sees every station (not an operator's part)

    @property
    def finished(self) -> bool:
        """Nothing more to wait for: every targeted station confirmed, the schedule was cancelled, or its
        day is over (the play left the stations' playlists at midnight)."""
        all_in = self.counts.targeted > 0 and self.counts.confirmed >= self.counts.targeted
        return all_in or self.schedule.cancelled_at is not None or local_today() != self.day


def emergency_day(schedule: Schedule) -> dt.date:
    return timezone.localdate(schedule.created_at, LOCAL_TZ)


def emergency_items(schedule: Schedule, scope: Scope) -> Any:
    """The schedule's immediate plays at stations in `scope` (where they stand now)."""
    return PlaylistItem.objects.filter(schedule_id=schedule.pk, slot=EMERGENCY_SLOT).filter(
        scope.q("playlist__station__"))


def visible_emergency(schedule_id: int, scope: Scope) -> Schedule | None:
    """The immediate schedule, if the viewer may see it: everyone who sees every station; an operator only
    when the emergency reached a station of theirs. Two queries at most."""
    schedule = (Schedule.objects.filter(pk=schedule_id, immediate=True)
                .select_related("bulletin__live_revision__rendition", "created_by", "cancelled_by").first())
    if schedule is None:
        return None
    if scope.everything or emergency_items(schedule, scope).exists():
        return schedule
    return None


def confirmations(schedule: Schedule, scope: Scope) -> Confirmations:
    """Who confirmed the emergency, station by station, and whom to phone. One query for any number of
    stations (the items with their station joined)."""
    # Plain tuples, not model instances: 600 stations polled every few seconds.
    fields = ("report_status", "reported_at", "playlist__station_id", "playlist__station__code",
              "playlist__station__name", "playlist__station__status", "playlist__station__last_seen_at",
              "playlist__station__contact_name", "playlist__station__contact_phone",
              "playlist__station__unit__name", "playlist__station__district__name")
    labels = dict(Station.Status.choices)
    rows = [
        Row(station_id=pk, code=code, name=name, status=status, status_label=labels.get(status, status),
            last_seen_at=last_seen, contact_name=contact_name, contact_phone=contact_phone,
            place=unit_name or district_name or "", outcome=outcome_of(report_status),
            report_status=report_status, reported_at=reported_at)
        for (report_status, reported_at, pk, code, name, status, last_seen, contact_name, contact_phone,
             unit_name, district_name)
        in emergency_items(schedule, scope).order_by("playlist__station__code").values_list(*fields)
    ]
    tally = Counter(r.outcome for r in rows)
    delivered = len(rows)
    whole = scope.everything
    # Before the build has run (seconds after sending) the schedule's own count is the target; an
    # operator's part is what reached their stations.
    targeted = max(schedule.target_station_count, delivered) if whole else delivered
    counts = Counts(targeted=targeted, delivered=delivered, confirmed=tally[CONFIRMED], trouble=tally[TROUBLE],
                    waiting=targeted - tally[CONFIRMED] - tally[TROUBLE])
    to_call = sorted((r for r in rows if r.outcome != CONFIRMED),
                     key=lambda r: (CALL_ORDER.get(r.status, 9), r.outcome != TROUBLE, r.code))
    return Confirmations(schedule=schedule, counts=counts, rows=rows, to_call=to_call,
                         day=emergency_day(schedule), whole=whole)


@dataclass
class RecentEmergency:
    schedule: Schedule
    counts: Counts


def recent_emergencies(limit: int = 10) -> list[RecentEmergency]:
    """The latest emergencies sent, with their confirmation counts. Two queries."""
    schedules = list(Schedule.objects.filter(immediate=True).select_related("bulletin", "created_by")
                     .order_by("-created_at", "-id")[:limit])
    if not schedules:
        return []
    tallies = {row["schedule_id"]: row for row in (
        PlaylistItem.objects.filter(schedule_id__in=[s.pk for s in schedules], slot=EMERGENCY_SLOT)
        .order_by().values("schedule_id").annotate(
            delivered=Count("id"), confirmed=Count("id", filter=Q(report_status="played")),
            trouble=Count("id", filter=~Q(report_status="") & ~Q(report_status="played")),
        ))}
    out = []
    for s in schedules:
        t = tallies.get(s.pk, {"delivered": 0, "confirmed": 0, "trouble": 0})
        targeted = max(s.target_station_count, t["delivered"])
        out.append(RecentEmergency(s, Counts(targeted=targeted, delivered=t["delivered"], confirmed=t["confirmed"],
                                             trouble=t["trouble"],
                                             waiting=targeted - t["confirmed"] - t["trouble"])))
    return out
