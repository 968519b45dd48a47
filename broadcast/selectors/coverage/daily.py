"""Coverage per day over a range (the dashboard's 30-day line, a month's report): one aggregate grouped
by day, with the same counting rules as coverage_report for each day.

Queries do not grow with stations or days in the usual case: one aggregate, one look for deactivations,
and for the days still within reach of their slots (today, yesterday) one read of the stations' slots.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from broadcast.models import Playlist, PlaylistItem
from stations.models import AdminUnit, District, Station, map_in_force
from stations.selectors import EVERYTHING, Scope

from .counts import FAILED_OUTCOMES, GROUP_DISTRICT, UNASSIGNED_NAME, Counts, CoverageReport, UnitCoverage
from .items import day_bounds, grace, inactive_q, pending_q


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _range_items(first: date, last: date, scope: Scope, now: datetime) -> tuple[QuerySet[PlaylistItem], Q]:
    """The expected plays of the days `first`…`last` (as planned_items gives them per day) and the
    condition of those still pending at `now`."""
    days = _days(first, last)
    items = PlaylistItem.objects.filter(playlist__date__gte=first, playlist__date__lte=last, position__isnull=False)
    if not scope.everything:
        items = items.filter(scope.q("playlist__"))
    # Deactivations are rare: when any overlaps the range, each day gets its own condition, exactly as
    # coverage_report asks it of that day.
    if inactive_q(day_bounds(first)[0], day_bounds(last)[1]) is not None:
        excluded = Q(pk__in=[])
        for day in days:
            inactive = inactive_q(*day_bounds(day))
            if inactive is not None:
                excluded |= Q(playlist__date=day) & inactive
        items = items.exclude(excluded)
    # Pending is only possible for days whose slots may not have ended yet (plus grace).
    pending = Q(pk__in=[])
    recent = [d for d in days if now < day_bounds(d)[0] + timedelta(days=2) + grace()]
    if recent:
        stations = Station.objects.all()
        if not scope.everything:
            stations = Station.objects.filter(
                pk__in=Playlist.objects.filter(scope.q(), date__in=recent).values("station_id"))
        rows = list(stations.values_list("id", "slots"))  # read once for the recent days
        for day in recent:
            pending |= Q(playlist__date=day) & pending_q(day, now, rows)
    return items, pending


def _counted(items: QuerySet[PlaylistItem], group_by: tuple[str, ...], pending: Q) -> list[tuple[Any, ...]]:
    """(*group values, Counts) per group."""
    rows = items.values(*group_by).annotate(
        n_expected=Count("id"),
        n_played=Count("id", filter=Q(report_status="played")),
        n_failed=Count("id", filter=Q(report_status__in=FAILED_OUTCOMES)),
        n_pending=Count("id", filter=Q(report_status="") & pending),
    ).order_by()
    return [(*(row[g] for g in group_by), Counts(row["n_expected"], row["n_played"], row["n_failed"], row["n_pending"]))
            for row in rows]


def daily_counts(
    first: date, last: date, *, scope: Scope = EVERYTHING, now: datetime | None = None,
) -> list[tuple[date, Counts]]:
    """(day, Counts) for every day from `first` to `last`, a day with nothing planned as zeros."""
    items, pending = _range_items(first, last, scope, now or timezone.now())
    by_day = dict(_counted(items, ("playlist__date",), pending))
    return [(day, by_day.get(day, Counts())) for day in _days(first, last)]


def range_report(
    first: date, last: date, *, scope: Scope = EVERYTHING, now: datetime | None = None,
) -> CoverageReport:
    """The coverage of the days `first`…`last` (one map: a month never straddles 1 July 2025) summed per
    unit of the map in force on `first`: a row per unit with plays in the range, and an operator's own
    units. Plays count where their playlist was made, as in coverage_report."""
    return range_report_and_days(first, last, scope=scope, now=now)[0]


def range_report_and_days(
    first: date, last: date, *, scope: Scope = EVERYTHING, now: datetime | None = None,
) -> tuple[CoverageReport, list[tuple[date, Counts]]]:
    """range_report and daily_counts of the same days from one aggregate (by day and unit), as the
    monthly report shows both."""
    the_map = map_in_force(first)
    by_unit = the_map == AdminUnit.Map.SINCE_2025
    field_name = "unit_id" if by_unit else "district_id"
    items, pending = _range_items(first, last, scope, now or timezone.now())
    counts_by: dict[int | None, Counts] = {}
    by_day: dict[date, Counts] = {}
    for day, group, counts in _counted(items, ("playlist__date", f"playlist__{field_name}"), pending):
        counts_by.setdefault(group, Counts()).add(counts)
        by_day.setdefault(day, Counts()).add(counts)
    shown = set(counts_by) - {None}
    if by_unit:
        shown |= scope.unit_ids or set()
        names = AdminUnit.objects.filter(pk__in=sorted(shown)).order_by("code").values_list("pk", "code", "name")
        level = AdminUnit.Level.COMMUNE
    else:
        shown |= scope.district_ids or set()
        names = District.objects.filter(pk__in=sorted(shown)).order_by("code").values_list("pk", "code", "name")
        level = GROUP_DISTRICT
    groups = [(code, name, pk) for pk, code, name in names]
    if None in counts_by:
        groups.append(("", UNASSIGNED_NAME, None))
    report = CoverageReport(date=first, map=the_map, totals=Counts())
    for code, name, pk in groups:
        counts = counts_by.get(pk, Counts())
        report.totals.add(counts)
        report.rows.append(UnitCoverage(level, code, name, counts))
    return report, [(day, by_day.get(day, Counts())) for day in _days(first, last)]


def last_days(day: date, n: int = 30, *, scope: Scope = EVERYTHING, now: datetime | None = None,
              ) -> list[tuple[date, Counts]]:
    """The `n` days ending with `day`, oldest first."""
    return daily_counts(day - timedelta(days=n - 1), day, scope=scope, now=now)
