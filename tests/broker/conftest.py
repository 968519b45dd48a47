"""MQTT clients (paho) for the broker tests: connect as a station or as Loa, watch what arrives."""

from __future__ import annotations

import queue
import threading
import uuid

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from stations.agent.credentials import mqtt_password
from stations.services import issue_station_token
from tests.factories import StationFactory

TIMEOUT_S = 5.0


class Session:
    """One MQTT connection; messages land in a queue, connect and disconnect results are recorded."""

    def __init__(self, host: str, port: int, *, username: str, password: str, client_id: str = "",
                 clean_session: bool = True) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id or f"t-{uuid.uuid4().hex[:10]}",
            clean_session=clean_session,
        )
        self.client.username_pw_set(username, password)
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.connack = threading.Event()
        self.connect_result = None
        self.disconnected = threading.Event()
        self.granted: dict[int, list] = {}
        self._subacked: dict[int, threading.Event] = {}
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *args: self.disconnected.set()
        self.client.on_message = lambda client, userdata, message: self.messages.put(message)
        self.client.on_subscribe = self._on_subscribe
        self.client.connect(host, port, keepalive=30)
        self.client.loop_start()
        assert self.connack.wait(TIMEOUT_S), "broker sent no CONNACK"

    @property
    def accepted(self) -> bool:
        return self.connect_result is not None and not self.connect_result.is_failure

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:  # noqa: ANN001
        if self.connect_result is None:
            self.connect_result = reason_code
        if reason_code.is_failure:
            # Refused: no retrying with the same credentials.
            client.disconnect()
        self.connack.set()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:  # noqa: ANN001
        self.granted[mid] = reason_codes
        self._subacked.setdefault(mid, threading.Event()).set()

    def subscribe(self, topic: str, qos: int = 1) -> list:
        """Subscribes and waits for the SUBACK; returns its reason codes."""
        result, mid = self.client.subscribe(topic, qos)
        assert result == mqtt.MQTT_ERR_SUCCESS
        assert self._subacked.setdefault(mid, threading.Event()).wait(TIMEOUT_S), "no SUBACK"
        return self.granted[mid]

    def publish(self, topic: str, payload: bytes | str, *, qos: int = 1, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(TIMEOUT_S)
        assert info.is_published()

    def next_message(self, timeout: float = TIMEOUT_S) -> mqtt.MQTTMessage | None:
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def mqtt_connect(mqtt_broker):
    """mqtt_connect(username, password, internal=False, **kw) -> a Session to the test's broker (closed
    after the test); internal=True uses Loa's listener."""
    sessions: list[Session] = []

    def connect(username: str, password: str, *, internal: bool = False, **kwargs) -> Session:
        port = mqtt_broker.internal_port if internal else mqtt_broker.station_port
        session = Session(mqtt_broker.host, port, username=username, password=password, **kwargs)
        sessions.append(session)
        return session

    yield connect
    for session in sessions:
        session.close()


@pytest.fixture
def loa_session(mqtt_connect, mqtt_broker):
    """Loa's own connection on the internal listener."""
    return mqtt_connect(mqtt_broker.internal_user, mqtt_broker.internal_password, internal=True)


@pytest.fixture
def make_station(db, mqtt_broker):
    """make_station(code) -> (station, its MQTT password), its token issued and the broker synced."""

    def make(code: str):
        station = StationFactory(code=code)
        token = issue_station_token(station)
        mqtt_broker.sync()
        return station, mqtt_password(token)

    return make
