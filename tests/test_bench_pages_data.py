"""The operations data set of scripts/bench_pages.py holds the rows the builder and ingestion would
leave: snapshots equal to what they snapshot, outcomes folded into the items, health consistent."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from django.db.models import F, Q

from broadcast.models import PlaybackReport, Playlist, PlaylistItem
from broadcast.selectors.playlists import local_today
from stations.models import Station

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.django_db


def _data_module():
    spec = importlib.util.spec_from_file_location("_bench_operations_data",
                                                  REPO / "scripts" / "_bench_operations_data.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def data():
    return _data_module().populate_operations(40, seed=3, password="!")


def test_playlists_and_reports_keep_the_units_their_station_stood_in(data) -> None:
    assert Playlist.objects.count() == 40 * 30
    assert not Playlist.objects.exclude(district_id=F("station__district_id")).exists()
    assert not Playlist.objects.exclude(unit_id=F("station__unit_id")).exists()
    reports = PlaybackReport.objects.all()
    assert reports.count() > 0
    assert not reports.exclude(district_id=F("playlist_item__playlist__district_id")).exists()
    assert not reports.exclude(unit_id=F("playlist_item__playlist__unit_id")).exists()
    assert not reports.exclude(playlist_date=F("playlist_item__playlist__date")).exists()
    assert not reports.exclude(station_id=F("playlist_item__playlist__station_id")).exists()
    assert not reports.exclude(sha256=F("playlist_item__sha256"), slot=F("playlist_item__slot"),
                               bulletin_id_snapshot=F("playlist_item__bulletin_id")).exists()


def test_each_reported_item_carries_its_report_outcome_and_only_those(data) -> None:
    assert not PlaybackReport.objects.exclude(status=F("playlist_item__report_status")).exists()
    reported = PlaylistItem.objects.exclude(report_status="")
    assert reported.count() == PlaybackReport.objects.count()
    assert not reported.filter(reported_at__isnull=True).exists()
    assert not PlaylistItem.objects.filter(report_status="", reports__isnull=False).exists()
    assert not reported.filter(starts_at__gt=F("reported_at")).exists()


def test_stations_report_only_while_they_were_heard_from(data) -> None:
    assert set(Station.objects.values_list("status", flat=True)) <= {"online", "late", "silent", "never"}
    never = Station.objects.filter(status="never")
    assert not never.filter(Q(last_seen_at__isnull=False) | Q(playback_reports__isnull=False)).exists()
    assert not PlaybackReport.objects.filter(playlist_item__starts_at__gt=F("station__last_seen_at")).exists()
    heard = Station.objects.exclude(status="never")
    assert all("disk_free_mb" in state for state in heard.values_list("agent_state", flat=True))
    # The stored status is the one the sweep converges to from the stored deadline.
    from django.utils import timezone

    from stations.health import status_at

    now = timezone.now()
    assert all(status_at(s.heartbeat_deadline, now) == s.status for s in Station.objects.all())


def test_todays_emergency_is_confirmed_by_most_stations_but_not_all(data) -> None:
    today = PlaylistItem.objects.filter(playlist__date=local_today(), slot="now",
                                        schedule_id=data["emergency"])
    assert today.count() == 40
    confirmed = today.filter(report_status="played").count()
    assert 20 < confirmed < 40


def test_a_reused_database_answers_what_populating_it_did(data) -> None:
    again = _data_module().existing_operations()
    assert {k: getattr(v, "pk", v) for k, v in again.items()} == {k: getattr(v, "pk", v) for k, v in data.items()}
