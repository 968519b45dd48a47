"""Shared arrangements of the push tests: an emergency with its playlists built, and an MQTT listener on
the broker's internal listener that records what Loa published."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import paho.mqtt.client as mqtt

from broadcast.models import Bulletin, Schedule
from broadcast.services.schedules import create_schedule
from broadcast.tasks.push import push_emergency_task
from tests.broadcast.factories_reports import plain_bulletin


def emergency_bulletin(title: str = "Khẩn cấp: bão số 3 đổ bộ") -> Bulletin:
    bulletin = plain_bulletin(title, duration_ms=30_000)
    Bulletin.objects.filter(pk=bulletin.pk).update(priority=Bulletin.Priority.EMERGENCY)
    bulletin.refresh_from_db()
    return bulletin


def immediate_schedule(by: Any, bulletin: Bulletin | None = None) -> Schedule:
    """An immediate schedule to every station; nothing rung yet (the test calls push_emergency when it is
    ready to listen, not the task queued at the commit)."""
    with mock.patch.object(push_emergency_task, "delay"):
        return create_schedule(bulletin or emergency_bulletin(), by=by, start_date=None, end_date=None,
                               slots=[], targets={"all": True}, immediate=True)


@dataclass
class Heard:
    topic: str
    payload: bytes
    retain: bool

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.payload)


@dataclass
class Listener:
    """Subscribed as Loa's internal user to every station's topics."""

    url_host: str
    port: int
    user: str
    password: str
    topics: tuple[str, ...] = ("loa/st/+/cmd", "loa/st/+/emergency")
    heard: list[Heard] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-listener-{id(self)}")
        self.client.username_pw_set(self.user, self.password)
        self.client.on_connect = lambda c, *_: c.subscribe([(t, 1) for t in self.topics])
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = self._on_message

    def _on_message(self, _c: Any, _u: Any, message: Any) -> None:
        with self._lock:
            self.heard.append(Heard(message.topic, message.payload, bool(message.retain)))

    def __enter__(self) -> Listener:
        self.client.connect(self.url_host, self.port)
        self.client.loop_start()
        assert self._subscribed.wait(5), "the test listener could not subscribe"
        return self

    def __exit__(self, *exc: Any) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def wait_for(self, count: int, timeout: float = 5.0, leaf: str = "cmd") -> list[Heard]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = [h for h in self.heard if h.topic.endswith("/" + leaf)]
            if len(found) >= count:
                return found
            time.sleep(0.02)
        return found


def listener_for(broker: Any, **kwargs: Any) -> Listener:
    return Listener(broker.host, broker.internal_port, broker.internal_user, broker.internal_password, **kwargs)
