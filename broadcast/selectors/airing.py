"""Where one bulletin has aired: its schedules and, over all their days, plays and stations so far.

The figures follow the coverage rules (broadcast.selectors.coverage): placed items are the expected plays,
minus those planned while their station was deactivated; `played` once a played report arrived, `failed`
for the failed outcomes, `pending` while unreported and not yet past its end plus the grace period (the
item's own end: across many days, not the per-slot rule of one day's report). Constant queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from broadcast.models import PlaylistItem, Schedule
from stations.selectors import EVERYTHING, Scope

from .access import schedules_reaching
from .coverage import FAILED_OUTCOMES, Counts, day_bounds, grace, inactive_q


@dataclass
class Airing:
    schedules: list[Schedule] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)
    stations_planned: int = 0
    stations_reached: int = 0  # stations that reported at least one full play
    first_day: Any = None
    last_day: Any = None

    @property
    def scheduled(self) -> bool:
        return bool(self.schedules)


def bulletin_airing(bulletin_id: int, *, scope: Scope = EVERYTHING, now: datetime | None = None) -> Airing:
    """Its schedules (newest first; an operator: those reaching their scope) and its plays so far (an
    operator: in the units their playlists were made under)."""
    now = now or timezone.now()
    schedules = Schedule.objects.filter(bulletin_id=bulletin_id).select_related("created_by", "cancelled_by")
    airing = Airing(schedules=list(schedules_reaching(schedules, scope)))
    if not airing.schedules:
        return airing
    items = PlaylistItem.objects.filter(bulletin_id=bulletin_id, position__isnull=False)
    if not scope.everything:
        items = items.filter(scope.q("playlist__"))
    days = items.aggregate(first=Min("playlist__date"), last=Max("playlist__date"))
    if days["first"] is None:
        return airing
    airing.first_day, airing.last_day = days["first"], days["last"]
    inactive = inactive_q(day_bounds(days["first"])[0], day_bounds(days["last"])[1])
    if inactive is not None:
        items = items.exclude(inactive)
    cutoff = now - grace()
    pending = Q(report_status="") & (Q(ends_at__gt=cutoff) | Q(ends_at__isnull=True, starts_at__gt=cutoff))
    row = items.aggregate(
        expected=Count("id"),
        played=Count("id", filter=Q(report_status="played")),
        failed=Count("id", filter=Q(report_status__in=FAILED_OUTCOMES)),
        pending=Count("id", filter=pending),
        planned=Count("playlist__station_id", distinct=True),
        reached=Count("playlist__station_id", distinct=True, filter=Q(report_status="played")),
    )
    airing.counts = Counts(row["expected"], row["played"], row["failed"], row["pending"])
    airing.stations_planned, airing.stations_reached = row["planned"], row["reached"]
    return airing


def targets_summary(targets: dict[str, Any]) -> str:
    """A schedule's targets in a few Vietnamese words: "Tất cả các đài" or "2 xã/phường, 3 đài"."""
    if targets.get("all"):
        return "Tất cả các đài"
    parts = []
    for key, label in (("districts", "quận/huyện (bản đồ cũ)"), ("units", "xã/phường"), ("stations", "đài"),
                       ("kinds", "loại đài")):
        values = targets.get(key) or []
        if values:
            parts.append(f"{len(values)} {label}")
    return ", ".join(parts) or "Không có đối tượng"
