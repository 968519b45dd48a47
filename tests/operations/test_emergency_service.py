"""Sending an emergency is a service: the immediate schedule of an approved emergency bulletin, and the
same bulletin is not sent twice within a minute (a second click, another supervisor's tab)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from broadcast.models import Bulletin, Schedule
from broadcast.services import emergency as services
from broadcast.services.schedules import ScheduleValidationError, cancel_schedule
from tests.broadcast.factories_reports import plain_bulletin
from tests.factories import StationFactory


@pytest.fixture
def bulletin(db) -> Bulletin:
    StationFactory.create_batch(3)
    bulletin = plain_bulletin("Khẩn cấp: sạt lở đất", duration_ms=40_000)
    Bulletin.objects.filter(pk=bulletin.pk).update(priority=Bulletin.Priority.EMERGENCY)
    bulletin.refresh_from_db()
    return bulletin


def test_sending_makes_one_immediate_schedule_for_the_stations_reached(supervisor, bulletin):
    sent = services.send_emergency(bulletin, by=supervisor, targets={"all": True})
    assert sent.created
    assert sent.schedule.immediate and sent.schedule.created_by == supervisor
    assert sent.schedule.target_station_count == 3


def test_the_same_bulletin_within_a_minute_answers_with_the_one_just_sent(supervisor, bulletin):
    first = services.send_emergency(bulletin, by=supervisor, targets={"all": True})
    again = services.send_emergency(bulletin, by=supervisor, targets={"all": True})
    assert not again.created and again.schedule.pk == first.schedule.pk
    assert services.just_sent(bulletin).pk == first.schedule.pk
    assert Schedule.objects.count() == 1


def test_after_a_minute_or_a_cancel_the_same_bulletin_may_be_sent_again(supervisor, bulletin):
    first = services.send_emergency(bulletin, by=supervisor, targets={"all": True}).schedule
    Schedule.objects.filter(pk=first.pk).update(created_at=timezone.now() - dt.timedelta(seconds=61))
    second = services.send_emergency(bulletin, by=supervisor, targets={"all": True})
    assert second.created and second.schedule.pk != first.pk
    cancel_schedule(second.schedule, supervisor)
    third = services.send_emergency(bulletin, by=supervisor, targets={"all": True})
    assert third.created and Schedule.objects.count() == 3


def test_a_normal_bulletin_is_refused_and_nothing_is_made(supervisor, db):
    StationFactory()
    normal = plain_bulletin("Lịch tiêm chủng")
    with pytest.raises(ScheduleValidationError):
        services.send_emergency(normal, by=supervisor, targets={"all": True})
    assert not Schedule.objects.exists()
