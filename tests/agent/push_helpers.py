"""What the agent's push tests share: a paho client on the broker's internal listener (as Loa's own
processes publish), and a station with MQTT credentials on the shared `mqtt_broker` (tests/broker_fixtures.py)."""

from __future__ import annotations

import contextlib
import time

from stations.agent.credentials import mqtt_password


@contextlib.contextmanager
def paho_client(broker):  # noqa: ANN001
    import paho.mqtt.client as paho

    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"test-{time.monotonic_ns()}")
    client.username_pw_set(broker.internal_user, broker.internal_password)
    client.connect(broker.host, broker.internal_port)
    client.loop_start()
    try:
        yield client
    finally:
        client.loop_stop()
        client.disconnect()


def station_on_broker(broker, **fields):  # noqa: ANN001, ANN003
    """(station, token, MQTT password) of a new station the broker knows."""
    from stations.services import issue_station_token
    from tests.factories import StationFactory

    station = StationFactory(**fields)
    token = issue_station_token(station)
    broker.sync()
    return station, token, mqtt_password(token)
