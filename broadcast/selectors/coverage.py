"""Coverage: planned plays (playlist items) against what stations reported, by unit of the map in force
on the day (districts before 1 July 2025, commune-level units since) and by station.

An item is `played` once a played report arrived (late ones count), `failed` when only failed,
skipped or interrupted reports arrived, `pending` while its slot has not ended plus the grace period,
and `missed` after that. coverage_pct = played / (expected − pending), the share of the plays already
due; it is always given with played / expected and pending beside it. One aggregate over items.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Case, Count, Exists, OuterRef, Q, QuerySet, When
from django.utils import timezone

from broadcast.models import PlaybackReport, Playlist, PlaylistItem, StationInactivity
from broadcast.selectors.playlists import LOCAL_TZ, parse_slot_bounds
from stations.models import AdminUnit, District, Station, StationStatusChange, map_in_force
from stations.selectors import EVERYTHING, Scope

FAILED_OUTCOMES = ("failed", "skipped", "interrupted")


@dataclass
class Counts:
    expected: int = 0
    played: int = 0
    failed: int = 0
    pending: int = 0

    @property
    def missed(self) -> int:
        return self.expected - self.played - self.failed - self.pending

    @property
    def due(self) -> int:
        return self.expected - self.pending

    @property
    def coverage_pct(self) -> float | None:
        """Share of the plays already due; never shown without played / expected and pending beside it."""
        return round(100.0 * self.played / self.due, 1) if self.due else None

    @property
    def played_of_expected(self) -> str:
        """The headline figure: an emergency heard by 1 of 556 stations reads "1 / 556", not "100 %"."""
        return f"{self.played} / {self.expected}"

    def share_of_expected(self, part: int) -> float:
        return round(100.0 * part / self.expected, 1) if self.expected else 0.0

    @property
    def played_share(self) -> float:
        return self.share_of_expected(self.played)

    @property
    def pending_share(self) -> float:
        return self.share_of_expected(self.pending)

    def add(self, other: Counts) -> None:
        self.expected += other.expected
        self.played += other.played
        self.failed += other.failed
        self.pending += other.pending

    def as_dict(self) -> dict[str, Any]:
        return {
            "expected": self.expected, "played": self.played, "failed": self.failed,
            "missed": self.missed, "pending": self.pending, "coverage_pct": self.coverage_pct,
            "played_of_expected": self.played_of_expected,
        }


GROUP_DISTRICT, GROUP_UNIT = "district", "unit"
UNASSIGNED_NAME = "Chưa gán xã/phường"


@dataclass
class UnitCoverage:
    """One row of a day's coverage: a district (map before 1 July 2025) or a commune-level unit of the
    two-level map; code "" is the row of plays whose playlist was made before its station had a unit."""

    level: str
    code: str
    name: str
    counts: Counts
    silent_stations: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, **self.counts.as_dict(), "silent_stations": self.silent_stations}


@dataclass
class CoverageReport:
    """A day's coverage grouped by the map in force that day: `rows` are districts before 1 July 2025,
    commune-level units since; totals are always the sum of the rows."""

    date: date
    map: str
    totals: Counts
    rows: list[UnitCoverage] = field(default_factory=list)

    @property
    def grouping(self) -> str:
        return GROUP_UNIT if self.map == AdminUnit.Map.SINCE_2025 else GROUP_DISTRICT

    @property
    def by_unit(self) -> bool:
        return self.grouping == GROUP_UNIT

    def as_dict(self) -> dict[str, Any]:
        key = "units" if self.by_unit else "districts"
        return {"date": self.date.isoformat(), "map": self.map, "grouping": self.grouping,
                "totals": self.totals.as_dict(), key: [row.as_dict() for row in self.rows]}


def grace() -> timedelta:
    return timedelta(seconds=settings.COVERAGE_GRACE_SECONDS)


def pending_q(day: date, now: datetime, stations: QuerySet[Station]) -> Q:
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
    for station_id, slots in stations.values_list("id", "slots"):
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
