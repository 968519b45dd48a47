"""With 600 stations, the scheduling pages and the week view answer quickly and in a bounded number of
queries (the timings are printed with -s; the bound asserted is loose, the query count is the guard)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from broadcast.selectors.playlists import local_today
from broadcast.services.playlists import rebuild_playlists
from broadcast.services.schedules import create_schedule
from stations.models import Station
from tests.factories import AdminUnitFactory, DistrictFactory, UserFactory, approved_bulletin
from tests.newsroom.pages import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(db):
    boss = UserFactory(username="giamsat", roles=["supervisor"])
    district = DistrictFactory(code="001")
    units = [AdminUnitFactory(code=f"{n:05d}", name=f"Phường {n}") for n in range(30)]
    Station.objects.bulk_create([
        Station(code=f"S{n:04d}", name=f"Đài {n}", district=district, unit=units[n % 30], admin_code=f"S{n:04d}",
                slots=[{"name": "morning", "start": "06:00", "end": "06:30"},
                       {"name": "evening", "start": "17:00", "end": "17:30"}])
        for n in range(600)])
    today = local_today()
    bulletins = [approved_bulletin(title=f"Bản tin {n}") for n in range(6)]
    for n, bulletin in enumerate(bulletins):
        create_schedule(bulletin, by=boss, start_date=today, end_date=today + dt.timedelta(days=20),
                        slots=["morning", "evening"][: 1 + n % 2], targets={"all": True})
    rebuild_playlists()
    return boss, bulletins[0], today


def test_pages_with_600_stations_answer_quickly(city, capsys):
    boss, bulletin, today = city
    client = signed_in(boss)
    day = (today + dt.timedelta(days=1)).isoformat()
    preview = {"bulletin": bulletin.pk, "all": "on", "start_date": day, "end_date": day, "slots": ["morning"],
               "plays_per_slot": "1", "action": "preview"}
    pages = [
        ("list", "get", "/operations/schedules/", {}),
        ("new", "get", "/operations/schedules/new/", {}),
        ("count", "get", "/operations/schedules/count/", {"all": "on"}),
        ("preview one unit", "post", "/operations/schedules/new/", {**preview, "all": "", "units": ["00001"]}),
        # The whole city: the builder's planner over 600 stations (what saving answers too).
        ("preview 600 stations", "post", "/operations/schedules/new/", preview),
        ("week unit", "get", "/operations/week/", {"unit": "00001"}),
        ("week station", "get", "/operations/week/", {"station": "S0001"}),
        ("week unit next week", "get", "/operations/week/",
         {"unit": "00001", "start": (today + dt.timedelta(days=7)).isoformat()}),
    ]
    client.get("/operations/schedules/")  # warm the session and the template cache
    for label, method, url, data in pages:
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = getattr(client, method)(url, data)
            elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (label, response.content[:500])
        with capsys.disabled():
            print(f"\n{label}: {elapsed:.0f} ms, {len(queries)} queries")
        assert len(queries) <= 30, label
        assert elapsed < 3000, label  # a loaded test machine varies; the query count is the guard
