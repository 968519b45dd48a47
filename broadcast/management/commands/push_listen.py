"""Listens to the stations' acknowledgements over MQTT and stores them (what the report queue would
bring later anyway, seconds earlier).

One long-running process beside the workers (`scripts/run` starts it). It subscribes with a persistent
session, so acknowledgements sent while it was down wait at the broker; a shared subscription lets
several run at once. Messages are stored in small batches per station; a malformed one is logged and
dropped, never retried forever. The topic names the station: the broker's ACL lets a station write only
to its own.
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from broadcast.push import messages
from broadcast.push.publisher import BrokerAddress, BrokerUnavailable
from broadcast.services.push import record_acks_of_stations
from stations.models import Station

log = logging.getLogger("loa.push")
BATCH = 500
FLUSH_S = 0.05


class Command(BaseCommand):
    help = "Nhận xác nhận của các đài qua MQTT và lưu vào cơ sở dữ liệu."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--client-id", default="loa-push-listen",
                            help="Mã phiên MQTT bền (mặc định loa-push-listen)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.MQTT_URL:
            raise CommandError("Chưa cấu hình MQTT_URL: không có máy chủ tin để nghe.")
        try:
            address = BrokerAddress.parse(settings.MQTT_URL)
        except BrokerUnavailable as exc:
            raise CommandError(str(exc)) from None
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        self.stdout.write(f"Đang nghe xác nhận trên {address.host}:{address.port} …")
        listen(address, options["client_id"], stop)


def listen(address: BrokerAddress, client_id: str, stop: threading.Event) -> None:
    """Subscribes and stores acknowledgements until `stop` is set."""
    inbox: queue.Queue[tuple[str, bytes]] = queue.Queue(maxsize=100_000)
    client, properties = _client(address, client_id, inbox)
    client.connect_async(address.host, address.port, keepalive=30, clean_start=False, properties=properties)
    client.loop_start()
    codes: dict[str, int] = {}
    try:
        while not stop.is_set():
            batch = _drain(inbox, stop)
            if batch:
                close_old_connections()
                store(batch, codes)
    finally:
        client.disconnect()
        client.loop_stop()


def _client(address: BrokerAddress, client_id: str, inbox: queue.Queue) -> tuple[Any, Any]:
    import paho.mqtt.client as mqtt
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.username_pw_set(address.username, address.password)
    if address.tls:
        client.tls_set()
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    topic = f"$share/loa/{messages.station_topic(settings.MQTT_TOPIC_PREFIX, '+', 'ack')}"

    def on_connect(c: Any, _userdata: Any, _flags: Any, reason_code: Any, _properties: Any) -> None:
        if reason_code.is_failure:
            log.error("push_listen: broker refused the connection: %s", reason_code)
            return
        c.subscribe(topic, qos=1)
        log.info("push_listen: subscribed to %s", topic)

    def on_message(_c: Any, _userdata: Any, message: Any) -> None:
        inbox.put((message.topic, message.payload))

    client.on_connect = on_connect
    client.on_message = on_message
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 7 * 86400  # acknowledgements wait at the broker while we are down
    return client, properties


def _drain(inbox: queue.Queue, stop: threading.Event) -> list[tuple[str, bytes]]:
    batch: list[tuple[str, bytes]] = []
    try:
        batch.append(inbox.get(timeout=0.5))
    except queue.Empty:
        return batch
    deadline = time.monotonic() + FLUSH_S
    while len(batch) < BATCH and not stop.is_set():
        try:
            batch.append(inbox.get(timeout=max(0.0, deadline - time.monotonic())))
        except queue.Empty:
            break
    return batch


def store(batch: list[tuple[str, bytes]], codes: dict[str, int]) -> int:
    """Stores a batch of (topic, payload) acknowledgements, all stations in one transaction. Returns how
    many were accepted; the others are logged."""
    by_code: dict[str, list[tuple[int, messages.Ack]]] = {}
    prefix = settings.MQTT_TOPIC_PREFIX
    for index, (topic, payload) in enumerate(batch):
        code = messages.code_from_ack_topic(prefix, topic)
        if code is None:
            continue
        try:
            by_code.setdefault(code, []).append((index, messages.decode_ack(payload)))
        except messages.AckError as exc:
            log.warning("push_listen: bad acknowledgement from %s: %s", code, exc.errors)
    unknown = [code for code in by_code if code not in codes]
    if unknown:
        codes.update(Station.objects.filter(code__in=unknown).values_list("code", "id"))
    for code in [c for c in by_code if c not in codes]:
        log.warning("push_listen: acknowledgement from unknown station %s", code)
    results = record_acks_of_stations({codes[code]: acks for code, acks in by_code.items() if code in codes})
    names = {pk: code for code, pk in codes.items()}
    for station_id, result in results.items():
        for rejected in result.rejected:
            log.warning("push_listen: acknowledgement from %s refused: %s", names[station_id], rejected["errors"])
    return sum(result.accepted for result in results.values())
