"""Ringing stations about an emergency through a real Mosquitto: one command per station holding the play,
a retained current emergency, re-sends and the unreachable list after their deadlines, every attempt
recorded, the broker being down losing nothing, and a cancel clearing what was retained."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from broadcast.models import EmergencyDelivery, PushAttempt
from broadcast.services.push import escalate, push_emergency
from broadcast.services.schedules import cancel_schedule
from tests.factories import StationFactory

from .push_helpers import immediate_schedule, listener_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def stations(db):
    return StationFactory.create_batch(3)


def test_each_station_holding_the_play_gets_one_command_and_a_retained_current_emergency(
        mqtt_broker, supervisor, stations):
    schedule = immediate_schedule(supervisor)
    with listener_for(mqtt_broker) as listener:
        stats = push_emergency(schedule.pk)
        commands = listener.wait_for(3)
        retained = listener.wait_for(3, leaf="emergency")
    assert stats.deliveries == 3 and stats.published == 3 and stats.failed == 0
    codes = {s.code for s in stations}
    assert {c.topic for c in commands} == {f"loa/st/{code}/cmd" for code in codes}
    command = commands[0].json
    code = command["station"]
    assert command["id"] == f"em-{schedule.pk}" and command["kind"] == "emergency"
    assert command["schedule"] == schedule.pk
    delivery = EmergencyDelivery.objects.get(schedule=schedule, station__code=code)
    assert command["item"] == delivery.item_id
    assert command["audio"]["sha256"] == schedule.bulletin.live_revision.rendition.sha256
    assert command["audio"]["url"] == f"/api/v1/station/audio/{command['audio']['sha256']}.mp3"
    assert dt.datetime.fromisoformat(command["expires_at"]) > timezone.now()
    assert {r.topic for r in retained} == {f"loa/st/{code}/emergency" for code in codes}
    assert all(d.state == "sent" and d.attempts == 1 for d in EmergencyDelivery.objects.all())
    assert PushAttempt.objects.filter(kind="send", outcome="published").count() == 3


def test_a_new_subscriber_gets_the_retained_emergency_at_once(mqtt_broker, supervisor, stations):
    schedule = immediate_schedule(supervisor)
    push_emergency(schedule.pk)
    with listener_for(mqtt_broker, topics=("loa/st/+/emergency",)) as late:
        retained = late.wait_for(3, leaf="emergency")
    assert len(retained) == 3 and all(r.retain for r in retained)
    assert all(r.json["id"] == f"em-{schedule.pk}" for r in retained)


def test_running_the_push_twice_rings_each_station_once(mqtt_broker, supervisor, stations):
    schedule = immediate_schedule(supervisor)
    with listener_for(mqtt_broker) as listener:
        push_emergency(schedule.pk)
        again = push_emergency(schedule.pk)
        listener.wait_for(4, timeout=1.0)
    assert again.deliveries == 0
    assert len([h for h in listener.heard if h.topic.endswith("/cmd")]) == 3
    assert PushAttempt.objects.count() == 3


def test_with_the_broker_down_the_attempt_is_recorded_failed_and_the_sweep_rings_again(
        mqtt_broker, supervisor, stations, settings):
    settings.MQTT_CONNECT_TIMEOUT_S = 0.5
    schedule = immediate_schedule(supervisor)
    mqtt_broker.stop()
    stats = push_emergency(schedule.pk)
    assert stats.published == 0 and stats.failed == 3 and "Không kết nối được" in stats.error
    assert set(EmergencyDelivery.objects.values_list("state", flat=True)) == {"sent"}
    assert set(PushAttempt.objects.values_list("outcome", flat=True)) == {"failed"}

    mqtt_broker.start()
    later = timezone.now() + dt.timedelta(seconds=settings.PUSH_RESEND_AFTER_S + 1)
    with listener_for(mqtt_broker) as listener:
        swept = escalate(now=later)
        assert len(listener.wait_for(3)) == 3
    assert swept.published == 3
    assert PushAttempt.objects.filter(kind="resend", outcome="published").count() == 3
    assert set(EmergencyDelivery.objects.values_list("attempts", flat=True)) == {2}


def test_escalation_rings_again_after_the_deadline_then_lists_the_silent_as_unreachable(
        mqtt_broker, supervisor, stations, settings):
    settings.PUSH_RESEND_AFTER_S, settings.PUSH_UNREACHABLE_AFTER_S = 20, 90
    schedule = immediate_schedule(supervisor)
    start = timezone.now()
    push_emergency(schedule.pk, now=start)
    answering = EmergencyDelivery.objects.filter(schedule=schedule).first()
    answering.apply_ack("received", start + dt.timedelta(seconds=2))
    answering.save()

    assert escalate(now=start + dt.timedelta(seconds=10)).deliveries == 0  # not yet due
    resent = escalate(now=start + dt.timedelta(seconds=21))
    assert resent.deliveries == 2 and resent.unreachable == 0
    assert escalate(now=start + dt.timedelta(seconds=30)).deliveries == 0  # rung 9 s ago
    late = escalate(now=start + dt.timedelta(seconds=91))
    assert late.unreachable == 2
    unreachable = EmergencyDelivery.objects.filter(unreachable_at__isnull=False)
    assert set(unreachable.values_list("station_id", flat=True)) == {
        d.station_id for d in EmergencyDelivery.objects.exclude(pk=answering.pk)}
    assert escalate(now=start + dt.timedelta(seconds=200)).deliveries == 0  # a person phones them now
    attempts = PushAttempt.objects.filter(delivery__in=unreachable)
    assert list(attempts.values_list("kind", flat=True).distinct().order_by("kind")) == ["resend", "send"]
    assert all(d.attempts == 2 for d in unreachable)


def test_a_late_acknowledgement_takes_a_station_off_the_unreachable_list(supervisor, stations):
    row = EmergencyDelivery(state="sent", unreachable_at=timezone.now(), expires_at=timezone.now())
    assert row.apply_ack("received", timezone.now()) == ["received_at", "state", "unreachable_at"]
    assert row.unreachable_at is None


def test_cancelling_tells_every_rung_station_to_stop_and_clears_the_retained_emergency(
        mqtt_broker, supervisor, stations, django_capture_on_commit_callbacks):
    schedule = immediate_schedule(supervisor)
    push_emergency(schedule.pk)
    with listener_for(mqtt_broker) as listener:
        with django_capture_on_commit_callbacks(execute=True):
            cancel_schedule(schedule, supervisor)
        cancels = listener.wait_for(3)
    assert {c.json["id"] for c in cancels} == {f"cancel-{schedule.pk}"}
    assert all(c.json["kind"] == "cancel" for c in cancels)
    assert PushAttempt.objects.filter(kind="cancel", outcome="published").count() == 3
    with listener_for(mqtt_broker, topics=("loa/st/+/emergency",)) as late:
        assert late.wait_for(1, timeout=0.5, leaf="emergency") == []


def test_without_a_broker_configured_deliveries_still_collect_acknowledgements(supervisor, stations, settings):
    settings.MQTT_URL = ""
    schedule = immediate_schedule(supervisor)
    stats = push_emergency(schedule.pk)
    assert stats.deliveries == 3 and stats.published == 0 and stats.error == ""
    assert set(EmergencyDelivery.objects.values_list("state", flat=True)) == {"pending"}
    assert not PushAttempt.objects.exists()
    assert escalate(now=timezone.now() + dt.timedelta(hours=1)).unreachable == 0


def test_the_retained_emergency_expires_with_the_command(mqtt_broker, supervisor, stations, settings):
    settings.PUSH_COMMAND_TTL_S = 1
    schedule = immediate_schedule(supervisor)
    push_emergency(schedule.pk)
    time.sleep(2.2)
    with listener_for(mqtt_broker, topics=("loa/st/+/emergency",)) as late:
        assert late.wait_for(1, timeout=0.5, leaf="emergency") == []
    assert escalate(now=timezone.now() + dt.timedelta(minutes=5)).deliveries == 0  # expired: not rung again
