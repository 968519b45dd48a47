"""The demo's silent stations are not all 'never connected': some were heard hours ago (silent) and some
minutes ago (late), each with its history of status changes, as the health sweep leaves them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from broadcast.demo.emergency import is_silent
from broadcast.demo.health import seed_station_health
from stations.models import Station, StationStatusChange
from tests.factories import StationFactory

pytestmark = pytest.mark.django_db


def test_some_demo_stations_the_simulator_keeps_quiet_were_heard_before_and_went_late_or_silent():
    stations = [StationFactory(code=f"{n:05d}") for n in range(200)]
    quiet = {s.code for s in stations if is_silent(s.code)}
    now = timezone.now()
    counts = seed_station_health(now=now)
    by_status = dict(Station.objects.values_list("code", "status"))
    late = {c for c, s in by_status.items() if s == Station.Status.LATE}
    silent = {c for c, s in by_status.items() if s == Station.Status.SILENT}
    assert late and silent and (late | silent) < quiet  # some quiet stations stay never connected
    assert counts == {"late": len(late), "silent": len(silent)}
    assert all(by_status[c] == Station.Status.NEVER for c in {s.code for s in stations} - quiet)
    for station in Station.objects.filter(code__in=late | silent):
        assert station.last_seen_at < now - dt.timedelta(minutes=5)
        assert list(StationStatusChange.objects.filter(station=station).order_by("at")
                    .values_list("to_status", flat=True))[0] == Station.Status.ONLINE


def test_seeding_the_demo_health_again_changes_nothing_and_leaves_stations_heard_since_alone():
    stations = [StationFactory(code=f"{n:05d}") for n in range(200)]
    seed_station_health(now=timezone.now())
    before = list(Station.objects.order_by("pk").values_list("status", "last_seen_at"))
    changes = StationStatusChange.objects.count()
    assert seed_station_health(now=timezone.now()) == {"late": 0, "silent": 0}
    assert list(Station.objects.order_by("pk").values_list("status", "last_seen_at")) == before
    assert StationStatusChange.objects.count() == changes
    assert stations
