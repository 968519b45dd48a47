"""Publishing to the broker's internal listener with paho-mqtt (MQTT 5, QoS 1).

One short connection per batch: the tasks that publish run seconds apart at most, and a connection that
outlives a broker restart would need its own supervision. Every wait is bounded (connect, publish), so a
broker that is down or hung costs a task a few seconds and a clear error, never a hang.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

log = logging.getLogger("loa.push")
# What one QoS 1 message costs paho and the broker at worst on a busy 2-CPU machine (10,000 took 15 s).
PER_MESSAGE_S = 0.002


class BrokerUnavailable(Exception):
    """No broker configured, or it did not answer in time; `str()` says which, in Vietnamese."""


@dataclass(frozen=True, slots=True)
class Publication:
    topic: str
    payload: bytes
    retain: bool = False
    expiry_s: int | None = None  # MQTT 5 message expiry: the broker drops it (retained too) after this


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int
    username: str
    password: str
    tls: bool

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise BrokerUnavailable(f"MQTT_URL không hợp lệ: cần mqtt://người-dùng:mật-khẩu@máy:cổng ({url!r}).")
        tls = parts.scheme == "mqtts"
        return cls(host=parts.hostname, port=parts.port or (8883 if tls else 1883),
                   username=unquote(parts.username or ""), password=unquote(parts.password or ""), tls=tls)


def _client_id() -> str:
    # Several processes publish at once (web, workers): each needs its own session on the broker.
    return f"loa-{socket.gethostname()[:20]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def publish(url: str, messages: Sequence[Publication], *, connect_timeout: float,
            publish_timeout: float) -> list[bool]:
    """Publishes `messages` at QoS 1 and waits for the broker to take each; returns, per message, whether
    it did within `publish_timeout`. Raises BrokerUnavailable when no connection could be made."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    if not url:
        raise BrokerUnavailable("Chưa cấu hình máy chủ tin MQTT (MQTT_URL).")
    if not messages:
        return []
    address = BrokerAddress.parse(url)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=_client_id(), protocol=mqtt.MQTTv5)
    client.username_pw_set(address.username, address.password)
    if address.tls:
        client.tls_set()
    client.connect_timeout = connect_timeout
    client.max_inflight_messages_set(len(messages))
    client.max_queued_messages_set(0)
    connected = threading.Event()
    refused: list[str] = []

    def on_connect(_client, _userdata, _flags, reason_code, _properties) -> None:
        if reason_code.is_failure:
            refused.append(str(reason_code))
        connected.set()

    client.on_connect = on_connect
    try:
        client.connect(address.host, address.port, keepalive=30)
    except (OSError, ValueError) as exc:
        raise BrokerUnavailable(f"Không kết nối được máy chủ tin MQTT {address.host}:{address.port}: {exc}") from None
    client.loop_start()
    try:
        if not connected.wait(connect_timeout) or refused:
            why = refused[0] if refused else "không trả lời"
            raise BrokerUnavailable(f"Máy chủ tin MQTT {address.host}:{address.port} từ chối kết nối: {why}.")
        infos = []
        for message in messages:
            properties = None
            if message.expiry_s is not None:
                properties = Properties(PacketTypes.PUBLISH)
                properties.MessageExpiryInterval = max(1, int(message.expiry_s))
            infos.append(client.publish(message.topic, message.payload, qos=1, retain=message.retain,
                                        properties=properties))
        # The timeout is for the broker to answer; a city's batch also takes its own time to write out.
        deadline = time.monotonic() + publish_timeout + len(messages) * PER_MESSAGE_S
        done = []
        for info in infos:
            remaining = deadline - time.monotonic()
            if remaining > 0 and not info.is_published():
                try:
                    info.wait_for_publish(remaining)
                except (RuntimeError, ValueError):
                    pass
            done.append(info.is_published())
        if not all(done):
            log.warning("push: %d of %d messages not taken by the broker in %.1f s",
                        done.count(False), len(done), publish_timeout)
        return done
    finally:
        client.disconnect()
        client.loop_stop()


def publish_configured(messages: Sequence[Publication]) -> tuple[list[bool], str]:
    """Publishes with the project's settings (MQTT_URL and its timeouts): per message whether the broker
    took it, and the error when none could be sent (push off: every message False, no error)."""
    from django.conf import settings

    if not settings.MQTT_URL:
        return [False] * len(messages), ""
    try:
        return publish(settings.MQTT_URL, messages, connect_timeout=settings.MQTT_CONNECT_TIMEOUT_S,
                       publish_timeout=settings.MQTT_PUBLISH_TIMEOUT_S), ""
    except BrokerUnavailable as exc:
        log.warning("push: %s", exc)
        return [False] * len(messages), str(exc)
