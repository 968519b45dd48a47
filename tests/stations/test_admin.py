"""Registry admin pages."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import DistrictFactory, StationFactory

pytestmark = pytest.mark.django_db


def test_district_list_counts_stations_in_one_query_not_one_per_row(admin_client):
    def page_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            resp = admin_client.get("/admin/stations/district/")
        assert resp.status_code == 200
        return len(ctx.captured_queries)

    StationFactory.create_batch(2, district=DistrictFactory())
    one_district = page_queries()
    for _ in range(5):
        StationFactory.create_batch(3, district=DistrictFactory())
    assert page_queries() == one_district
    resp = admin_client.get("/admin/stations/district/?o=5")  # sorted by the station count
    assert resp.status_code == 200
    assert b'<td class="field-station_total">3</td>' in resp.content
