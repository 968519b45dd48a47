"""seed_demo also writes one past day of the map before 1 July 2025, so the dashboard of that day shows
coverage by district while today's shows it by commune-level unit; a re-run makes nothing new."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from broadcast.management.commands.seed_demo import HISTORY_DAY
from broadcast.models import PlaybackReport, Playlist, Schedule
from broadcast.selectors.coverage import coverage_report
from broadcast.selectors.playlists import local_today
from stations.models import Station
from tests.factories import AdminUnitFactory, DistrictFactory, StationFactory, UserFactory


def _state() -> tuple:
    return (Schedule.objects.count(), Playlist.objects.count(),
            sorted(Playlist.objects.values_list("pk", "version", "etag", "unit_id")),
            PlaybackReport.objects.count())


@pytest.mark.django_db(transaction=True)
def test_seed_demo_writes_a_day_before_july_2025_shown_by_district_once(one_sample: Path, settings) -> None:
    settings.DEBUG = True
    districts = [DistrictFactory(code="001", name="Quận Ba Đình"), DistrictFactory(code="002", name="Quận Hoàn Kiếm")]
    units = [AdminUnitFactory(code=f"000{n:02d}", name=f"Phường {n}") for n in range(4)]
    for n in range(20):
        StationFactory(code=f"S{n:02d}", district=districts[n % 2], unit=units[n % 4])

    call_command("seed_demo", samples=str(one_sample), force=True)

    history = coverage_report(HISTORY_DAY)
    assert history.grouping == "district" and [r.code for r in history.rows] == ["001", "002"]
    assert history.totals.expected == 20 * 2  # one bulletin, morning and evening, every station
    reporting = PlaybackReport.objects.filter(playlist_date=HISTORY_DAY).values("station_id").distinct().count()
    assert 15 <= reporting < 20  # most stations, not all
    assert history.totals.played > 0 and history.totals.pending == 0
    assert sum(r.counts.played for r in history.rows) == history.totals.played
    # Recorded where each station stood then, by the same services as any day.
    assert not Playlist.objects.filter(date=HISTORY_DAY, district__isnull=True).exists()
    assert not PlaybackReport.objects.filter(playlist_date=HISTORY_DAY, district__isnull=True).exists()
    today = coverage_report(local_today())
    assert today.grouping == "unit" and [r.code for r in today.rows] == [u.code for u in units]

    before = _state()
    # Even after the registry moved stations, a re-run neither adds nor rewrites anything of that day.
    Station.objects.filter(code="S00").update(unit=units[3])
    call_command("seed_demo", samples=str(one_sample), force=True)
    after = _state()
    assert after[0] == before[0] and after[3] == before[3]
    old_rows = {row for row in after[2] if Playlist.objects.get(pk=row[0]).date == HISTORY_DAY}
    assert old_rows <= set(before[2])

    supervisor = UserFactory(username="giamsat-demo", roles=["supervisor"])
    browser = Client()
    browser.force_login(supervisor)
    html = browser.get("/dashboard/", {"date": HISTORY_DAY.isoformat()}).content.decode()
    assert "Theo quận/huyện (trước 01/07/2025)" in html and 'data-district="001"' in html
