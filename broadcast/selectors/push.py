"""Reads for push delivery: what each station holds of an emergency, and the deliveries' tallies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.urls import reverse

from stations.models import EMERGENCY_SLOT
from stations.selectors import Scope

from ..models import EmergencyDelivery, Playlist, PlaylistItem, Schedule
from ..push.messages import EmergencyTarget


def audio_url(sha256: str) -> str:
    """Absolute when the server knows its public address; else a path the station joins to its own."""
    return settings.PUBLIC_BASE_URL + reverse("station-audio", kwargs={"sha256": sha256})


def emergency_targets(schedule: Schedule, day: dt.date,
                      station_ids: Iterable[int] | None = None) -> dict[int, EmergencyTarget]:
    """Station id → its emergency play of this schedule in its playlist of `day`. One query."""
    items = PlaylistItem.objects.filter(schedule_id=schedule.pk, slot=EMERGENCY_SLOT, playlist__date=day)
    if station_ids is not None:
        items = items.filter(playlist__station_id__in=list(station_ids))
    rows = items.order_by("playlist__station_id", "position").values_list(
        "playlist__station_id", "playlist__station__code", "pk", "playlist__version", "sha256")
    targets: dict[int, EmergencyTarget] = {}
    for station_id, code, item_id, version, sha256 in rows:
        targets.setdefault(station_id, EmergencyTarget(code=code, item_id=item_id, date=day, version=version,
                                                       sha256=sha256, audio_url=audio_url(sha256)))
    return targets


def playlist_versions_on(day: dt.date, station_ids: Iterable[int]) -> dict[int, int]:
    """Station id → version of its playlist of `day` (0: none). One query."""
    return dict(Playlist.objects.filter(date=day, station_id__in=list(station_ids))
                .values_list("station_id", "version"))


def stations_holding_emergencies(station_ids: Iterable[int], schedule_ids: Iterable[int]) -> set[tuple[int, int]]:
    """(station id, schedule id) of these immediate schedules' plays in these stations' playlists. One
    query."""
    return set(PlaylistItem.objects.filter(
        schedule_id__in=list(schedule_ids), slot=EMERGENCY_SLOT, playlist__station_id__in=list(station_ids),
        schedule__immediate=True).values_list("playlist__station_id", "schedule_id").distinct())


# The delivery states a supervisor reads, in order; "unreachable" is listed on its own (a flag, not a
# state: a late acknowledgement clears it).
UNREACHABLE = "unreachable"
DELIVERY_STATE_LABELS = {**dict(EmergencyDelivery.State.choices), UNREACHABLE: "Không liên lạc được"}
DELIVERY_FILTERS = {
    **{state: Q(state=state) for state in EmergencyDelivery.State.values},
    UNREACHABLE: Q(unreachable_at__isnull=False),
}


# How far the stations got, each counting every station that got at least that far (a station whose
# "received" was lost but whose "started" arrived has been reached all the same).
_PLAYED_ON = ["started", "completed", "interrupted"]
FUNNEL_LABELS = {"rung": "Đã gửi", "received": "Đã nhận", "downloaded": "Đã tải", "started": "Đã bắt đầu phát",
                 "completed": "Đã phát xong", "failed": "Lỗi", "interrupted": "Bị ngắt",
                 UNREACHABLE: "Không liên lạc được"}
FUNNEL_FILTERS = {
    "rung": Q(first_sent_at__isnull=False),
    "received": Q(state__in=EmergencyDelivery.ACK_STATES),
    "downloaded": Q(downloaded_at__isnull=False) | Q(state__in=["downloaded", *_PLAYED_ON]),
    "started": Q(started_at__isnull=False) | Q(state__in=_PLAYED_ON),
    "completed": Q(state="completed"),
    "failed": Q(state="failed"),
    "interrupted": Q(state="interrupted"),
    UNREACHABLE: Q(unreachable_at__isnull=False),
}


def delivery_counts(schedule_id: int, scope: Scope) -> dict[str, Any]:
    """Of the deliveries to stations in `scope`: `total`, how many are in each state now (`states`), and
    how many got at least that far (`reached`: rung, received, downloaded, started, ended well or not,
    unreachable). One query."""
    rows = EmergencyDelivery.objects.filter(scope.q("station__"), schedule_id=schedule_id)
    tally = rows.aggregate(
        total=Count("id"),
        **{f"s_{state}": Count("id", filter=condition) for state, condition in DELIVERY_FILTERS.items()},
        **{f"r_{step}": Count("id", filter=condition) for step, condition in FUNNEL_FILTERS.items()},
    )
    return {"total": tally["total"] or 0,
            "states": {state: tally[f"s_{state}"] or 0 for state in DELIVERY_FILTERS},
            "reached": {step: tally[f"r_{step}"] or 0 for step in FUNNEL_FILTERS}}


def deliveries(schedule_id: int, scope: Scope, state: str = "") -> QuerySet[EmergencyDelivery]:
    """The schedule's deliveries to stations in `scope` (optionally in one state of DELIVERY_FILTERS), by
    station code."""
    rows = EmergencyDelivery.objects.filter(scope.q("station__"), schedule_id=schedule_id).select_related("station")
    if state:
        rows = rows.filter(DELIVERY_FILTERS[state])
    return rows.order_by("station__code")
