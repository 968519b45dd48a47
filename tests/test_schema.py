"""The OpenAPI schema tells the truth: it validates without warnings, every operation documents the
error answers it can give (with the Vietnamese error body), and real answers over real data, nulls
included, conform to it."""

from __future__ import annotations

import datetime as dt

import pytest
import schemathesis
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from broadcast.api.common import local_today
from stations.services import issue_station_token
from tests.factories import StationFactory, approved_bulletin
from tests.test_fuzz_schema import staff_token, wsgi_app  # noqa: F401 - wsgi_app is a fixture

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_the_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


@pytest.fixture(scope="module")
def spec() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def test_every_operation_documents_its_error_answers(spec):
    missing = []
    for label, op in _operations(spec):
        expected = {"400"}
        if any(requirement for requirement in op.get("security", [{}])):  # {} alone = anonymous
            expected |= {"401", "403"}
        if op.get("requestBody"):
            expected |= {"413", "415"}
        if any(p["in"] == "path" for p in op.get("parameters", [])):
            expected.add("404")
        lacking = expected - set(op["responses"])
        if lacking:
            missing.append(f"{label}: {sorted(lacking)}")
    assert not missing, "\n".join(missing)


def test_error_answers_use_the_vietnamese_error_schemas(spec):
    schemas = spec["components"]["schemas"]
    assert schemas["Error"]["required"] == ["detail"]
    assert "tiếng Việt" in schemas["Error"]["description"]
    assert "tiếng Việt" in schemas["ValidationError"]["description"]
    for label, op in _operations(spec):
        for status, response in op["responses"].items():
            if status in {"400", "401", "403", "404", "409", "413", "415", "429"}:
                ref = response["content"]["application/json"]["schema"]["$ref"]
                wanted = "ValidationError" if status == "400" else "Error"
                assert ref == f"#/components/schemas/{wanted}", (label, status, ref)
                assert response["description"], (label, status)


def test_writes_that_can_conflict_document_409(spec):
    operations = dict(_operations(spec))
    for label in ["POST /api/v1/bulletins/{id}/submit/", "POST /api/v1/bulletins/{id}/approve/",
                  "POST /api/v1/schedules/", "DELETE /api/v1/schedules/{id}/"]:
        assert "409" in operations[label]["responses"], label
    assert "409" not in operations["GET /api/v1/bulletins/"]["responses"]


def test_station_endpoints_document_throttling(spec):
    operations = dict(_operations(spec))
    for label in ["GET /api/v1/station/playlist/", "POST /api/v1/station/reports/",
                  "POST /api/v1/station/heartbeat/"]:
        assert "429" in operations[label]["responses"], label


def test_the_coverage_components_list_their_counts(spec):
    schemas = spec["components"]["schemas"]
    counts = {"expected", "played", "failed", "missed", "pending", "coverage_pct"}
    for name in ["CoverageTotals", "DistrictCoverage", "StationCoverage"]:
        assert counts <= set(schemas[name]["properties"]), name


# ---------------------------------------------------------------- real answers over real data


@pytest.fixture
def live(wsgi_app, django_capture_on_commit_callbacks):  # noqa: F811 - the imported fixture
    """The schema as served, bound to the WSGI app, and headers for each role over real data:
    a draft (nothing submitted yet), an approved bulletin scheduled tomorrow on a station that
    has never been seen, and one schedule cancelled."""
    station = StationFactory(code="00001")
    editor = {"Authorization": f"Token {staff_token('schema-editor', 'editor')}"}
    supervisor = {"Authorization": f"Token {staff_token('schema-supervisor', 'supervisor')}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)

    draft = schema["/api/v1/bulletins/"]["POST"].Case(
        body={"title": "Bản nháp", "body": "Nội dung bản nháp."}, media_type="application/json",
    ).call_and_validate(headers=editor, checks=CHECKS)
    assert draft.status_code == 201, draft.text

    tomorrow = (local_today() + dt.timedelta(days=1)).isoformat()
    schedules = []
    for title in ["Lịch tiêm chủng", "Lịch cắt điện"]:
        with django_capture_on_commit_callbacks(execute=True):  # builds the playlists (eager Celery)
            created = schema["/api/v1/schedules/"]["POST"].Case(
                body={"bulletin": approved_bulletin(title=title).pk, "start_date": tomorrow,
                      "end_date": tomorrow, "slots": ["morning"], "targets": {"all": True}},
                media_type="application/json",
            ).call_and_validate(headers=supervisor, checks=CHECKS)
        assert created.status_code == 201, created.text
        schedules.append(created.json()["id"])
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = schema["/api/v1/schedules/{id}/"]["DELETE"].Case(
            path_parameters={"id": schedules[1]}).call_and_validate(headers=supervisor, checks=CHECKS)
    assert cancelled.status_code == 204, cancelled.text

    return {
        "schema": schema, "editor": editor, "supervisor": supervisor, "tomorrow": tomorrow,
        "station": {"Authorization": f"Bearer {issue_station_token(station)}"},
        "draft": draft.json()["id"], "schedules": schedules,
    }


def _get(live, who: str, path: str, path_parameters=None, query=None) -> dict | list:
    case = live["schema"][path]["GET"].Case(path_parameters=path_parameters or {}, query=query or {})
    response = case.call_and_validate(headers=live[who], checks=CHECKS)
    assert response.status_code == 200, (path, response.text)
    return response.json()


def test_a_draft_bulletin_conforms_with_nothing_submitted_yet(live):
    detail = _get(live, "editor", "/api/v1/bulletins/{id}/", {"id": live["draft"]})

    assert detail["submitted_at"] is None
    _get(live, "editor", "/api/v1/bulletins/")
    _get(live, "editor", "/api/v1/bulletins/{id}/history/", {"id": live["draft"]})
    _get(live, "editor", "/api/v1/bulletins/{id}/audio/", {"id": live["draft"]})


def test_active_and_cancelled_schedules_conform(live):
    listed = _get(live, "supervisor", "/api/v1/schedules/")["results"]

    by_id = {s["id"]: s for s in listed}
    assert by_id[live["schedules"][0]]["cancelled_by"] is None
    assert by_id[live["schedules"][1]]["cancelled_by"] == "schema-supervisor"
    for schedule_id in live["schedules"]:
        _get(live, "supervisor", "/api/v1/schedules/{id}/", {"id": schedule_id})


def test_registry_playlists_and_coverage_conform(live):
    station = _get(live, "supervisor", "/api/v1/stations/{code}/", {"code": "00001"})

    assert station["last_seen_at"] is None
    _get(live, "supervisor", "/api/v1/stations/")
    _get(live, "supervisor", "/api/v1/districts/")
    _get(live, "supervisor", "/api/v1/playlists/", query={"date": live["tomorrow"]})
    _get(live, "supervisor", "/api/v1/coverage/", query={"date": live["tomorrow"]})
    _get(live, "supervisor", "/api/v1/coverage/stations/", query={"date": live["tomorrow"]})


def test_the_station_protocol_conforms(live):
    playlist = _get(live, "station", "/api/v1/station/playlist/", query={"date": live["tomorrow"]})

    assert playlist["items"], "the station has tomorrow's plays"
    heartbeat = live["schema"]["/api/v1/station/heartbeat/"]["POST"].Case(
        body={"agent_version": "1.0"}, media_type="application/json",
    ).call_and_validate(headers=live["station"], checks=CHECKS)
    assert heartbeat.status_code == 200
