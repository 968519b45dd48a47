"""Stations acknowledge an emergency (received → downloaded → started → completed/failed/interrupted), over
HTTP from their report queue and over MQTT: stored per (schedule, station), idempotently, forward only;
a bad one never sinks the batch; staff read the deliveries by state."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time

import paho.mqtt.client as mqtt
import pytest
from django.utils import timezone

from broadcast.management.commands.push_listen import listen, store
from broadcast.models import EmergencyDelivery
from broadcast.push.publisher import BrokerAddress
from broadcast.services.push import push_emergency
from stations.agent.credentials import mqtt_password
from stations.services.credentials import issue_station_token
from tests.factories import StationFactory

from .push_helpers import immediate_schedule

URL = "/api/v1/station/acks/"


def _ack(schedule, state, seconds=1.0, **extra):
    at = timezone.localtime() + dt.timedelta(seconds=seconds)
    return {"command": f"em-{schedule.pk}", "schedule": schedule.pk, "state": state, "at": at.isoformat(), **extra}


@pytest.fixture
def sent(db, supervisor, settings):
    settings.MQTT_URL = ""  # rung or not, acknowledgements land the same way
    stations = StationFactory.create_batch(2)
    schedule = immediate_schedule(supervisor)
    push_emergency(schedule.pk)
    return schedule, stations


def test_acknowledgements_move_the_delivery_forward_and_keep_each_time(sent, station_client_for):
    schedule, (station, _) = sent
    client = station_client_for(station)
    answer = client.post(URL, {"acks": [_ack(schedule, "received", 1), _ack(schedule, "downloaded", 2),
                                        _ack(schedule, "started", 3)]}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"accepted": 3, "duplicates": 0, "rejected": []}
    row = EmergencyDelivery.objects.get(schedule=schedule, station=station)
    assert row.state == "started"
    assert row.received_at < row.downloaded_at < row.started_at and row.ended_at is None


def test_the_same_acknowledgement_twice_changes_nothing(sent, station_client_for):
    schedule, (station, _) = sent
    client = station_client_for(station)
    ack = _ack(schedule, "started")
    client.post(URL, {"acks": [ack]}, format="json")
    again = client.post(URL, {"acks": [ack]}, format="json").json()
    assert again == {"accepted": 0, "duplicates": 1, "rejected": []}


def test_a_late_lower_acknowledgement_fills_its_time_but_never_moves_the_state_back(sent, station_client_for):
    schedule, (station, _) = sent
    client = station_client_for(station)
    client.post(URL, {"acks": [_ack(schedule, "completed", 40)]}, format="json")
    client.post(URL, {"acks": [_ack(schedule, "received", 1)]}, format="json")
    row = EmergencyDelivery.objects.get(schedule=schedule, station=station)
    assert row.state == "completed" and row.received_at is not None and row.ended_at is not None


def test_a_failure_keeps_its_reason(sent, station_client_for):
    schedule, (station, _) = sent
    station_client_for(station).post(URL, {"acks": [_ack(schedule, "failed", reason="Loa hỏng")]}, format="json")
    row = EmergencyDelivery.objects.get(schedule=schedule, station=station)
    assert (row.state, row.reason) == ("failed", "Loa hỏng")


def test_one_bad_acknowledgement_is_listed_and_the_others_are_kept(sent, station_client_for):
    schedule, (station, _) = sent
    body = {"acks": [_ack(schedule, "received"), {"schedule": schedule.pk, "state": "exploded", "at": "x"},
                     _ack(schedule, "started"), "not an object"]}
    answer = station_client_for(station).post(URL, body, format="json")
    assert answer.status_code == 200
    result = answer.json()
    assert result["accepted"] == 2
    assert [r["index"] for r in result["rejected"]] == [1, 3]
    assert set(result["rejected"][0]["errors"]) == {"state", "at"}
    assert "Trạng thái" in result["rejected"][0]["errors"]["state"][0]


def test_an_emergency_the_station_does_not_hold_is_refused(sent, station_client_for, supervisor):
    schedule, (station, _) = sent
    other = StationFactory()
    answer = station_client_for(other).post(URL, {"acks": [_ack(schedule, "received")]}, format="json")
    assert answer.json()["rejected"][0]["errors"]["schedule"] == ["Đài không có tin khẩn cấp này trong danh sách phát."]
    assert not EmergencyDelivery.objects.filter(station=other).exists()


def test_a_station_that_learned_of_the_emergency_by_polling_gets_its_delivery_on_its_first_ack(
        sent, station_client_for):
    schedule, (station, _) = sent
    EmergencyDelivery.objects.filter(station=station).delete()
    station_client_for(station).post(URL, {"acks": [_ack(schedule, "started")]}, format="json")
    assert EmergencyDelivery.objects.get(schedule=schedule, station=station).state == "started"


@pytest.mark.parametrize("body", [{}, {"acks": "x"}, [1, 2]])
def test_a_malformed_envelope_is_a_400_in_vietnamese(sent, station_client_for, body):
    _, (station, _) = sent
    answer = station_client_for(station).post(URL, body, format="json")
    assert answer.status_code == 400
    assert "acks" in answer.json()


def test_too_many_acknowledgements_at_once_is_a_413(sent, station_client_for):
    schedule, (station, _) = sent
    answer = station_client_for(station).post(URL, {"acks": [_ack(schedule, "received")] * 501}, format="json")
    assert answer.status_code == 413 and "Tối đa 500" in answer.json()["detail"]


def test_without_a_token_nothing_is_stored(sent, api_client):
    schedule, _ = sent
    assert api_client.post(URL, {"acks": [_ack(schedule, "received")]}, format="json").status_code == 401


def test_staff_read_the_deliveries_by_state(sent, station_client_for, client_for, supervisor):
    schedule, (first, second) = sent
    station_client_for(first).post(URL, {"acks": [_ack(schedule, "started")]}, format="json")
    staff = client_for(supervisor)
    answer = staff.get(f"/api/v1/emergencies/{schedule.pk}/deliveries/").json()
    counts = answer["counts"]
    assert counts["total"] == 2 and counts["states"]["started"] == 1 and counts["states"]["pending"] == 1
    assert counts["reached"]["received"] == 1 and counts["reached"]["started"] == 1  # "started" implies received
    started = staff.get(f"/api/v1/emergencies/{schedule.pk}/deliveries/?state=started").json()
    assert [r["code"] for r in started["results"]] == [first.code]
    assert staff.get(f"/api/v1/emergencies/{schedule.pk}/deliveries/?state=nope").status_code == 400


def test_the_listener_stores_mqtt_acknowledgements_by_the_topic_s_station_and_drops_bad_ones(sent):
    schedule, (station, other) = sent
    batch = [
        (f"loa/st/{station.code}/ack", json.dumps(_ack(schedule, "received")).encode()),
        (f"loa/st/{station.code}/ack", b"{not json"),
        (f"loa/st/{other.code}/ack", json.dumps(_ack(schedule, "started")).encode()),
        ("loa/st/NO-SUCH/ack", json.dumps(_ack(schedule, "started")).encode()),
    ]
    assert store(batch, {}) == 2
    states = dict(EmergencyDelivery.objects.values_list("station__code", "state"))
    assert states == {station.code: "received", other.code: "started"}


@pytest.mark.django_db(transaction=True)
def test_an_ack_a_station_publishes_reaches_the_database_through_the_broker_and_the_listener(
        mqtt_broker, supervisor, settings):
    station = StationFactory()
    token = issue_station_token(station)
    mqtt_broker.sync()
    schedule = immediate_schedule(supervisor)
    push_emergency(schedule.pk)
    stop = threading.Event()
    listener = threading.Thread(target=listen, args=(BrokerAddress.parse(settings.MQTT_URL), "test-listen", stop))
    listener.start()
    try:
        box = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=station.code)
        box.username_pw_set(station.code, mqtt_password(token))
        box.connect(mqtt_broker.host, mqtt_broker.station_port)
        box.loop_start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # resent until the listener, subscribing meanwhile, stored it
            box.publish(f"loa/st/{station.code}/ack", json.dumps(_ack(schedule, "started")), qos=1).wait_for_publish(5)
            if EmergencyDelivery.objects.filter(station=station, state="started").exists():
                break
            time.sleep(0.2)
        box.disconnect()
        box.loop_stop()
        assert EmergencyDelivery.objects.get(station=station).state == "started"
    finally:
        stop.set()
        listener.join(10)


def test_a_listener_batch_costs_the_same_statements_for_two_stations_or_six(db, supervisor, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.MQTT_URL = ""
    stations = StationFactory.create_batch(6)
    schedule = immediate_schedule(supervisor)
    push_emergency(schedule.pk)

    def batch(group, state):
        return [(f"loa/st/{s.code}/ack", json.dumps(_ack(schedule, state)).encode()) for s in group]

    codes = {s.code: s.pk for s in stations}
    with CaptureQueriesContext(connection) as two:
        assert store(batch(stations[:2], "received"), dict(codes)) == 2
    with CaptureQueriesContext(connection) as six:
        assert store(batch(stations, "started"), dict(codes)) == 6
    assert len(six) == len(two)
    assert set(EmergencyDelivery.objects.values_list("state", flat=True)) == {"started"}
