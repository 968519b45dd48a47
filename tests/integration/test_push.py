"""An emergency made through the service is rung by a real Celery worker through CI's real Mosquitto: the
station, logged in with the password derived from its token, receives its command on its own topic."""

from __future__ import annotations

import json
import os
import queue
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import pytest

from broadcast.models import Bulletin, EmergencyDelivery, PushAttempt
from broadcast.services.schedules import create_schedule
from stations.agent.credentials import mqtt_password
from stations.services import issue_station_token
from tests.factories import StationFactory, UserFactory, approved_bulletin

pytestmark = [
    pytest.mark.integration, pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("MQTT_URL") or not os.environ.get("MQTT_PUBLIC_URL"),
                       reason="needs CI's broker (MQTT_URL, MQTT_PUBLIC_URL: .ci/run starts one)"),
]


def test_the_worker_rings_the_station_that_holds_the_emergency(celery_worker):
    station = StationFactory(code="ITPUSH1")
    token = issue_station_token(station)  # rewrites the broker's password file and reloads it
    heard: queue.Queue = queue.Queue()
    address = urlsplit(os.environ["MQTT_PUBLIC_URL"])
    box = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=station.code)
    box.username_pw_set(station.code, mqtt_password(token))
    box.on_connect = lambda c, *_: c.subscribe(f"loa/st/{station.code}/cmd", qos=1)
    box.on_subscribe = lambda *_: heard.put("subscribed")
    box.on_message = lambda _c, _u, message: heard.put(json.loads(message.payload))
    box.connect(address.hostname, address.port)
    box.loop_start()
    try:
        assert heard.get(timeout=10) == "subscribed"
        bulletin = approved_bulletin(priority=Bulletin.Priority.EMERGENCY)
        schedule = create_schedule(bulletin, by=UserFactory(roles=["supervisor"]), start_date=None,
                                   end_date=None, slots=[], targets={"stations": [station.code]}, immediate=True)
        command = heard.get(timeout=30)
    finally:
        box.disconnect()
        box.loop_stop()
    assert command["kind"] == "emergency" and command["id"] == f"em-{schedule.pk}"
    delivery = EmergencyDelivery.objects.get(schedule=schedule, station=station)
    assert command["item"] == delivery.item_id and delivery.state == "sent"
    assert PushAttempt.objects.get(delivery=delivery).outcome == "published"
