"""Reads for the emergency pages: the bulletins that may be sent, how many stations a target reaches, and
who has confirmed an emergency sent (its immediate schedule's plays in the "now" slot, one per station).

Each function runs a fixed number of queries whatever the number of stations, and none reads every
station's row: the live page is polled every few seconds at up to ~12,000 stations, so it gets counts
(one aggregate) and the first stations to phone; the rest is read a page at a time. The confirmations
are read through the item's schedule index (PlaylistItem.schedule_id) and nothing else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Count, IntegerField, OuterRef, Q, Subquery, Value, When
from django.utils import timezone

from stations.models import EMERGENCY_SLOT, AdminUnit, Station
from stations.selectors import Scope

from ..models import AudioRendition, Bulletin, EmergencyDelivery, PlaylistItem, Schedule
from .playlists import LOCAL_TZ, local_today, schedule_is_airable, target_station_ids

# Whom to phone first: a station that stopped calling, then one that never called, then a late one.
CALL_ORDER = {Station.Status.SILENT: 0, Station.Status.NEVER: 1, Station.Status.LATE: 2, Station.Status.ONLINE: 3}
CONFIRMED = "confirmed"
TROUBLE = "trouble"  # started but not played through: failed, interrupted, skipped
WAITING = "waiting"
TO_CALL = "to_call"  # not confirmed: trouble or waiting
OUTCOME_LABELS = {CONFIRMED: "Đã phát", TROUBLE: "Bắt đầu/lỗi", WAITING: "Chưa xác nhận"}
REPORT_LABELS = {"failed": "Lỗi phát", "interrupted": "Bị ngắt", "skipped": "Bỏ qua"}
# The states a list of stations may be narrowed to ("" = every station), and what each reads.
STATE_LABELS = {TO_CALL: "Cần gọi điện", CONFIRMED: "Đã phát", TROUBLE: "Bắt đầu/lỗi", WAITING: "Chưa xác nhận"}
STATE_FILTERS = {
    CONFIRMED: Q(report_status="played"),
    TROUBLE: ~Q(report_status="") & ~Q(report_status="played"),
    WAITING: Q(report_status=""),
    TO_CALL: ~Q(report_status="played"),
}
# What the station's acknowledgements say while no report has come (the play may be under way).
PUSH_PROGRESS = {"received": "đã nhận tin", "downloaded": "đã tải", "started": "đang phát",
                 "completed": "đã phát xong", "failed": "lỗi", "interrupted": "bị ngắt"}
TO_CALL_LIMIT = 200  # stations to phone sent with each poll; the others are on the full list


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


def recent_duplicate(bulletin: Bulletin, *, within: dt.timedelta, now: dt.datetime | None = None) -> Schedule | None:
    """The latest live immediate schedule of this bulletin made `within` before now."""
    now = now or timezone.now()
    return (Schedule.objects.filter(bulletin=bulletin, immediate=True, cancelled_at__isnull=True,
                                    created_at__gte=now - within).order_by("-created_at").first())


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
    push_state: str = ""  # the doorbell's delivery state ("" : never rung nor acknowledged)
    push_unreachable: bool = False

    @property
    def outcome_label(self) -> str:
        if self.outcome == TROUBLE:
            return REPORT_LABELS.get(self.report_status, OUTCOME_LABELS[TROUBLE])
        label = OUTCOME_LABELS[self.outcome]
        if self.outcome == WAITING and self.push_unreachable:
            return f"{label} · không liên lạc được"
        if self.outcome == WAITING and self.push_state in PUSH_PROGRESS:
            return f"{label} · {PUSH_PROGRESS[self.push_state]}"
        return label

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


def emergency_day(schedule: Schedule) -> dt.date:
    return timezone.localdate(schedule.created_at, LOCAL_TZ)


def is_finished(schedule: Schedule, counts: Counts) -> bool:
    """Nothing more to wait for: every targeted station confirmed, the schedule was cancelled, or its day
    is over (the play left the stations' playlists at midnight)."""
    all_in = counts.targeted > 0 and counts.confirmed >= counts.targeted
    return all_in or schedule.cancelled_at is not None or local_today() != emergency_day(schedule)


@dataclass
class Confirmations:
    schedule: Schedule
    counts: Counts
    to_call: list[Row]  # the first stations to phone, at most TO_CALL_LIMIT
    whole: bool  # the viewer sees every station (not an operator's part)

    @property
    def to_call_total(self) -> int:
        return self.counts.delivered - self.counts.confirmed

    @property
    def more_to_call(self) -> int:
        return self.to_call_total - len(self.to_call)

    @property
    def finished(self) -> bool:
        return is_finished(self.schedule, self.counts)


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


def _tally() -> dict[str, Count]:
    return {"delivered": Count("id"), "confirmed": Count("id", filter=STATE_FILTERS[CONFIRMED]),
            "trouble": Count("id", filter=STATE_FILTERS[TROUBLE])}


def _counts(schedule: Schedule, delivered: int, confirmed: int, trouble: int, whole: bool) -> Counts:
    # Before the build has run (seconds after sending) the schedule's own count is the target; an
    # operator's part is what reached their stations.
    targeted = max(schedule.target_station_count, delivered) if whole else delivered
    return Counts(targeted=targeted, delivered=delivered, confirmed=confirmed, trouble=trouble,
                  waiting=targeted - confirmed - trouble)


def counts(schedule: Schedule, scope: Scope) -> Counts:
    """How many stations in `scope` got, confirmed, or are still silent about the emergency. One query."""
    tally = emergency_items(schedule, scope).aggregate(**_tally())
    return _counts(schedule, tally["delivered"], tally["confirmed"], tally["trouble"], scope.everything)


# Plain tuples, not model instances: a poll every few seconds, a page of up to a few hundred rows.
ROW_FIELDS = ("report_status", "reported_at", "playlist__station_id", "playlist__station__code",
              "playlist__station__name", "playlist__station__status", "playlist__station__last_seen_at",
              "playlist__station__contact_name", "playlist__station__contact_phone",
              "playlist__station__unit__name", "playlist__station__district__name", "push_state",
              "push_unreachable_at")
# Whom to phone first (CALL_ORDER), within a status a station that reported trouble, then by code.
CALL_PRIORITY = (
    Case(*[When(playlist__station__status=status, then=Value(n)) for status, n in CALL_ORDER.items()],
         default=Value(9), output_field=IntegerField()),
    Case(When(report_status="", then=Value(1)), default=Value(0), output_field=IntegerField()),
    "playlist__station__code",
)


def station_items(schedule: Schedule, scope: Scope, state: str = "") -> Any:
    """The stations' plays in one state (see STATE_FILTERS; "" = all) as ROW_FIELDS tuples, ready to slice
    or paginate: the stations to phone in calling order, any other state by station code."""
    delivery = EmergencyDelivery.objects.filter(schedule_id=schedule.pk, station_id=OuterRef("playlist__station_id"))
    items = emergency_items(schedule, scope).annotate(
        push_state=Subquery(delivery.values("state")[:1]),
        push_unreachable_at=Subquery(delivery.values("unreachable_at")[:1]))
    if state:
        items = items.filter(STATE_FILTERS[state])
    order = CALL_PRIORITY if state == TO_CALL else ("playlist__station__code",)
    return items.order_by(*order).values_list(*ROW_FIELDS)


def rows(values: Any) -> list[Row]:
    """Rows of station_items tuples (a slice or a page of them)."""
    labels = dict(Station.Status.choices)
    return [
        Row(station_id=pk, code=code, name=name, status=status, status_label=labels.get(status, status),
            last_seen_at=last_seen, contact_name=contact_name, contact_phone=contact_phone,
            place=unit_name or district_name or "", outcome=outcome_of(report_status),
            report_status=report_status, reported_at=reported_at, push_state=push_state or "",
            push_unreachable=push_unreachable_at is not None)
        for (report_status, reported_at, pk, code, name, status, last_seen, contact_name, contact_phone,
             unit_name, district_name, push_state, push_unreachable_at) in values
    ]


def confirmations(schedule: Schedule, scope: Scope, limit: int | None = None) -> Confirmations:
    """The counts and the first `limit` (TO_CALL_LIMIT) stations to phone. Two queries for any number of
    stations."""
    limit = TO_CALL_LIMIT if limit is None else limit
    to_call = rows(station_items(schedule, scope, TO_CALL)[:limit])
    return Confirmations(schedule=schedule, counts=counts(schedule, scope), to_call=to_call,
                         whole=scope.everything)


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
        .order_by().values("schedule_id").annotate(**_tally()))}
    empty = {"delivered": 0, "confirmed": 0, "trouble": 0}
    return [RecentEmergency(s, _counts(s, **{k: tallies.get(s.pk, empty)[k] for k in empty}, whole=True))
            for s in schedules]
