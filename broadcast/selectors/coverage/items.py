"""Which planned plays a day expects, and which of them are still pending."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet

from broadcast.models import PlaylistItem, StationInactivity
from broadcast.selectors.playlists import LOCAL_TZ, parse_slot_bounds
from stations.models import Station
from stations.selectors import EVERYTHING, Scope


def grace() -> timedelta:
    return timedelta(seconds=settings.COVERAGE_GRACE_SECONDS)


def pending_q(day: date, now: datetime, stations: QuerySet[Station] | list[tuple[int, Any]]) -> Q:
    """Items whose slot (on `day`, per their station's slots) has not ended plus grace at `now`.

    Decided per item's own station, so a district's count is exactly the sum of its stations' counts:
    an item in a slot its station defines waits for that slot's end; any other item (an immediate
    emergency, a slot since renamed) waits for its own end.
    """
    day_start = datetime.combine(day, time.min, LOCAL_TZ)
    if now >= day_start + timedelta(days=2) + grace():
        return Q(pk__in=[])  # every slot of that day is long over: the common, historical case
    open_ids: dict[str, list[int]] = {}
    closed_ids: dict[str, list[int]] = {}
    all_ids: list[int] = []
    rows = stations.values_list("id", "slots") if isinstance(stations, QuerySet) else stations  # (id, slots) rows
    for station_id, slots in rows:
        all_ids.append(station_id)
        # The same slot bounds the builder packed the items into.
        for slot in parse_slot_bounds(slots, day):
            bucket = open_ids if now < slot.end + grace() else closed_ids
            bucket.setdefault(slot.name, []).append(station_id)
    own_end = Q(ends_at__gt=now - grace()) | Q(ends_at__isnull=True, starts_at__gt=now - grace())
    known = set(open_ids) | set(closed_ids)
    q = ~Q(slot__in=known) & own_end
    for name in known:
        opened, closed = open_ids.get(name, []), closed_ids.get(name, [])
        defined = set(opened) | set(closed)
        undefined = [pk for pk in all_ids if pk not in defined]
        # Each condition names the shorter id list; with one slot set for all stations it names none.
        if not closed and not undefined:
            q |= Q(slot=name)
        elif not undefined:
            q |= Q(slot=name) & (Q(playlist__station_id__in=opened) if len(opened) <= len(closed)
                                 else ~Q(playlist__station_id__in=closed))
        else:
            q |= Q(slot=name, playlist__station_id__in=opened)
            q |= Q(slot=name, playlist__station_id__in=undefined) & own_end
    return q


def inactive_q(start: datetime, end: datetime) -> Q | None:
    """Items planned while their station was deactivated, among those starting in [start, end), or None
    when no station was deactivated then (the usual case: the aggregate then carries no extra
    condition). Subqueries over the spans, so the condition is the same size for one deactivated
    station or thousands."""
    spans = StationInactivity.objects.filter(Q(until__isnull=True) | Q(until__gt=start), since__lt=end)
    if not spans.exists():
        return None
    whole = spans.filter(Q(until__isnull=True) | Q(until__gte=end), since__lte=start)
    covering = StationInactivity.objects.filter(
        Q(until__isnull=True) | Q(until__gt=OuterRef("starts_at")),
        station_id=OuterRef("playlist__station_id"), since__lte=OuterRef("starts_at"),
    )
    return Q(Exists(covering)) | Q(playlist__station_id__in=whole.values("station_id"))


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, LOCAL_TZ)
    return start, start + timedelta(days=1)


def planned_items(
    day: date, *, scope: Scope = EVERYTHING, bulletin_id: int | None = None,
    station_ids: Iterable[int] | None = None,
) -> QuerySet[PlaylistItem]:
    """The expected plays of a day: placed items of that day's playlists (unplaced ones never air),
    except those planned while their station was deactivated."""
    qs = PlaylistItem.objects.filter(playlist__date=day, position__isnull=False)
    inactive = inactive_q(*day_bounds(day))
    if inactive is not None:
        qs = qs.exclude(inactive)
    if not scope.everything:
        qs = qs.filter(scope.q("playlist__"))  # the units each playlist was made under
    if bulletin_id is not None:
        qs = qs.filter(bulletin_id=bulletin_id)
    if station_ids is not None:
        qs = qs.filter(playlist__station_id__in=list(station_ids))
    return qs
