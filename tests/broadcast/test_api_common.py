"""The query-date rule shared by every broadcast endpoint that takes `?date=` (or from/to)."""

from __future__ import annotations

import pytest

from broadcast.api.common import MSG_BAD_DATE


@pytest.mark.parametrize("path, param", [
    ("/api/v1/playlists/", "date"),
    ("/api/v1/coverage/", "date"),
    ("/api/v1/coverage/stations/", "date"),
    ("/api/v1/reports/export.csv", "from"),
])
def test_a_malformed_staff_date_is_a_400_naming_the_parameter(supervisor, client_for, path, param):
    response = client_for(supervisor).get(path, {param: "31/01/2025"})

    assert response.status_code == 400
    assert response.json() == {param: [MSG_BAD_DATE]}


def test_a_malformed_station_date_is_the_same_400(station, station_client_for):
    response = station_client_for(station).get("/api/v1/station/playlist/", {"date": "2025-13-01"})

    assert response.status_code == 400
    assert response.json() == {"date": [MSG_BAD_DATE]}
