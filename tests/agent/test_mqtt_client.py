"""The agent's own MQTT 3.1.1 client (stations/agent/mqtt.py) against a real mosquitto and against a fake
broker that sends malformed packets: commands arrive (also those sent while the box was offline), a QoS 1
message is acknowledged only once handled, acks go out, refusals are logged once, garbage never kills
the client's thread."""

from __future__ import annotations

import logging
import socket
import threading
import time

import pytest

from stations.agent import mqtt, mqtt_packets
from tests.agent.push_helpers import paho_client, station_on_broker

STATION = "00001"


def wait_for(condition, timeout: float = 10.0, what: str = "condition"):  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class Recorder:
    def __init__(self, fail: int = 0) -> None:
        self.messages: list[mqtt.Message] = []
        self.fail = fail  # raise on the first `fail` messages

    def __call__(self, message: mqtt.Message) -> None:
        if self.fail:
            self.fail -= 1
            raise RuntimeError("chưa ghi được")
        self.messages.append(message)


@pytest.fixture
def broker(mqtt_broker):
    """The shared broker, knowing station 00001 (its password in `broker.station_password`)."""
    _station, _token, mqtt_broker.station_password = station_on_broker(mqtt_broker, code=STATION)
    return mqtt_broker


def station_client(broker, on_message, *, password: str | None = None, **kwargs) -> mqtt.Client:  # noqa: ANN001, ANN003
    password = broker.station_password if password is None else password
    client = mqtt.Client(f"mqtt://{broker.host}:{broker.station_port}", client_id=STATION, username=STATION,
                         password=password, on_message=on_message,
                         subscriptions=[(f"loa/st/{STATION}/cmd", 1), (f"loa/st/{STATION}/emergency", 1)], **kwargs)
    client.start()
    return client


@pytest.fixture
def clients():
    made: list[mqtt.Client] = []
    yield made
    for client in made:
        client.stop()


def test_a_command_published_with_qos_1_reaches_the_handler(broker, clients):
    got = Recorder()
    clients.append(station_client(broker, got))
    wait_for(clients[0].connected.is_set, what="the connection")

    with paho_client(broker) as pub:
        pub.publish(f"loa/st/{STATION}/cmd", b'{"id": "em-1"}', qos=1).wait_for_publish(5)

    wait_for(lambda: got.messages, what="the command")
    (message,) = got.messages
    assert (message.topic, message.payload, message.qos, message.retain) == (
        f"loa/st/{STATION}/cmd", b'{"id": "em-1"}', 1, False)


def test_commands_sent_while_the_box_was_offline_arrive_when_it_reconnects(broker, clients):
    first = station_client(broker, Recorder())
    wait_for(first.connected.is_set, what="the first connection")
    first.stop()  # the persistent session (clean_session = false) stays on the broker

    with paho_client(broker) as pub:
        for n in range(3):
            pub.publish(f"loa/st/{STATION}/cmd", f'{{"id": "pl-{n}"}}'.encode(), qos=1).wait_for_publish(5)
    got = Recorder()
    clients.append(station_client(broker, got))

    wait_for(lambda: len(got.messages) == 3, what="the queued commands")
    assert [m.payload for m in got.messages] == [b'{"id": "pl-0"}', b'{"id": "pl-1"}', b'{"id": "pl-2"}']


def test_a_message_whose_handler_failed_is_not_acknowledged_and_comes_again_on_reconnect(broker, clients):
    failing = Recorder(fail=1)
    client = station_client(broker, failing)
    wait_for(client.connected.is_set, what="the connection")
    with paho_client(broker) as pub:
        pub.publish(f"loa/st/{STATION}/cmd", b'{"id": "em-2"}', qos=1).wait_for_publish(5)
    wait_for(lambda: failing.fail == 0, what="the failed attempt")
    time.sleep(0.3)
    client.stop()

    got = Recorder()
    clients.append(station_client(broker, got))
    wait_for(lambda: got.messages, what="the redelivery")
    assert got.messages[0].payload == b'{"id": "em-2"}'


def test_the_retained_emergency_arrives_on_subscribe_with_the_retain_flag(broker, clients):
    with paho_client(broker) as pub:
        pub.publish(f"loa/st/{STATION}/emergency", b'{"id": "em-3"}', qos=1, retain=True).wait_for_publish(5)
    got = Recorder()
    clients.append(station_client(broker, got))

    wait_for(lambda: got.messages, what="the retained message")
    assert got.messages[0].retain and got.messages[0].payload == b'{"id": "em-3"}'


def test_an_ack_published_with_qos_1_reaches_a_subscriber(broker, clients):
    with paho_client(broker) as sub:
        received: list[bytes] = []
        sub.on_message = lambda _c, _u, m: received.append(m.payload)
        sub.subscribe(f"loa/st/{STATION}/ack", qos=1)
        time.sleep(0.3)
        client = station_client(broker, Recorder())
        clients.append(client)
        wait_for(client.connected.is_set, what="the connection")

        assert client.publish(f"loa/st/{STATION}/ack", b'{"state": "started"}')

        wait_for(lambda: received, what="the ack")
    assert received == [b'{"state": "started"}']
    wait_for(lambda: not client._inflight, what="the PUBACK")


def test_a_wrong_password_is_refused_and_logged_once_however_often_it_retries(broker, clients, caplog):
    caplog.set_level(logging.WARNING, logger="loa.agent.mqtt")
    client = station_client(broker, Recorder(), password="sai", backoff_max_s=0.1)
    clients.append(client)

    wait_for(lambda: client.failures >= 4, what="several refusals")
    assert not client.connected.is_set()
    refusals = [r for r in caplog.records if "không được phép" in r.getMessage()]
    assert len(refusals) == 1


def test_the_backoff_is_jittered_and_capped_so_boxes_do_not_reconnect_in_lockstep():
    client = mqtt.Client("mqtt://127.0.0.1:9", client_id="x", username=None, password=None, subscriptions=[],
                         on_message=lambda m: None)
    first = [client.backoff(1) for _ in range(200)]
    late = [client.backoff(30) for _ in range(200)]
    assert all(0.2 <= d <= 2 for d in first) and max(first) - min(first) > 1
    assert all(d <= 60 for d in late) and max(late) > 30 and min(late) < 30


# ---------------------------------------------------------------- malformed input


def test_the_packet_reader_splits_a_stream_and_refuses_bad_lengths():
    reader = mqtt_packets.PacketReader(max_packet=1000)
    stream = mqtt_packets.packet(mqtt_packets.PUBACK, 0, b"\x00\x01") + mqtt_packets.publish_packet("a/b", b"x" * 200, 1, 7)
    assert reader.feed(stream[:3]) == []
    packets = reader.feed(stream[3:])
    assert [p[0] for p in packets] == [mqtt_packets.PUBACK, mqtt_packets.PUBLISH]
    message = mqtt_packets.parse_publish(packets[1][1], packets[1][2])
    assert (message.topic, message.payload, message.packet_id) == ("a/b", b"x" * 200, 7)

    with pytest.raises(mqtt_packets.ProtocolError):
        mqtt_packets.PacketReader().feed(b"\x30\xff\xff\xff\xff\x01")  # a length of five bytes
    with pytest.raises(mqtt_packets.ProtocolError):
        mqtt_packets.PacketReader(max_packet=1000).feed(b"\x30" + mqtt_packets._remaining_length(5000))
    with pytest.raises(mqtt_packets.ProtocolError):
        mqtt_packets.parse_publish(0x02, b"\x00\x09ab")  # a topic longer than the packet
    with pytest.raises(mqtt_packets.ProtocolError):
        mqtt_packets.parse_publish(0x00, b"\x00\x02\xff\xfe")  # not UTF-8


class FakeBroker:
    """Accepts connections and answers each with the next of `replies` (raw bytes), then closes."""

    def __init__(self, replies: list[bytes], hold_s: float = 0.1) -> None:
        self.replies = list(replies)
        self.hold_s = hold_s  # how long a connection stays open, silent, after the reply
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            reply = self.replies.pop(0) if self.replies else b""
            threading.Thread(target=self._answer, args=(conn, reply), daemon=True).start()

    def _answer(self, conn: socket.socket, reply: bytes) -> None:
        with conn:
            try:
                conn.recv(4096)
                conn.sendall(reply)
                time.sleep(self.hold_s)
            except OSError:
                pass

    def close(self) -> None:
        self.server.close()


CONNACK_OK = mqtt_packets.packet(mqtt_packets.CONNACK, 0, b"\x00\x00")


@pytest.mark.parametrize("garbage", [
    b"\x20\x05\x00\x00",                                   # CONNACK cut short, then closed
    b"\xff\xff\xff\xff\xff\xff",                           # no packet at all
    CONNACK_OK + b"\x90\x03\x00\x09\x00",                  # SUBACK for another packet id
    CONNACK_OK + b"\x90\x03\x00\x01\x80",                  # subscription refused
    CONNACK_OK + b"\x90\x03\x00\x01\x01" + b"\x36\x04\x00\x01a\x00",  # QoS 3 PUBLISH
    CONNACK_OK + b"\x90\x03\x00\x01\x01" + b"\x32\x03\x00\x05a",      # PUBLISH shorter than its topic
    CONNACK_OK + b"\x90\x03\x00\x01\x01" + b"\x70\x00",               # a packet type a broker never sends
])
def test_malformed_packets_end_the_session_and_the_client_reconnects(garbage, clients):
    broker = FakeBroker([garbage, garbage])
    got = Recorder()
    client = mqtt.Client(f"mqtt://127.0.0.1:{broker.port}", client_id=STATION, username=STATION, password="x",
                         subscriptions=[("loa/st/00001/cmd", 1)], on_message=got, connect_timeout=1,
                         backoff_max_s=0.1)
    client.start()
    clients.append(client)
    try:
        wait_for(lambda: broker.connections >= 3, what="reconnections")
    finally:
        broker.close()
    assert client._thread.is_alive()
    assert got.messages == []


def test_mqtts_connects_over_tls_and_refuses_a_broker_whose_certificate_it_does_not_trust(broker, clients, tmp_path):
    import dataclasses
    import ssl
    import subprocess

    from stations import broker as loa_broker
    from tests.broker_fixtures import INTERNAL_PASSWORD, free_port

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    broker.stop()
    config = loa_broker.config_from_settings(directory=broker.directory, station_bind=broker.host)
    tls_port = free_port()
    loa_broker.write_config(dataclasses.replace(config, tls_port=tls_port, tls_certfile=str(cert),
                                                tls_keyfile=str(key)), internal_password=INTERNAL_PASSWORD)
    broker.start()
    got = Recorder()
    url = f"mqtts://{broker.host}:{tls_port}"
    subscriptions = [(f"loa/st/{STATION}/cmd", 1)]
    trusted = mqtt.Client(url, client_id=STATION, username=STATION, password=broker.station_password,
                          subscriptions=subscriptions, on_message=got,
                          ssl_context=ssl.create_default_context(cafile=str(cert)))
    untrusted = mqtt.Client(url, client_id=STATION + "x", username=STATION, password=broker.station_password,
                            subscriptions=subscriptions, on_message=got, backoff_max_s=0.2)
    clients += [trusted, untrusted]
    trusted.start()
    untrusted.start()

    wait_for(trusted.connected.is_set, what="the TLS connection")
    with paho_client(broker) as pub:
        pub.publish(f"loa/st/{STATION}/cmd", b'{"id": "em-9"}', qos=1).wait_for_publish(5)
    wait_for(lambda: got.messages, what="the command over TLS")
    wait_for(lambda: untrusted.failures >= 2, what="the refused certificate")
    assert not untrusted.connected.is_set()


def test_an_idle_connection_is_kept_alive_by_pings(broker, clients):
    client = station_client(broker, Recorder(), keepalive=1)
    clients.append(client)
    wait_for(client.connected.is_set, what="the connection")

    time.sleep(3.5)  # mosquitto drops a client silent for 1.5 keepalives

    assert client.connected.is_set() and client.failures == 0


def test_a_broker_that_stops_answering_pings_is_left_and_reconnected(clients):
    subscribed = CONNACK_OK + b"\x90\x03\x00\x01\x01"
    silent = FakeBroker([subscribed, subscribed, subscribed], hold_s=30)
    client = mqtt.Client(f"mqtt://127.0.0.1:{silent.port}", client_id=STATION, username=STATION, password="x",
                         subscriptions=[("loa/st/00001/cmd", 1)], on_message=Recorder(), keepalive=1,
                         backoff_max_s=0.1)
    client.start()
    clients.append(client)
    try:
        wait_for(client.connected.is_set, what="the connection")
        wait_for(lambda: silent.connections >= 2, timeout=15, what="a reconnection after the silence")
    finally:
        silent.close()
