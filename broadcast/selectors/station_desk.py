"""What a station operator's page reads: their station, its placed items of a few days by slot, the
outcome reported so far (and the last reason a play failed)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from broadcast.models import PlaybackReport, PlaylistItem
from broadcast.selectors.playlists import parse_slot_bounds
from stations import roles
from stations.models import Station, StationOperator, slot_words

# The default slot names of the registry in words (as the newsroom's listening page says them).
OUTCOME_LABELS = {"played": "Đã phát", "failed": "Không phát được", "interrupted": "Bị ngắt",
                  "skipped": "Bỏ qua", "": "Chưa báo"}


def operator_station(user: Any) -> Station | None:
    """The station a station operator runs (None: not tied to one, or not a station operator)."""
    if not roles.has_role(user, roles.STATION_OPERATOR) or not getattr(user, "pk", None):
        return None
    link = StationOperator.objects.select_related("station").filter(user_id=user.pk).first()
    return link.station if link else None


def station_of_active_operator(user_id: int) -> Station | None:
    """The station of this user if they are still an active station operator (signed links die with that)."""
    link = (StationOperator.objects.select_related("station")
            .filter(user_id=user_id, user__is_active=True, user__groups__name=roles.STATION_OPERATOR).first())
    return link.station if link else None


def desk_items(station: Station) -> Any:
    """Placed items of the station's playlists, with what a row shows."""
    return (PlaylistItem.objects.filter(playlist__station_id=station.pk, position__isnull=False)
            .select_related("playlist", "revision"))


def desk_item(station: Station, item_id: int) -> PlaylistItem | None:
    return desk_items(station).filter(pk=item_id).first()


def last_failures(station: Station, item_ids: Iterable[int]) -> dict[int, str]:
    """The latest reason given for a failed play of each of these items (items without one: absent)."""
    rows = (PlaybackReport.objects.filter(station=station, playlist_item_id__in=list(item_ids),
                                          status=PlaybackReport.Status.FAILED)
            .exclude(error="").order_by("received_at", "id")
            .values_list("playlist_item_id", "error"))
    return dict(rows)  # later rows overwrite earlier ones


@dataclass
class SlotGroup:
    name: str
    label: str
    start: dt.datetime | None
    end: dt.datetime | None
    items: list[PlaylistItem] = field(default_factory=list)


@dataclass
class DeskDay:
    date: dt.date
    slots: list[SlotGroup]

    @property
    def item_count(self) -> int:
        return sum(len(s.items) for s in self.slots)

    @property
    def total_ms(self) -> int:
        return sum(i.duration_ms for s in self.slots for i in s.items)

    @property
    def size_bytes(self) -> int:
        seen: dict[str, int] = {}
        for s in self.slots:
            for i in s.items:
                seen[i.sha256] = i.rendition.size_bytes or 0
        return sum(seen.values())


def desk_days(station: Station, dates: list[dt.date]) -> list[DeskDay]:
    """Each date's placed items grouped by slot, in the station's slot order (a slot the station no longer
    has keeps its items, after the others). Two queries: the items, the failures' reasons."""
    items = list(desk_items(station).filter(playlist__date__in=dates).select_related("rendition")
                 .order_by("playlist__date", "position"))
    failed = [i.pk for i in items if i.report_status == PlaybackReport.Status.FAILED]
    reasons = last_failures(station, failed) if failed else {}
    days = []
    for date in dates:
        groups = {s.name: SlotGroup(s.name, slot_words(s.name), s.start, s.end)
                  for s in parse_slot_bounds(station.slots, date)}
        for item in items:
            if item.playlist.date != date:
                continue
            item.failure_reason = reasons.get(item.pk, "")
            group = groups.get(item.slot)
            if group is None:
                group = groups[item.slot] = SlotGroup(item.slot, slot_words(item.slot), None, None)
            group.items.append(item)
        days.append(DeskDay(date, list(groups.values())))
    return days
