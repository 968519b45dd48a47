"""A heartbeat with out-of-range values is a Vietnamese 400, never a 500."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db
URL = "/api/v1/station/heartbeat/"


@pytest.mark.parametrize("body", [
    '{"agent_version": "1.0", "disk_free_mb": Infinity}',
    '{"agent_version": "1.0", "volume": NaN}',
    '{"agent_version": "1.0", "disk_free_mb": 1e400}',
    '{"agent_version": "1.0", "playlist_version": 99999999999999999999999}',
    '{"agent_version": "1.0\\ud800"}',
])
def test_out_of_range_heartbeat_values_are_a_400(body, station, station_client_for):
    resp = station_client_for(station).post(URL, data=body, content_type="application/json")
    assert resp.status_code == 400, resp.content[:300]
    station.refresh_from_db()
    assert station.last_seen_at is None or station.agent_version != "1.0"
