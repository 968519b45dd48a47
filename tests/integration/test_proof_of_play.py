"""Integration: reports over HTTP on PostgreSQL, the health sweep on the real Celery worker."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from broadcast.models import PlaybackReport, PlaylistItem
from stations import health
from stations.models import Station, StationStatusChange
from stations.tasks import sweep_station_health
from tests.broadcast.factories_reports import make_playlist, plain_bulletin, report
from tests.factories import StationFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_replayed_batches_on_postgres_store_each_report_once(station_client_for):
    station = StationFactory()
    items = make_playlist(station, timezone.localdate() - dt.timedelta(days=1), [plain_bulletin()] * 1)
    client = station_client_for(station)
    batch = {"reports": [report(items[0], "a"), report(items[1], "b", "failed"), report(items[1], "c")]}
    bodies = [client.post("/api/v1/station/reports/", batch, format="json").json() for _ in range(3)]
    assert bodies[0] == {"accepted": 3, "duplicates": 0, "rejected": []}
    assert bodies[1] == bodies[2] == {"accepted": 0, "duplicates": 3, "rejected": []}
    assert PlaybackReport.objects.filter(station=station).count() == 3
    assert set(PlaylistItem.objects.filter(pk__in=[i.pk for i in items]).values_list("report_status", flat=True)) == {
        "played"}


def test_health_sweep_runs_on_the_worker(celery_worker):
    station = StationFactory()
    health.record_heartbeat(station, now=timezone.now() - dt.timedelta(days=1))
    sweep_station_health.delay()
    deadline = time.monotonic() + 30  # wait for the worker, not for a fixed time
    while Station.objects.get(pk=station.pk).status != "silent" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert Station.objects.get(pk=station.pk).status == "silent"
    assert StationStatusChange.objects.filter(station=station, to_status="silent").count() == 1
