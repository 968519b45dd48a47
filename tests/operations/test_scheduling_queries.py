"""The scheduling pages and the week view read in a number of queries that does not grow with the stations,
their units or the airable bulletins (their server time is measured by scripts/bench_pages.py, not here)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from broadcast.models import Schedule
from broadcast.selectors.playlists import local_today
from broadcast.services.playlists import rebuild_playlists
from broadcast.services.schedules import create_schedule
from stations.models import Station
from tests.factories import AdminUnitFactory, DistrictFactory, UserFactory, approved_bulletin
from tests.newsroom.pages import signed_in

pytestmark = pytest.mark.django_db


def city(stations: int):
    boss = UserFactory(username=f"giamsat{stations}", roles=["supervisor"])
    district = DistrictFactory()
    units = [AdminUnitFactory(code=f"{stations}{n:05d}", name=f"Phường {n}") for n in range(stations // 2)]
    Station.objects.bulk_create([
        Station(code=f"S{stations}-{n:04d}", name=f"Đài {n}", district=district, unit=units[n % len(units)],
                admin_code=f"S{stations}-{n:04d}",
                slots=[{"name": "morning", "start": "06:00", "end": "06:30"},
                       {"name": "evening", "start": "17:00", "end": "17:30"}])
        for n in range(stations)])
    today = local_today()
    bulletins = [approved_bulletin(title=f"Bản tin {stations}/{n}") for n in range(stations // 2)]
    for n, bulletin in enumerate(bulletins[:3]):
        create_schedule(bulletin, by=boss, start_date=today, end_date=today + dt.timedelta(days=20),
                        slots=["morning", "evening"][: 1 + n % 2], targets={"all": True})
    rebuild_playlists()
    return boss, bulletins[0], today, units[1].code, f"S{stations}-0001"


def _query_counts(stations: int) -> dict[str, int]:
    boss, bulletin, today, unit, station = city(stations)
    client = signed_in(boss)
    day = (today + dt.timedelta(days=1)).isoformat()
    preview = {"bulletin": bulletin.pk, "all": "on", "start_date": day, "end_date": day, "slots": ["morning"],
               "plays_per_slot": "1", "action": "preview"}
    pages = [
        ("list", "get", "/operations/schedules/", {}),
        ("new", "get", "/operations/schedules/new/", {}),
        ("new with a bulletin", "get", "/operations/schedules/new/", {"bulletin": bulletin.pk}),
        ("bulletin search", "get", "/operations/schedules/bulletins/", {"q": "ban tin"}),
        ("schedule page", "get", f"/operations/schedules/{Schedule.objects.earliest('pk').pk}/", {}),
        ("count", "get", "/operations/schedules/count/", {"all": "on"}),
        ("preview one unit", "post", "/operations/schedules/new/", {**preview, "all": "", "units": [unit]}),
        # The whole city: the builder's planner over every station (what saving answers too).
        ("preview every station", "post", "/operations/schedules/new/", preview),
        ("week unit", "get", "/operations/week/", {"unit": unit}),
        ("week station", "get", "/operations/week/", {"station": station}),
        ("week unit next week", "get", "/operations/week/",
         {"unit": unit, "start": (today + dt.timedelta(days=7)).isoformat()}),
    ]
    client.get("/operations/schedules/")  # warm the session
    counts = {}
    for label, method, url, data in pages:
        with CaptureQueriesContext(connection) as queries:
            response = getattr(client, method)(url, data)
        assert response.status_code == 200, (label, response.content[:500])
        counts[label] = len(queries)
    return counts


def test_scheduling_pages_and_week_view_read_in_queries_independent_of_station_count():
    few, many = _query_counts(6), _query_counts(60)
    assert few == many
    assert max(many.values()) <= 30
