"""Schemathesis fuzzes every operation of the OpenAPI schema against the Django app in-process (WSGI),
as an editor, a supervisor and a station: no answer is a 500, every answer's status, content type and
body are the ones the schema documents.

Bounded so the suite stays fast on two cores: a few examples per operation, a fixed seed
(derandomized), no example database, no shrinking. `LOA_FUZZ_EXAMPLES=50 pytest tests/test_fuzz_schema.py`
runs a deeper search by hand.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from broadcast.wsgi import application
from stations.services import issue_station_token
from tests.factories import StationFactory, UserFactory, approved_bulletin

EXAMPLES = int(os.environ.get("LOA_FUZZ_EXAMPLES", "10"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
PASSWORD = "mat-khau-thu-nghiem"
# Logging out revokes the very token the run authenticates with (its own tests cover it).
SKIPPED = {"DELETE /api/v1/auth/token/"}


def staff_token(username: str, role: str) -> str:
    UserFactory(username=username, roles=[role])
    response = APIClient().post("/api/v1/auth/token/", {"username": username, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


class InTestTransaction:
    """The project's WSGI app, called in-process inside the test's transaction.

    Like Django's test client, a request must not close the database connection when it starts or
    ends (close_old_connections would: it is inside the test's atomic block), or the test loses its
    transaction on PostgreSQL."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        request_started.disconnect(close_old_connections)
        try:
            response = self.app(environ, start_response)
        finally:
            request_started.connect(close_old_connections)
        return _Closing(response)


class _Closing:
    def __init__(self, response):
        self.response = response

    def __iter__(self):
        return iter(self.response)

    def close(self):  # fires request_finished
        request_finished.disconnect(close_old_connections)
        try:
            self.response.close()
        finally:
            request_finished.connect(close_old_connections)


@pytest.fixture
def wsgi_app(db):
    cache.clear()  # throttling counters: neither inherited from other tests nor left to them
    yield InTestTransaction(application)
    cache.clear()


@pytest.fixture
def api_schema(wsgi_app):
    """The schema as /api/schema/ serves it, bound to the WSGI app, with a little data to find."""
    StationFactory(code="00001")
    approved_bulletin(title="Thông báo lịch tiêm chủng")
    return schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)


@pytest.fixture
def editor_header(api_schema):
    return f"Token {staff_token('fuzz-editor', 'editor')}"


@pytest.fixture
def supervisor_header(api_schema):
    return f"Token {staff_token('fuzz-supervisor', 'supervisor')}"


@pytest.fixture
def station_header(api_schema):
    return f"Bearer {issue_station_token(StationFactory(code='00001'))}"


def fuzz(schema, authorization: str) -> None:
    """Every operation in turn (the schema's own order); all failures are reported together."""
    failures = []
    answered: Counter[int] = Counter()
    not_generated: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label in SKIPPED:
            continue

        # Valid data per the schema, then data that breaks it (wrong types, missing fields, bad values).
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @FUZZ
            @given(case=operation.as_strategy(generation_mode=mode))
            def exercise(case):
                response = case.call_and_validate(headers={"Authorization": authorization}, checks=CHECKS)
                answered[response.status_code] += 1

            try:
                exercise()
            except Unsatisfiable as exc:
                # A parameter that takes any string has no invalid value to draw (which draws Hypothesis
                # tries before giving up varies with the run); that says nothing about the server.
                if mode is not GenerationMode.NEGATIVE:
                    failures.append(f"{operation.label} ({mode.value}): {exc}")
                not_generated.append(operation.label)
            except Exception as exc:  # noqa: BLE001 - collected, then reported together
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
    # The run really got in: a token that stopped working would turn every answer into a 401.
    assert sum(n for status, n in answered.items() if status < 300) >= 10, answered
    print(f"fuzz answers by status: {dict(sorted(answered.items()))}; no invalid data for {not_generated}")


def test_fuzz_as_an_editor(api_schema, editor_header):
    fuzz(api_schema, editor_header)


def test_fuzz_as_a_supervisor(api_schema, supervisor_header):
    fuzz(api_schema, supervisor_header)


def test_fuzz_as_a_station(api_schema, station_header):
    fuzz(api_schema, station_header)
