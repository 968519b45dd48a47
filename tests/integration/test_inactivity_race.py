"""Two registry changes of the same station reach the inactivity spans at the same moment (two web
workers, or the admin and an import): one span is opened, and neither caller fails."""

from __future__ import annotations

import threading
from unittest import mock

import pytest
from django.db import connection

from broadcast.models import StationInactivity
from broadcast.services.reports import record_activity_changes
from tests.factories import StationFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_concurrent_deactivation_records_open_one_span_and_neither_fails():
    station = StationFactory(active=False)
    manager = StationInactivity.objects
    real_bulk_create = manager.bulk_create
    both_read = threading.Barrier(2, timeout=3)

    def bulk_create_after_the_other_read(objs, *args, **kwargs):  # noqa: ANN001, ANN202
        # Both callers have read "no open span" before either inserts (when nothing serializes them).
        try:
            both_read.wait()
        except threading.BrokenBarrierError:  # the other caller waits for this one's commit
            pass
        return real_bulk_create(objs, *args, **kwargs)

    errors: list[BaseException] = []

    def record() -> None:
        try:
            record_activity_changes([station.pk])
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            connection.close()

    with mock.patch.object(manager, "bulk_create", bulk_create_after_the_other_read):
        threads = [threading.Thread(target=record) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert errors == []
    assert StationInactivity.objects.filter(station=station, until__isnull=True).count() == 1
