"""Coverage per day over a range (the 30-day line, the monthly report): the same figures as coverage_report
gives day by day, in a number of queries that does not grow with days or stations."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from broadcast.models import StationInactivity
from broadcast.selectors.coverage import coverage_report, daily_counts, last_days, range_report
from broadcast.services.reports import ingest_reports
from stations.models import AdminUnit
from stations.selectors import narrowed_scope, user_scope
from tests.broadcast.factories_reports import local, make_playlist, plain_bulletin, report
from tests.factories import AdminUnitFactory, CommuneOperatorFactory, DistrictFactory, StationFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def history():
    """6 stations in 3 units over the last 5 days and today, a different share played per station and day,
    one failure a day, one station deactivated for a day."""
    district = DistrictFactory(code="101")
    units = [AdminUnitFactory(code=f"0000{n}", name=f"Phường {n}") for n in range(3)]
    stations = [StationFactory(district=district, unit=units[n % 3], code=f"H{n}") for n in range(6)]
    bulletins = [plain_bulletin("Bản tin A"), plain_bulletin("Bản tin B")]
    for back in range(5, -1, -1):
        day = TODAY - dt.timedelta(days=back)
        for n, station in enumerate(stations):
            items = make_playlist(station, day, bulletins)
            played = items[: (n + back) % (len(items) + 1)]
            reports = [report(it, f"r{day}-{it.pk}") for it in played]
            if n == 0 and len(played) < len(items):
                reports.append(report(items[-1], f"f{day}", "failed", error="Mất điện"))
            if reports:
                ingest_reports(station, reports, now=local(day, "23:30") if back else None)
    StationInactivity.objects.create(station=stations[4], since=local(TODAY - dt.timedelta(days=2), "00:00"),
                                     until=local(TODAY - dt.timedelta(days=1), "00:00"))
    return {"units": units, "stations": stations}


def test_every_day_of_the_range_has_the_figures_of_that_days_report(history):
    now = timezone.now()
    days = daily_counts(TODAY - dt.timedelta(days=6), TODAY, now=now)
    assert [d for d, _ in days] == [TODAY - dt.timedelta(days=n) for n in range(6, -1, -1)]
    for day, counts in days:
        assert counts.as_dict() == coverage_report(day, now=now).totals.as_dict(), day
    assert days[0][1].expected == 0  # a day with nothing planned is zeros
    assert sum(c.expected for _, c in days) > 0 and sum(c.failed for _, c in days) > 0


def test_a_scope_counts_only_its_units(history):
    now = timezone.now()
    unit = history["units"][1]
    operator = CommuneOperatorFactory(units=[unit]).user
    scope = narrowed_scope(operator, unit_code=unit.code)
    for day, counts in last_days(TODAY, 6, scope=scope, now=now):
        assert counts.as_dict() == coverage_report(day, scope=scope, now=now).totals.as_dict(), day
    whole = dict(last_days(TODAY, 6, now=now))
    mine = dict(last_days(TODAY, 6, scope=user_scope(operator), now=now))
    assert 0 < mine[TODAY - dt.timedelta(days=1)].expected < whole[TODAY - dt.timedelta(days=1)].expected


def test_the_range_report_sums_each_units_days(history):
    now = timezone.now()
    first, last = TODAY - dt.timedelta(days=5), TODAY
    summed = range_report(first, last, now=now)
    assert summed.map == AdminUnit.Map.SINCE_2025
    for row in summed.rows:
        per_day = [r.counts for d in range(6)
                   for r in coverage_report(first + dt.timedelta(days=d), now=now).rows if r.code == row.code]
        assert (row.counts.expected, row.counts.played, row.counts.failed, row.counts.pending) == (
            sum(c.expected for c in per_day), sum(c.played for c in per_day),
            sum(c.failed for c in per_day), sum(c.pending for c in per_day)), row.code
    assert [r.code for r in summed.rows] == [u.code for u in history["units"]]
    assert summed.totals.expected == sum(c.expected for _, c in daily_counts(first, last, now=now))


def test_thirty_days_take_the_same_few_queries_for_any_number_of_stations(django_assert_max_num_queries):
    bulletin = plain_bulletin()
    for _ in range(12):
        station = StationFactory()
        for back in (1, 7, 20):
            make_playlist(station, TODAY - dt.timedelta(days=back), [bulletin])
    with django_assert_max_num_queries(4):
        days = last_days(TODAY, 30)
    assert len(days) == 30 and sum(c.expected for _, c in days) == 12 * 3 * 2
