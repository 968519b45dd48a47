"""GET /api/v1/emergencies/<schedule id>/: staff follow an emergency's confirmations through the API, the
counts and the stations in one state a page at a time, scoped like the live page."""

from __future__ import annotations

import pytest
import schemathesis
from django.db import connection
from django.test.utils import CaptureQueriesContext

from broadcast.models import PlaylistItem
from broadcast.services.reports import ingest_reports
from stations.models import EMERGENCY_SLOT
from tests.broadcast.factories_reports import report
from tests.factories import DistrictOperatorFactory, StationFactory, UserFactory
from tests.test_fuzz_schema import staff_token, wsgi_app  # noqa: F401 - wsgi_app is a fixture
from tests.test_schema import CHECKS

from .test_emergency_pages import emergency_bulletin, make_city, send


@pytest.fixture
def city(db):
    return make_city()


def url(schedule) -> str:
    return f"/api/v1/emergencies/{schedule.pk}/"


@pytest.fixture
def sent(supervisor, city, django_capture_on_commit_callbacks):
    schedule = send(supervisor, emergency_bulletin(), capture=django_capture_on_commit_callbacks)
    online, silent, never, online2, late = city["stations"]
    for n, (station, status) in enumerate([(online, "played"), (online2, "played"), (late, "failed")]):
        item = PlaylistItem.objects.get(schedule=schedule, slot=EMERGENCY_SLOT, playlist__station=station)
        ingest_reports(station, [report(item, f"api{n}", status=status)])
    return schedule


def test_counts_and_the_stations_of_one_state(client_for, supervisor, city, sent):
    api = client_for(supervisor)
    body = api.get(url(sent)).json()
    assert body["id"] == sent.pk and body["title"] == "Khẩn cấp: bão số 5 đổ bộ"
    assert body["counts"] == {"targeted": 5, "delivered": 5, "confirmed": 2, "trouble": 1, "waiting": 2,
                              "percent": 40}
    assert body["finished"] is False and body["count"] == 5
    online, silent, never, online2, late = city["stations"]
    confirmed = api.get(url(sent), {"state": "confirmed"}).json()
    assert [r["code"] for r in confirmed["results"]] == sorted([online.code, online2.code])
    assert confirmed["results"][0]["outcome"] == "confirmed" and confirmed["results"][0]["reported_at"]
    to_call = api.get(url(sent), {"state": "to_call"}).json()
    assert [r["code"] for r in to_call["results"]] == [silent.code, never.code, late.code]
    assert to_call["results"][0]["contact_phone"] == "0987654321"


def test_the_answer_reads_a_fixed_number_of_queries_whatever_the_station_count(
        client_for, supervisor, city, sent, django_capture_on_commit_callbacks):
    api = client_for(supervisor)
    api.get(url(sent))
    with CaptureQueriesContext(connection) as few:
        assert api.get(url(sent)).json()["count"] == 5
    StationFactory.create_batch(20, district=city["south"])
    second = send(supervisor, emergency_bulletin("Khẩn cấp: lũ"), capture=django_capture_on_commit_callbacks)
    with CaptureQueriesContext(connection) as many:
        body = api.get(url(second), {"page": 1}).json()
    assert body["count"] == 25 and len(body["results"]) == 25
    assert len(many) == len(few)


def test_operators_see_their_part_and_nothing_outside_it(client_for, supervisor, city, sent):
    operator = DistrictOperatorFactory(district=city["south"]).user
    body = client_for(operator).get(url(sent)).json()
    assert body["counts"]["targeted"] == 2 and body["whole"] is False
    assert {r["code"] for r in body["results"]} == {s.code for s in city["stations"][3:]}


def test_refusals_are_vietnamese(client_for, supervisor, sent):
    api = client_for(supervisor)
    bad = api.get(url(sent), {"state": "xyz"})
    assert bad.status_code == 400 and "Trạng thái" in bad.json()["state"][0]
    missing = api.get("/api/v1/emergencies/999999/")
    assert missing.status_code == 404 and "Không tìm thấy" in missing.json()["detail"]
    assert client_for(UserFactory(roles=["editor"])).get(url(sent)).status_code == 403


def test_the_answer_conforms_to_the_openapi_schema_nulls_included(wsgi_app, city, sent):  # noqa: F811
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)
    headers = {"Authorization": f"Token {staff_token('schema-emergency', 'supervisor')}"}
    operation = schema["/api/v1/emergencies/{id}/"]["GET"]
    for query in ({}, {"state": "waiting"}, {"state": "confirmed"}):
        response = operation.Case(path_parameters={"id": sent.pk}, query=query).call_and_validate(
            headers=headers, checks=CHECKS)
        assert response.status_code == 200, response.text
    waiting = operation.Case(path_parameters={"id": sent.pk}, query={"state": "waiting"}).call(headers=headers)
    assert all(r["reported_at"] is None for r in waiting.json()["results"])
