"""The demo's last weeks (broadcast/demo/history.py): every past day of the 30-day line populated, with
the rows the builder and ingestion would have written, once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import F

from broadcast.demo import history
from broadcast.models import PlaybackReport, Playlist, PlaylistItem, Schedule
from broadcast.selectors.coverage import coverage_report, last_days
from broadcast.selectors.playlists import local_today, parse_slot_bounds
from broadcast.services.reports import ingest_reports
from tests.broadcast.factories_reports import _user, plain_bulletin, report
from tests.factories import AdminUnitFactory, DistrictFactory, StationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry():
    district = DistrictFactory(code="001")
    units = [AdminUnitFactory(code=f"0000{n}") for n in range(3)]
    return [StationFactory(code=f"S{n:02d}", district=district, unit=units[n % 3]) for n in range(30)]


def _write(**kw):
    bulletins = [plain_bulletin("Bản tin A"), plain_bulletin("Bản tin B"), plain_bulletin("Bản tin C")]
    return history.write_history(bulletins, _user("giamsat-demo", "supervisor"), ["morning", "evening"],
                                 today=local_today(), **kw)


def test_every_past_day_of_the_line_is_populated_with_most_stations_reporting(registry):
    stats = _write()
    assert stats["days"] == history.DAYS and stats["playlists"] == 30 * history.DAYS
    days = last_days(local_today() - dt.timedelta(days=1), history.DAYS)
    assert all(c.expected == 30 * 2 * history.BULLETINS_A_DAY for _, c in days)
    assert all(50 < c.coverage_pct < 100 and c.pending == 0 for _, c in days)
    assert len({c.coverage_pct for _, c in days}) > 3  # a line that moves
    for day, counts in days[::7]:
        assert counts.as_dict() == coverage_report(day).totals.as_dict()


def test_the_rows_are_those_the_builder_and_ingestion_write(registry):
    _write(days=2)
    day = local_today() - dt.timedelta(days=1)
    # Playlists under the station's units; items in their slot, from its start; a Schedule for each.
    assert not Playlist.objects.filter(date=day).exclude(unit_id=F("station__unit_id")).exists()
    item = PlaylistItem.objects.filter(playlist__date=day, position=1).select_related("playlist__station").first()
    morning = next(s for s in parse_slot_bounds(item.playlist.station.slots, day) if s.name == "morning")
    assert item.starts_at == morning.start and item.key == f"s{item.schedule_id}:morning:0"
    assert Schedule.objects.filter(start_date=day, is_demo=True).count() == history.BULLETINS_A_DAY
    # Each report matches the item it names, as ingestion's snapshot does; each item's outcome is its report's.
    reports = PlaybackReport.objects.filter(playlist_date=day).select_related("playlist_item__playlist", "playlist_item__revision")
    assert reports.exists()
    for r in reports:
        it = r.playlist_item
        assert (r.status, r.unit_id, r.district_id, r.slot, r.sha256, r.planned_start, r.bulletin_title) == (
            it.report_status, it.playlist.unit_id, it.playlist.district_id, it.slot, it.sha256, it.starts_at,
            it.revision.title)
    unreported = PlaylistItem.objects.filter(playlist__date=day, report_status="").first()
    # A station may still send the report of a missed play: ingestion takes it as for any built day.
    result = ingest_reports(unreported.playlist.station, [report(unreported, "late-1")])
    assert result.accepted == 1


def test_a_second_run_writes_nothing_and_keeps_days_already_built(registry):
    first = _write(days=3)
    before = (Playlist.objects.count(), PlaylistItem.objects.count(), PlaybackReport.objects.count())
    assert _write(days=3) == {"days": 0, "playlists": 0, "items": 0, "reports": 0}
    assert (Playlist.objects.count(), PlaylistItem.objects.count(), PlaybackReport.objects.count()) == before
    assert _write(days=4)["days"] == 1 and first["days"] == 3
