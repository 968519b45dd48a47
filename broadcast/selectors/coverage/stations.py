"""Stations' side of coverage: who needs attention, health counts, one station's day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Case, Count, QuerySet, When
from django.utils import timezone

from broadcast.models import PlaybackReport, PlaylistItem
from stations.models import Station, StationStatusChange

from .counts import FAILED_OUTCOMES, Counts
from .items import pending_q, planned_items


def stations_needing_attention(
    stations: QuerySet[Station], *, limit: int = 200,
) -> list[Station]:
    """Active silent, late and never-connected stations: silent first, longest unheard first."""
    order = Case(When(status=Station.Status.SILENT, then=0), When(status=Station.Status.LATE, then=1), default=2)
    return list(
        stations.filter(active=True, status__in=[Station.Status.SILENT, Station.Status.LATE, Station.Status.NEVER])
        .select_related("district").order_by(order, "last_seen_at", "code")[:limit]
    )


def status_counts(stations: QuerySet[Station]) -> dict[str, int]:
    """How many active stations are in each health status."""
    counts = dict(stations.filter(active=True).values("status").annotate(n=Count("id")).order_by()
                  .values_list("status", "n"))
    return {status: counts.get(status, 0) for status in Station.Status.values}


@dataclass
class Timeline:
    station: Station
    day: date
    items: list[PlaylistItem]
    reports: list[PlaybackReport]
    status_changes: list[StationStatusChange]
    counts: Counts
    item_outcomes: dict[int, str]


def station_timeline(station: Station, day: date, *, now: datetime | None = None) -> Timeline:
    """One station's day: planned plays with their outcome, the reports and the health changes."""
    now = now or timezone.now()
    tz = timezone.get_default_timezone()
    start = datetime.combine(day, time.min, tz)
    items = list(
        planned_items(day, station_ids=[station.pk]).select_related("bulletin").order_by("starts_at", "position")
    )
    pending_ids = set(
        planned_items(day, station_ids=[station.pk]).filter(report_status="")
        .filter(pending_q(day, now, Station.objects.filter(pk=station.pk))).values_list("id", flat=True)
    )
    outcomes = {}
    for item in items:
        if item.report_status == "played":
            outcomes[item.pk] = "played"
        elif item.report_status in FAILED_OUTCOMES:
            outcomes[item.pk] = "failed"
        else:
            outcomes[item.pk] = "pending" if item.pk in pending_ids else "missed"
    counts = Counts(
        expected=len(items), played=sum(o == "played" for o in outcomes.values()),
        failed=sum(o == "failed" for o in outcomes.values()), pending=len(pending_ids),
    )
    reports = list(PlaybackReport.objects.filter(station=station, playlist_date=day).order_by("started_at", "id"))
    changes = list(
        StationStatusChange.objects.filter(station=station, at__gte=start, at__lt=start + timedelta(days=1))
        .order_by("at", "id")
    )
    return Timeline(station, day, items, reports, changes, counts, outcomes)
