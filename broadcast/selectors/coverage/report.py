"""Coverage of a day by unit of the map in force (districts before 1 July 2025, commune-level units since),
and by station: one pass over the day's items."""


from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from broadcast.models import Playlist, PlaylistItem
from stations.models import AdminUnit, District, Station, map_in_force
from stations.selectors import EVERYTHING, Scope

from .counts import FAILED_OUTCOMES, GROUP_DISTRICT, UNASSIGNED_NAME, Counts, CoverageReport, UnitCoverage
from .items import pending_q, planned_items


def _aggregate(items: QuerySet[PlaylistItem], group_by: str, pending: Q) -> dict[int, Counts]:
    rows = items.values(group_by).annotate(
        n_expected=Count("id"),
        n_played=Count("id", filter=Q(report_status="played")),
        n_failed=Count("id", filter=Q(report_status__in=FAILED_OUTCOMES)),
        n_pending=Count("id", filter=Q(report_status="") & pending),
    ).order_by()
    return {
        row[group_by]: Counts(row["n_expected"], row["n_played"], row["n_failed"], row["n_pending"])
        for row in rows
    }


def _by_station_and_group(
    items: QuerySet[PlaylistItem], group_by: str, pending: Q,
) -> tuple[dict[int | None, Counts], dict[int | None, int]]:
    """Counts per group, and per group the stations that stayed silent on the day (plays were due, slot
    over, and not one was reported): one pass over the day's items, by station, summed here."""
    rows = items.values("playlist__station_id", group_by).annotate(
        n_expected=Count("id"),
        n_played=Count("id", filter=Q(report_status="played")),
        n_failed=Count("id", filter=Q(report_status__in=FAILED_OUTCOMES)),
        n_pending=Count("id", filter=Q(report_status="") & pending),
    ).order_by().values_list(group_by, "n_expected", "n_played", "n_failed", "n_pending")
    sums: dict[int | None, list[int]] = {}
    silent: dict[int | None, int] = {}
    for group, expected, played, failed, pending_n in rows:
        total = sums.get(group)
        if total is None:
            total = sums[group] = [0, 0, 0, 0]
        total[0] += expected
        total[1] += played
        total[2] += failed
        total[3] += pending_n
        # report_status is "played", a failed outcome, or "" (unreported): nothing reported = neither.
        if played + failed == 0 and expected > pending_n:
            silent[group] = silent.get(group, 0) + 1
    counts = {group: Counts(*total) for group, total in sums.items()}
    return counts, silent


def coverage_report(
    day: date, *, scope: Scope = EVERYTHING, bulletin_id: int | None = None, now: datetime | None = None,
) -> CoverageReport:
    """City (or a scope's) coverage for `day`, grouped by the map in force that day: a row per district
    before 1 July 2025, per commune-level unit since. Plays are grouped by the units their playlist
    was made under (a station moved later leaves its past where it was), never where it stands now."""
    now = now or timezone.now()
    the_map = map_in_force(day)
    by_unit = the_map == AdminUnit.Map.SINCE_2025
    field_name = "unit_id" if by_unit else "district_id"
    items = planned_items(day, scope=scope, bulletin_id=bulletin_id)
    # Slots of the stations whose plays are counted (by snapshot), so pending is decided per item's station.
    if scope.everything:
        counted_stations = Station.objects.all()
    else:
        counted_stations = Station.objects.filter(
            pk__in=Playlist.objects.filter(scope.q(), date=day).values("station_id"))
    pending = pending_q(day, now, counted_stations)
    counts_by, silent = _by_station_and_group(items, f"playlist__{field_name}", pending)
    # Units with stations standing in them now (in scope) get a row even with nothing planned.
    with_stations = set(Station.objects.filter(scope.q()).values_list(field_name, flat=True).distinct().order_by())
    shown = (with_stations | set(counts_by)) - {None}
    # All units of the map read at once (a few thousand rows nationally): cheaper than naming them by id.
    # Every unit of the registry is shown to who sees everything (one with no station is news), and an
    # operator's own units.
    if by_unit:
        units = AdminUnit.objects.filter(map=AdminUnit.Map.SINCE_2025, level=AdminUnit.Level.COMMUNE)
        shown |= scope.unit_ids or set()
        groups = [(code, name, pk) for pk, code, name in units.order_by("code").values_list("pk", "code", "name")
                  if scope.everything or pk in shown]
        if None in counts_by:
            groups.append(("", UNASSIGNED_NAME, None))
        level = AdminUnit.Level.COMMUNE
    else:
        groups = [(code, name, pk) for pk, code, name in District.objects.order_by("code").values_list("pk", "code", "name")
                  if pk in shown]
        level = GROUP_DISTRICT
    report = CoverageReport(date=day, map=the_map, totals=Counts())
    for code, name, pk in groups:
        counts = counts_by.get(pk, Counts())
        report.totals.add(counts)
        report.rows.append(UnitCoverage(level, code, name, counts, silent.get(pk, 0)))
    return report


def coverage_by_station(
    day: date, stations: Iterable[Station], *, bulletin_id: int | None = None, now: datetime | None = None,
) -> dict[int, Counts]:
    """Counts per station id for the given stations (a page of them); stations with nothing: zeros."""
    now = now or timezone.now()
    stations = list(stations)
    ids = [s.pk for s in stations]
    items = planned_items(day, bulletin_id=bulletin_id, station_ids=ids)
    counts = _aggregate(items, "playlist__station_id", pending_q(day, now, Station.objects.filter(pk__in=ids)))
    return {pk: counts.get(pk, Counts()) for pk in ids}


def stations_in_coverage(day: date, stations: QuerySet[Station], *, scope: Scope = EVERYTHING) -> QuerySet[Station]:
    """The stations a per-station coverage lists for `day`: the active ones and any other with plays
    counted that day (deactivated later in the day), so the rows add up to the totals. A scope takes a
    station by the units its playlist of that day was made under, or where it stands now when it has none."""
    counted = planned_items(day).values("playlist__station_id")
    listed = stations.filter(Q(active=True) | Q(pk__in=counted))
    if scope.everything:
        return listed
    of_day = Playlist.objects.filter(date=day)
    return listed.filter(Q(pk__in=of_day.filter(scope.q()).values("station_id"))
                         | (scope.q() & ~Q(pk__in=of_day.values("station_id"))))


@dataclass(frozen=True)
class Place:
    """Where a station's records of a day were made: its district and commune-level unit."""

    district_code: str
    district_name: str
    unit_code: str | None
    unit_name: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"district": self.district_code, "district_name": self.district_name,
                "unit": self.unit_code, "unit_name": self.unit_name}


def station_places(day: date, stations: Iterable[Station]) -> dict[int, Place]:
    """Per station id: the district and unit its playlist of `day` was made under; a station without a
    playlist that day, where it stands now (stations with district and unit selected)."""
    stations = list(stations)
    recorded = {
        row[0]: row[1:] for row in Playlist.objects.filter(date=day, station_id__in=[s.pk for s in stations])
        .values_list("station_id", "district__code", "district__name", "unit__code", "unit__name")
    }
    places = {}
    for station in stations:
        if station.pk in recorded:
            dcode, dname, ucode, uname = recorded[station.pk]
            if dcode is None:  # a playlist written around the snapshot: its station's district
                dcode, dname = station.district.code, station.district.name
            places[station.pk] = Place(dcode, dname, ucode, uname)
        else:
            unit = station.unit
            places[station.pk] = Place(station.district.code, station.district.name,
                                       unit.code if unit else None, unit.name if unit else None)
    return places
