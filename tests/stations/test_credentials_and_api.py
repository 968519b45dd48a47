import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from stations.models import Station, StationCredential
from stations.services import issue_station_token
from tests.factories import DistrictFactory, StationFactory, UserFactory


@pytest.mark.django_db
def test_token_is_stored_only_as_a_hash(station):
    token = issue_station_token(station)
    credential = StationCredential.objects.get(station=station)
    assert token not in credential.token_hash
    assert token not in str(list(StationCredential.objects.values_list()))
    assert len(credential.token_hash) == 64 and credential.prefix == token[:6]


@pytest.mark.django_db
def test_supervisor_issues_a_token_that_authenticates_the_station(client_for, supervisor, station):
    response = client_for(supervisor).post(f"/api/v1/stations/{station.code}/token/")
    assert response.status_code == 201
    assert response.json()["station"] == station.code
    from stations.auth import StationTokenAuthentication

    request = RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {response.json()['token']}")
    user, _ = StationTokenAuthentication().authenticate(request)
    assert user.station == station


@pytest.mark.django_db
def test_issuing_a_new_token_revokes_the_old_one(station):
    from stations.auth import StationTokenAuthentication

    old = issue_station_token(station)
    new = issue_station_token(station)
    assert StationCredential.objects.filter(station=station, revoked_at__isnull=True).count() == 1

    def Req(token):  # noqa: N802
        return RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {token}")

    from rest_framework.exceptions import AuthenticationFailed

    with pytest.raises(AuthenticationFailed):
        StationTokenAuthentication().authenticate(Req(old))
    assert StationTokenAuthentication().authenticate(Req(new))[0].station == station


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["editor", "approver", "district_operator"])
def test_only_supervisors_issue_station_tokens(client_for, role, station):
    user = UserFactory(roles=[role])
    response = client_for(user).post(f"/api/v1/stations/{station.code}/token/")
    assert response.status_code == 403
    assert not StationCredential.objects.exists()


@pytest.mark.django_db
def test_wrong_or_revoked_station_token_gets_401_on_station_endpoints(station):
    # Staff endpoints are the only ones in the foundation; a bad Bearer token is refused before any view.
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-real-token")
    assert client.get("/api/v1/stations/").status_code == 401
    old = issue_station_token(station)
    issue_station_token(station)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {old}")
    assert client.get("/api/v1/stations/").status_code == 401


@pytest.mark.django_db
def test_station_token_cannot_use_staff_endpoints(station_client_for, station):
    client = station_client_for(station)
    # The token authenticates (not 401), but no staff permission accepts a station.
    assert client.get("/api/v1/stations/").status_code == 403
    assert client.get("/api/v1/districts/").status_code == 403
    assert client.post(f"/api/v1/stations/{station.code}/token/").status_code == 403
    assert not StationCredential.objects.filter(station=station, revoked_at__isnull=True).count() > 1


@pytest.mark.django_db
def test_staff_token_login_then_token_auth(api_client):
    UserFactory(username="giamsat1", roles=["supervisor"])
    response = api_client.post("/api/v1/auth/token/", {"username": "giamsat1", "password": "mat-khau-thu-nghiem"})
    assert response.status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert api_client.get("/api/v1/districts/").status_code == 200


@pytest.mark.django_db
def test_bad_login_is_400_with_a_message(api_client):
    response = api_client.post("/api/v1/auth/token/", {"username": "x"})
    assert response.status_code == 400
    assert "password" in response.json()


@pytest.mark.django_db
def test_station_list_filters_and_paginates(client_for, supervisor):
    d1, d2 = DistrictFactory(code="001"), DistrictFactory(code="002")
    StationFactory.create_batch(3, district=d1)
    StationFactory(district=d2, kind=Station.Kind.DISTRICT_CENTER)
    StationFactory(district=d2, active=False)
    client = client_for(supervisor)
    body = client.get("/api/v1/stations/", {"district": "001"}).json()
    assert body["count"] == 3 and {"count", "next", "previous", "results"} <= set(body)
    assert set(body["results"][0]) >= {"code", "name", "kind", "district", "admin_code", "slots", "active",
                                       "last_seen_at", "status"}
    assert client.get("/api/v1/stations/", {"kind": "district_center"}).json()["count"] == 1
    assert client.get("/api/v1/stations/", {"active": "false"}).json()["count"] == 1
    assert client.get("/api/v1/stations/", {"status": "never"}).json()["count"] == 5
    districts = client.get("/api/v1/districts/").json()["results"]
    assert {d["code"]: d["station_count"] for d in districts} == {"001": 3, "002": 1}


@pytest.mark.django_db
def test_district_operator_sees_only_their_district(client_for, district_operator):
    own = district_operator.district_operator.district
    mine = StationFactory(district=own)
    other = StationFactory(district=DistrictFactory())
    client = client_for(district_operator)
    codes = [s["code"] for s in client.get("/api/v1/stations/").json()["results"]]
    assert codes == [mine.code]
    assert client.get(f"/api/v1/stations/{other.code}/").status_code == 404
    assert [d["code"] for d in client.get("/api/v1/districts/").json()["results"]] == [own.code]


@pytest.mark.django_db
def test_anonymous_requests_are_refused(api_client):
    assert api_client.get("/api/v1/stations/").status_code == 401


@pytest.mark.django_db
def test_openapi_schema_and_docs_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


@pytest.mark.django_db
def test_supervisor_revokes_a_station_token_without_issuing_a_new_one(client_for, supervisor, station,
                                                                     station_client_for):
    device = station_client_for(station)
    beat = {"agent_version": "1.0"}
    assert device.post("/api/v1/station/heartbeat/", beat, format="json").status_code == 200

    response = client_for(supervisor).delete(f"/api/v1/stations/{station.code}/token/")

    assert response.status_code == 204
    assert not StationCredential.objects.filter(station=station, revoked_at__isnull=True).exists()
    refused = device.post("/api/v1/station/heartbeat/", beat, format="json")
    assert refused.status_code == 401 and "thu hồi" in refused.json()["detail"]
    # Revoking again changes nothing and is not an error.
    assert client_for(supervisor).delete(f"/api/v1/stations/{station.code}/token/").status_code == 204
    assert client_for(supervisor).delete("/api/v1/stations/KHONG-CO/token/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["editor", "approver", "district_operator"])
def test_only_supervisors_revoke_station_tokens(client_for, role, station):
    issue_station_token(station)
    response = client_for(UserFactory(roles=[role])).delete(f"/api/v1/stations/{station.code}/token/")
    assert response.status_code == 403
    assert StationCredential.objects.filter(station=station, revoked_at__isnull=True).exists()


@pytest.mark.django_db
def test_revoke_station_token_command(station, station_client_for):
    from io import StringIO

    from django.core.management import CommandError, call_command

    device = station_client_for(station)
    out = StringIO()
    call_command("revoke_station_token", station.code, stdout=out)

    assert "Đã thu hồi 1 khóa" in out.getvalue()
    assert device.post("/api/v1/station/heartbeat/", {"agent_version": "1.0"}, format="json").status_code == 401
    with pytest.raises(CommandError, match="Không có đài"):
        call_command("revoke_station_token", "KHONG-CO")


@pytest.mark.django_db
def test_a_revoked_station_gets_401_on_the_fast_unchanged_playlist_poll(client_for, supervisor, station,
                                                                       station_client_for):
    device = station_client_for(station)
    first = device.get("/api/v1/station/playlist/")
    assert first.status_code == 200
    assert device.get("/api/v1/station/playlist/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304

    assert client_for(supervisor).delete(f"/api/v1/stations/{station.code}/token/").status_code == 204

    assert device.get("/api/v1/station/playlist/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 401
