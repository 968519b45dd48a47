"""Data migrations replayed on real rows: what they fill in for records made before them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("broadcast", "0010_operator_reads"), ("stations", "0005_admin_units")]
AFTER = [("broadcast", "0011_unit_snapshots")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_playlists_and_reports_made_before_snapshots_are_recorded_under_their_stations_district():
    apps = _migrate(BEFORE)
    try:
        District = apps.get_model("stations", "District")
        Station = apps.get_model("stations", "Station")
        Playlist = apps.get_model("broadcast", "Playlist")
        PlaybackReport = apps.get_model("broadcast", "PlaybackReport")
        north = District.objects.create(code="001", name="Ba Đình")
        south = District.objects.create(code="002", name="Hoàn Kiếm")
        a = Station.objects.create(code="A", name="Đài A", district=north)
        b = Station.objects.create(code="B", name="Đài B", district=south)
        day = dt.date(2025, 3, 10)
        now = timezone.now()
        for station in (a, b):
            Playlist.objects.create(station=station, date=day, generated_at=now)
            PlaybackReport.objects.create(
                station=station, report_id=f"r-{station.code}", status="played", started_at=now,
                playlist_date=day, bulletin_id_snapshot=1, bulletin_title="Tin", revision_number=1,
                sha256="0" * 64, slot="morning")

        apps = _migrate(AFTER)
        Playlist = apps.get_model("broadcast", "Playlist")
        PlaybackReport = apps.get_model("broadcast", "PlaybackReport")
        for model in (Playlist, PlaybackReport):
            placed = dict(model.objects.values_list("station__code", "district__code"))
            assert placed == {"A": "001", "B": "002"}
            assert not model.objects.filter(unit__isnull=False).exists()
    finally:
        _migrate(_migrate_leaf_targets())


def _migrate_leaf_targets():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()
