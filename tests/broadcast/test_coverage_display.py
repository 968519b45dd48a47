"""Coverage never hides pending plays behind a percentage: played / expected and pending side by side."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from broadcast.models import Playlist, PlaylistItem
from broadcast.services.reports import ingest_reports
from stations.models import Station
from tests.broadcast.factories_reports import freeze, plain_bulletin, report
from tests.factories import AdminUnitFactory, DistrictFactory

pytestmark = pytest.mark.django_db
STATIONS = 556


@pytest.fixture
def emergency():
    """An immediate emergency on 556 stations, ten minutes ago; one station has confirmed it so far."""
    now = timezone.now()
    day = timezone.localdate(now)
    district = DistrictFactory(code="301", name="Quận Long Biên")
    unit = AdminUnitFactory(code="00301", name="Phường Long Biên")
    Station.objects.bulk_create(
        Station(code=f"E{n:04d}", name=f"Đài {n}", district=district, unit=unit, admin_code=f"E{n:04d}")
        for n in range(STATIONS)
    )
    stations = list(Station.objects.filter(district=district).order_by("code"))
    Playlist.objects.bulk_create(Playlist(station=s, date=day, version=1, etag=f'"{s.pk}"', generated_at=now,
                                          district=district, unit=unit)
                                 for s in stations)
    bulletin = plain_bulletin("Khẩn: nước lũ lên nhanh")
    revision = bulletin.live_revision
    starts = now - dt.timedelta(minutes=10)
    PlaylistItem.objects.bulk_create(
        PlaylistItem(playlist=pl, key="now:1", position=1, slot="now", starts_at=starts,
                     ends_at=starts + dt.timedelta(minutes=1), bulletin=bulletin, revision=revision,
                     rendition=revision.rendition, sha256=revision.rendition.sha256, duration_ms=60_000,
                     priority="urgent")
        for pl in Playlist.objects.filter(station__district=district)
    )
    first = PlaylistItem.objects.get(playlist__station=stations[0])
    assert ingest_reports(stations[0], [report(first, "e1")], now=now).accepted == 1
    return {"now": now, "day": day}


def test_the_api_reads_one_of_556_not_one_hundred_percent(emergency, client_for, supervisor):
    with freeze(emergency["now"]):
        body = client_for(supervisor).get("/api/v1/coverage/", {"date": emergency["day"].isoformat()}).json()
    totals = body["totals"]
    assert (totals["played"], totals["expected"], totals["pending"]) == (1, STATIONS, STATIONS - 1)
    assert totals["played_of_expected"] == f"1 / {STATIONS}"
    assert body["grouping"] == "unit"  # today: by commune-level unit of the two-level map
    assert body["units"][0]["played_of_expected"] == f"1 / {STATIONS}"


def test_the_dashboard_headline_is_played_of_expected_with_pending_beside_it(emergency, supervisor):
    browser = Client()
    browser.force_login(supervisor)
    with freeze(emergency["now"]):
        html = browser.get("/dashboard/", {"date": emergency["day"].isoformat()}).content.decode()
    headline = re.search(r'data-testid="coverage-headline">([^<]*)<', html).group(1)
    assert headline.strip() == f"1 / {STATIONS}"
    assert re.search(r'data-testid="headline-pending">\s*555\b', html)
    row = html.split('id="units"')[1].split('data-unit="00301"')[1].split("</tr>")[0]
    assert f"1 / {STATIONS}" in row and re.search(r'class="pending">\s*555<', row)
    # A percentage, where shown, says what it is a share of.
    assert "100,0%" not in headline and "100.0%" not in headline
