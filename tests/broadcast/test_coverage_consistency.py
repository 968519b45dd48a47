"""The per-station coverage adds up to the district coverage, and a deactivated station's plays after
its deactivation are neither expected nor missed."""

from __future__ import annotations

import datetime as dt

import pytest

from broadcast.selectors.coverage import coverage_report
from broadcast.services.reports import ingest_reports
from stations.models import Station
from stations.signals import stations_changed
from tests.broadcast.factories_reports import freeze, local, make_playlist, plain_bulletin, report
from tests.factories import DistrictFactory, StationFactory

pytestmark = pytest.mark.django_db
DAY = dt.date(2025, 3, 10)
KEYS = ("expected", "played", "failed", "missed", "pending")
NOON = {"name": "noon", "start": "12:00", "end": "12:30"}


@pytest.fixture(autouse=True)
def _grace(settings):
    settings.COVERAGE_GRACE_SECONDS = 3600


def _deactivate(station: Station, at: dt.datetime) -> None:
    with freeze(at):
        station.active = False
        station.save(update_fields=["active"])
        stations_changed.send(sender=Station, station_ids=[station.pk])


@pytest.fixture
def district():
    district = DistrictFactory(code="201", name="Quận Cầu Giấy")
    a = StationFactory(district=district, code="C1")
    b = StationFactory(district=district, code="C2")
    c = StationFactory(district=district, code="C3", slots=[*StationFactory.slots.function(), NOON])
    bulletin = plain_bulletin("Lịch cắt điện")
    items_a = make_playlist(a, DAY, [bulletin])
    make_playlist(b, DAY, [bulletin])
    make_playlist(c, DAY, [bulletin])
    # C1 keeps an item of a slot it no longer has (renamed away), planned at 09:00 for one minute.
    other = plain_bulletin("Tuyển quân")
    stray = make_playlist(a, DAY, [other], slots=("morning",))[0]
    stray.slot = "noon"
    stray.starts_at = local(DAY, "09:00")
    stray.ends_at = stray.starts_at + dt.timedelta(minutes=1)
    stray.save()
    ingest_reports(a, [report(items_a[0], "a0")], now=local(DAY, "07:00"))
    _deactivate(b, local(DAY, "12:00"))  # its morning was due, its evening never will be
    return district


def _station_rows(client, when):
    with freeze(when):
        body = client.get("/api/v1/coverage/stations/", {"date": DAY.isoformat()}).json()
    return {row["code"]: row for row in body["results"]}


@pytest.mark.parametrize("hhmm", ["12:10", "23:00"])
def test_station_rows_add_up_to_their_district(district, client_for, supervisor, hhmm):
    when = local(DAY, hhmm)
    rows = _station_rows(client_for(supervisor), when)
    with freeze(when):
        totals = client_for(supervisor).get("/api/v1/coverage/", {"date": DAY.isoformat()}).json()
    (row,) = [d for d in totals["districts"] if d["code"] == "201"]
    assert sorted(rows) == ["C1", "C2", "C3"]
    assert {k: sum(r[k] for r in rows.values()) for k in KEYS} == {k: row[k] for k in KEYS}


def test_a_deactivated_stations_later_plays_are_not_expected_or_missed(district):
    after_day = coverage_report(DAY, now=local(DAY, "23:00")).as_dict()
    (row,) = after_day["districts"]
    # C1: 2 + the stray one, C2: morning only (evening came after its deactivation), C3: 3 slots.
    assert row["expected"] == 3 + 1 + 3
    assert row["missed"] == row["expected"] - row["played"]


def test_a_reactivated_station_counts_again_from_its_reactivation(district):
    b = Station.objects.get(code="C2")
    make_playlist(b, DAY + dt.timedelta(days=1), [plain_bulletin("Ngày sau")])
    with freeze(local(DAY + dt.timedelta(days=1), "12:00")):
        b.active = True
        b.save(update_fields=["active"])
        stations_changed.send(sender=Station, station_ids=[b.pk])
    next_day = coverage_report(DAY + dt.timedelta(days=1), now=local(DAY + dt.timedelta(days=1), "23:00"))
    assert next_day.totals.expected == 1  # its evening play; the morning one fell in the inactive time


def test_an_item_outside_its_stations_slots_waits_for_its_own_end_not_another_stations_slot(district):
    # At 12:10 C3's noon slot is open, but C1 has no noon slot: its stray 09:00 play is missed (09:01 + 1 h).
    row = coverage_report(DAY, now=local(DAY, "12:10")).rows[0].counts
    # Pending: the evening plays of C1 and C3 (C2 is inactive by then) and C3's noon play.
    assert row.pending == 3
    assert row.missed == 3  # C1's stray play and the unreported morning plays of C2 and C3


def test_deactivating_thousands_of_stations_at_once_is_recorded(client_for):
    from broadcast.models import StationInactivity
    from broadcast.services.reports import record_activity_changes

    district = DistrictFactory(code="299")
    Station.objects.bulk_create(Station(code=f"M{n:05d}", name=f"Đài {n}", district=district, admin_code=f"M{n:05d}",
                                        active=False) for n in range(3000))
    ids = list(Station.objects.filter(district=district).values_list("pk", flat=True))
    assert record_activity_changes(ids, now=local(DAY, "08:00")) == 3000
    assert record_activity_changes(ids, now=local(DAY, "09:00")) == 0  # idempotent
    Station.objects.filter(pk__in=ids[:10]).update(active=True)
    assert record_activity_changes(ids, now=local(DAY, "10:00")) == 10
    assert StationInactivity.objects.filter(until__isnull=True).count() == 2990


def test_coverage_and_play_log_with_thousands_of_stations_deactivated_midday(district):
    """One span per station deactivated during the day: the condition stays one subquery, not a
    term per station (SQLite refuses an expression over 1,000 deep)."""
    from broadcast.models import StationInactivity
    from broadcast.selectors.play_log import play_log_rows

    many = DistrictFactory(code="298")
    Station.objects.bulk_create(Station(code=f"N{n:05d}", name=f"Đài {n}", district=many, admin_code=f"N{n:05d}",
                                        active=False) for n in range(1200))
    StationInactivity.objects.bulk_create(
        StationInactivity(station_id=pk, since=local(DAY, "10:00"))
        for pk in Station.objects.filter(district=many).values_list("pk", flat=True))
    report = coverage_report(DAY, now=local(DAY, "23:00"))
    (row,) = [d for d in report.rows if d.code == "201"]
    assert row.counts.expected == 3 + 1 + 3
    rows = list(play_log_rows(DAY, DAY, now=local(DAY, "23:00")))
    assert sum(r[0] == "C2" for r in rows) == 1  # its morning play only
