"""A commune operator (cán bộ xã/phường) sees the stations standing in their commune-level units of the
two-level map, and what reaches them, on every staff endpoint; another unit's station or `?unit=` is a
404, as is a `?district=` with nothing of theirs. Operators of both kinds see the union; an operator
tied to nothing sees nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.test import APIClient

from broadcast.models import Playlist, Schedule
from broadcast.selectors.playlists import local_today
from broadcast.services.schedules import create_schedule
from stations.models import AdminUnit, District, Station
from stations.selectors import EVERYTHING, NOTHING, Scope, narrowed_scope, user_scope, visible_stations
from tests.factories import (
    AdminUnitFactory,
    CommuneOperatorFactory,
    DistrictFactory,
    DistrictOperatorFactory,
    StationFactory,
    UserFactory,
    approved_bulletin,
)

pytestmark = pytest.mark.django_db


@dataclass
class Map:
    """Two old districts (d1, d2) and three new units: U reaches into both districts (a merger across
    the old boundary), V lies in d1, W in d2."""

    d1: District
    d2: District
    d3: District
    u: AdminUnit
    v: AdminUnit
    w: AdminUnit
    su1: Station  # d1, U
    su2: Station  # d2, U
    sv: Station  # d1, V
    sw: Station  # d2, W
    schedules: dict[str, Schedule]


@pytest.fixture
def city(django_capture_on_commit_callbacks) -> Map:
    d1, d2, d3 = DistrictFactory(code="801"), DistrictFactory(code="802"), DistrictFactory(code="803")
    u, v, w = AdminUnitFactory(code="90101"), AdminUnitFactory(code="90102"), AdminUnitFactory(code="90103")
    su1 = StationFactory(code="SU1", district=d1, unit=u)
    su2 = StationFactory(code="SU2", district=d2, unit=u)
    sv = StationFactory(code="SV", district=d1, unit=v)
    sw = StationFactory(code="SW", district=d2, unit=w)
    StationFactory(code="SD3", district=d3)  # an old district whose stations are nobody's here
    supervisor = UserFactory(username="giamsat-xa", roles=["supervisor"])
    today = local_today()
    targets = {"unit_u": {"units": [u.code]}, "station_sv": {"stations": [sv.code]},
               "unit_w": {"units": [w.code]}, "district_d2": {"districts": [d2.code]}}
    schedules = {}
    with django_capture_on_commit_callbacks(execute=True):  # the playlists are built
        for name, spec in targets.items():
            schedules[name] = create_schedule(
                approved_bulletin(title=name), by=supervisor, start_date=today + dt.timedelta(days=1),
                end_date=today + dt.timedelta(days=1), slots=["morning"], targets=spec)
    return Map(d1, d2, d3, u, v, w, su1, su2, sv, sw, schedules)


def _client(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _ok(client: APIClient, url: str, **params: Any) -> Any:
    response = client.get(url, params)
    assert response.status_code == 200, (url, params, response.status_code, response.content[:300])
    return response.json()


def _codes(client: APIClient, url: str, **params: Any) -> set[str]:
    return {row["code"] for row in _ok(client, url, **params)["results"]}


def _schedule_names(city: Map, client: APIClient, **params: Any) -> set[str]:
    ids = {row["id"] for row in _ok(client, "/api/v1/schedules/", **params)["results"]}
    return {name for name, s in city.schedules.items() if s.pk in ids}


def _commune_operator(*units: AdminUnit) -> Any:
    return CommuneOperatorFactory(user__username="canboxa-thu", units=list(units)).user


# ---------------------------------------------------------------- the scope itself


def test_commune_operator_scope_is_their_units_of_the_two_level_map(city):
    operator = _commune_operator(city.u)
    assert user_scope(operator) == Scope(frozenset(), frozenset({city.u.pk}))
    assert set(visible_stations(operator).values_list("code", flat=True)) == {"SU1", "SU2"}


def test_a_unit_of_the_old_map_tied_by_mistake_opens_nothing(city):
    # Codes repeat across maps: the old commune 90101 must not open the new unit 90101.
    old = AdminUnitFactory(code=city.u.code, map=AdminUnit.Map.BEFORE_2025, name="Phường cũ")
    operator = _commune_operator(old)
    assert user_scope(operator) == NOTHING
    assert not visible_stations(operator).exists()
    assert _schedule_names(city, _client(operator)) == set()


def test_operators_tied_to_nothing_see_nothing_but_get_no_error(city):
    commune = _commune_operator()
    without_row = UserFactory(username="canboxa-chua-gan", roles=["commune_operator"])
    district = UserFactory(username="canbo-chua-gan", roles=["district_operator"])
    for user in (commune, without_row, district):
        client = _client(user)
        assert user_scope(user) == NOTHING
        assert _codes(client, "/api/v1/stations/") == set()
        assert _ok(client, "/api/v1/districts/")["results"] == []
        assert _ok(client, "/api/v1/schedules/")["results"] == []
        assert _ok(client, "/api/v1/bulletins/")["results"] == []
        tomorrow = (local_today() + dt.timedelta(days=1)).isoformat()
        assert _ok(client, "/api/v1/playlists/", date=tomorrow)["results"] == []
        assert client.get("/api/v1/schedules/", {"unit": city.u.code}).status_code == 404


def test_superusers_and_desk_roles_see_everything(city):
    root = UserFactory(username="root-xa", is_superuser=True)
    assert user_scope(root) is EVERYTHING or user_scope(root).everything
    for role in ("editor", "approver", "supervisor"):
        assert user_scope(UserFactory(roles=[role])).everything
    # A supervisor who is also tied to a unit as an operator still sees everything.
    both = CommuneOperatorFactory(user__roles=["commune_operator", "supervisor"], units=[city.u]).user
    assert user_scope(both).everything


def test_district_and_commune_operator_at_once_sees_the_union(city):
    user = DistrictOperatorFactory(district=city.d1, user__roles=["district_operator", "commune_operator"]).user
    CommuneOperatorFactory(user=user, units=[city.w])
    client = _client(user)
    assert _codes(client, "/api/v1/stations/") == {"SU1", "SV", "SW"}
    assert _schedule_names(city, client) == {"unit_u", "station_sv", "unit_w", "district_d2"}
    assert _schedule_names(city, client, unit=city.w.code) == {"unit_w", "district_d2"}
    assert _schedule_names(city, client, district=city.d1.code) == {"unit_u", "station_sv"}


def test_narrowing_keeps_only_the_operators_part_of_a_unit_or_district(city):
    commune = _commune_operator(city.u)
    part = narrowed_scope(commune, district_code=city.d1.code)
    assert set(Station.objects.filter(part.q()).values_list("code", flat=True)) == {"SU1"}
    assert narrowed_scope(commune, district_code=city.d3.code) is None
    assert narrowed_scope(commune, unit_code=city.v.code) is None
    assert narrowed_scope(commune, unit_code="KHONG-CO") is None
    district = DistrictOperatorFactory(district=city.d1).user
    part = narrowed_scope(district, unit_code=city.u.code)
    assert set(Station.objects.filter(part.q()).values_list("code", flat=True)) == {"SU1"}
    assert narrowed_scope(district, unit_code=city.w.code) is None
    assert narrowed_scope(district, district_code=city.d1.code) == Scope(district_ids=frozenset({city.d1.pk}))


# ---------------------------------------------------------------- every endpoint


def test_registry_endpoints_show_a_commune_operator_only_their_units(city):
    client = _client(_commune_operator(city.u))
    assert _codes(client, "/api/v1/stations/") == {"SU1", "SU2"}
    assert _ok(client, "/api/v1/stations/SU1/")["code"] == "SU1"
    assert client.get("/api/v1/stations/SV/").status_code == 404
    assert client.get("/api/v1/stations/SD3/").status_code == 404
    # The old districts their units' stations stood in, and no other.
    assert _codes(client, "/api/v1/districts/") == {city.d1.code, city.d2.code}
    assert client.patch("/api/v1/stations/SU1/", {"active": False}, format="json").status_code == 403
    assert client.post("/api/v1/stations/SU1/token/").status_code == 403


def test_schedule_endpoints_show_a_commune_operator_what_reaches_their_units(city):
    client = _client(_commune_operator(city.u))
    # Named by unit, or through the old district of one of their stations (SU2 stood in d2).
    assert _schedule_names(city, client) == {"unit_u", "district_d2"}
    assert _schedule_names(city, client, unit=city.u.code) == {"unit_u", "district_d2"}
    assert _schedule_names(city, client, district=city.d1.code) == {"unit_u"}
    assert client.get("/api/v1/schedules/", {"unit": city.v.code}).status_code == 404
    assert client.get("/api/v1/schedules/", {"unit": "KHONG-CO"}).status_code == 404
    assert client.get("/api/v1/schedules/", {"district": city.d3.code}).status_code == 404
    assert client.get("/api/v1/schedules/", {"district": city.d1.code, "unit": city.u.code}).status_code == 400
    assert _ok(client, f"/api/v1/schedules/{city.schedules['unit_u'].pk}/")["targets"]["units"] == [city.u.code]
    assert client.get(f"/api/v1/schedules/{city.schedules['unit_w'].pk}/").status_code == 404
    assert client.get(f"/api/v1/schedules/{city.schedules['station_sv'].pk}/").status_code == 404
    assert client.delete(f"/api/v1/schedules/{city.schedules['unit_u'].pk}/").status_code == 403


def test_bulletin_endpoints_show_a_commune_operator_only_what_airs_in_their_units(city):
    client = _client(_commune_operator(city.u))
    listed = {row["id"] for row in _ok(client, "/api/v1/bulletins/")["results"]}
    assert listed == {city.schedules["unit_u"].bulletin_id, city.schedules["district_d2"].bulletin_id}
    assert client.get(f"/api/v1/bulletins/{city.schedules['unit_u'].bulletin_id}/").status_code == 200
    assert client.get(f"/api/v1/bulletins/{city.schedules['unit_w'].bulletin_id}/").status_code == 404
    assert client.get(f"/api/v1/bulletins/{city.schedules['station_sv'].bulletin_id}/history/").status_code == 404


def test_staff_playlists_show_a_commune_operator_only_their_stations(city):
    client = _client(_commune_operator(city.u))
    tomorrow = (local_today() + dt.timedelta(days=1)).isoformat()
    rows = _ok(client, "/api/v1/playlists/", date=tomorrow)["results"]
    assert {row["station"] for row in rows} == {"SU1", "SU2"}
    assert _ok(client, "/api/v1/playlists/", date=tomorrow, station="SV")["results"] == []


def test_coverage_and_play_log_keep_a_commune_operator_to_their_units(city):
    client = _client(_commune_operator(city.u))
    tomorrow = (local_today() + dt.timedelta(days=1)).isoformat()
    assert client.get("/api/v1/coverage/", {"date": tomorrow}).status_code == 200
    assert client.get("/api/v1/coverage/", {"date": tomorrow, "unit": city.u.code}).status_code == 200
    assert client.get("/api/v1/coverage/", {"date": tomorrow, "unit": city.v.code}).status_code == 404
    assert client.get("/api/v1/coverage/", {"date": tomorrow, "district": city.d3.code}).status_code == 404
    stations = _ok(client, "/api/v1/coverage/stations/", date=tomorrow)
    listed = {row["code"] for row in stations["results"]} if isinstance(stations, dict) else {
        row["code"] for row in stations}
    assert listed == {"SU1", "SU2"}
    assert client.get("/api/v1/coverage/stations/", {"unit": city.w.code}).status_code == 404
    export = client.get("/api/v1/reports/export.csv", {"from": tomorrow, "to": tomorrow})
    assert export.status_code == 200
    text = b"".join(export.streaming_content).decode("utf-8-sig")
    assert "SU1" in text and "SU2" in text and "SV" not in text and "SW" not in text
    assert client.get("/api/v1/reports/export.csv", {"from": tomorrow, "unit": city.v.code}).status_code == 404
    assert client.get("/api/v1/reports/export.csv", {"from": tomorrow, "district": city.d3.code}).status_code == 404


def test_dashboard_shows_a_commune_operator_only_their_units(city):
    operator = _commune_operator(city.u)
    client = APIClient()
    client.force_login(operator)
    page = client.get("/dashboard/")
    assert page.status_code == 200
    html = page.content.decode()
    # Station links, not bare codes: "SV" may occur by chance in the page's random CSRF token.
    assert "/operations/stations/SU1/" in html
    assert "/operations/stations/SV/" not in html and "/operations/stations/SW/" not in html
    assert client.get("/dashboard/stations/SU1/").status_code == 302  # to the station page
    assert client.get("/dashboard/stations/SV/").status_code == 404
    other = client.get("/dashboard/", {"district": city.d3.code})
    assert other.status_code in (200, 404)
    assert "/operations/stations/SD3/" not in other.content.decode()


def test_the_token_endpoint_issues_station_tokens_to_supervisors_only(city):
    assert _client(_commune_operator(city.u)).post("/api/v1/stations/SU1/token/").status_code == 403


def test_an_operator_given_admin_access_gets_no_rights_there_beyond_the_role_grants(city):
    operator = _commune_operator(city.u)
    operator.is_staff = True
    operator.save(update_fields=["is_staff"])
    client = APIClient()
    client.force_login(operator)
    station = f"/admin/stations/station/{city.su1.pk}/change/"
    assert client.get(station).status_code == 200  # view_station: read only
    assert client.post(station, {"name": "Đổi tên"}).status_code == 403
    assert Station.objects.get(pk=city.su1.pk).name == city.su1.name
    for hidden in ("/admin/stations/districtoperator/", "/admin/stations/communeoperator/",
                   "/admin/stations/stationcredential/", "/admin/broadcast/stafftoken/",
                   "/admin/auth/user/", "/admin/broadcast/schedule/add/", "/admin/broadcast/bulletin/add/"):
        assert client.get(hidden).status_code in (403, 404), hidden


def test_the_station_list_answers_404_for_a_district_or_unit_outside_the_operators_scope(city):
    client = _client(_commune_operator(city.u))
    assert client.get("/api/v1/stations/", {"unit": city.v.code}).status_code == 404
    assert client.get("/api/v1/stations/", {"district": city.d3.code}).status_code == 404
    assert client.get("/api/v1/stations/", {"unit": "99999"}).status_code == 404
    own = client.get("/api/v1/stations/", {"unit": city.u.code})
    assert own.status_code == 200
    assert {row["code"] for row in own.json()["results"]} == {"SU1", "SU2"}
    both = client.get("/api/v1/stations/", {"unit": city.u.code, "district": city.d1.code})
    assert both.status_code == 400 and "unit" in both.json()


def test_the_units_list_counts_only_the_stations_an_operator_may_see(city):
    rows = _client(_commune_operator(city.u)).get("/api/v1/units/", {"map": "since_2025"}).json()["results"]
    counts = {row["code"]: row["station_count"] for row in rows}
    assert counts[city.u.code] == 2
    assert counts[city.v.code] == 0


def _admin_rows(client: Any, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200
    return page.content.decode()


def test_an_operator_given_admin_access_sees_only_their_part_of_the_rows_there(city):
    operator = _commune_operator(city.u)
    operator.is_staff = True
    operator.save(update_fields=["is_staff"])
    client = APIClient()
    client.force_login(operator)
    stations = _admin_rows(client, "/admin/stations/station/")
    assert f"/admin/stations/station/{city.su1.pk}/change/" in stations
    assert f"/admin/stations/station/{city.sv.pk}/change/" not in stations
    playlists = _admin_rows(client, "/admin/broadcast/playlist/")
    mine = Playlist.objects.filter(station__unit=city.u)
    others = Playlist.objects.exclude(station__unit=city.u)
    assert mine.exists() and others.exists()
    assert all(f"/admin/broadcast/playlist/{p.pk}/change/" in playlists for p in mine)
    assert not any(f"/admin/broadcast/playlist/{p.pk}/change/" in playlists for p in others)
    schedules = _admin_rows(client, "/admin/broadcast/schedule/")
    assert f"/admin/broadcast/schedule/{city.schedules['unit_u'].pk}/change/" in schedules
    assert f"/admin/broadcast/schedule/{city.schedules['unit_w'].pk}/change/" not in schedules
    bulletins = _admin_rows(client, "/admin/broadcast/bulletin/")
    assert f"/admin/broadcast/bulletin/{city.schedules['unit_u'].bulletin_id}/change/" in bulletins
    assert f"/admin/broadcast/bulletin/{city.schedules['unit_w'].bulletin_id}/change/" not in bulletins
    districts = _admin_rows(client, "/admin/stations/district/")
    assert f"/admin/stations/district/{city.d1.pk}/change/" in districts
    assert f"/admin/stations/district/{city.d3.pk}/change/" not in districts
    assert client.get(f"/admin/stations/station/{city.sv.pk}/change/").status_code == 302  # "no such object"


def test_a_supervisor_in_the_admin_still_sees_every_station(city, supervisor):
    supervisor.is_staff = True
    supervisor.save(update_fields=["is_staff"])
    client = APIClient()
    client.force_login(supervisor)
    stations = _admin_rows(client, "/admin/stations/station/")
    assert all(f"/admin/stations/station/{pk}/change/" in stations for pk in Station.objects.values_list("pk", flat=True))
