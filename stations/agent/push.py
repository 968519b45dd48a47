"""Push commands over MQTT (README "Giao thức trạm", *Push*): the doorbell, never the truth.

A command only makes the agent do sooner what polling would do later: fetch a day's playlist now, and for
an emergency fetch its audio at the same time, so that the scheduler starts it within seconds of its
approval. A command already acted on (by id) or expired is not acted on again; a duplicate emergency or
cancel sends the latest ack of its schedule once more (the server re-sends when an ack went missing).
Without a broker everything still works by polling.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import threading
import time
from typing import Any

from . import mqtt
from .acks import Acks
from .scheduler import parse_time

log = logging.getLogger("loa.agent.push")

KINDS = ("emergency", "cancel", "playlist")
SEEN_MAX = 1000  # command ids remembered (a few days of commands for one station)
RECONNECT_POLL_SPREAD_S = 30.0
FETCH_TRIES = 5  # polls of a pushed day still older than the command's version, a second apart
RETRIES = 3  # a failed push fetch (timeout, 5xx, 429) is tried again this many times…
RETRY_DELAY_S = (1.0, 4.0)  # …after a random delay in this range (a longer Retry-After is honoured)
RETRY_AFTER_MAX_S = 30.0  # a Retry-After longer than this: left to the network thread's poll


class Push:
    def __init__(self, agent: Any) -> None:
        self.agent = agent
        self.acks: Acks = agent.acks
        self.client: mqtt.Client | None = None
        self.settings: tuple[str, str, str] | None = None  # (url, user name, prefix) of the running client
        self.cancelled: set[int] = set()  # schedules cancelled by command (the main thread stops them)
        self.requested: set[str] = set()  # dates the network thread polls at its next round
        self._lock = threading.Lock()
        self._connections = 0

    # ------------------------------------------------------------ the client's life (network thread)

    def configure(self, push: dict[str, Any] | None) -> None:
        """Starts, restarts or stops the MQTT client from the config's `mqtt_url` and the heartbeat's `push`."""
        push = push if isinstance(push, dict) else {}
        url = self.agent.config.mqtt_url or str(push.get("url") or "")
        username = None
        if url:
            try:
                username = mqtt.parse_url(url)[3]
            except ValueError as exc:
                log.error("%s", exc)
                url = ""
        username = str(push.get("username") or username or self._station_code() or "")
        prefix = str(push.get("prefix") or "loa").strip("/")
        wanted = (url, username, prefix) if url and username else None
        if wanted == self.settings:
            return
        self.stop()
        self.settings = wanted
        if wanted is None:
            return
        from .credentials import mqtt_password

        base = f"{prefix}/st/{username}"
        self.ack_topic = f"{base}/ack"
        self.client = mqtt.Client(url, client_id=username, username=username,
                                  password=mqtt_password(self.agent.config.token),
                                  subscriptions=[(f"{base}/cmd", 1), (f"{base}/emergency", 1)],
                                  on_message=self.on_message, on_connect=self._on_connect)
        self.acks.publish = self._publish_ack
        log.info("MQTT: nhận lệnh đẩy từ %s (chủ đề %s).", url, base)
        self.client.start()

    def connected(self) -> bool | None:
        """For the heartbeat: None when push is not configured."""
        client = self.client
        return None if client is None else client.connected.is_set()

    def stop(self) -> None:
        client, self.client = self.client, None
        self.acks.publish = lambda ack, confirm=None: False
        if client is not None:
            client.stop()

    def _station_code(self) -> str | None:
        for date in reversed(self.agent.store.dates()):
            code = (self.agent.store.playlist(date) or {}).get("station")
            if code:
                return str(code)
        return None

    def _publish_ack(self, ack: dict[str, Any], confirm: threading.Event | None = None) -> bool:
        client = self.client
        return client is not None and client.publish(self.ack_topic, json.dumps(ack, ensure_ascii=False).encode(),
                                                     confirm=confirm)

    def _on_connect(self) -> None:
        # Commands may have been missed while away (an expired session): a cheap If-None-Match poll tells.
        # Not at once: after a broker restart every box reconnects within seconds, and the server need not
        # answer them all in the same second. The first connection follows a heartbeat, which just synced.
        self._connections += 1
        if self._connections > 1:
            today = self.agent.clock.now().astimezone(dt.timezone(dt.timedelta(hours=7))).date().isoformat()
            timer = threading.Timer(random.uniform(0, RECONNECT_POLL_SPREAD_S), self.request, args=(today,))
            timer.daemon = True
            timer.start()

    def request(self, date: str) -> None:
        with self._lock:
            self.requested.add(str(date))
        self.agent.shared.wake.set()

    def take_requested(self) -> list[str]:
        with self._lock:
            dates, self.requested = sorted(self.requested), set()
        return dates

    # ------------------------------------------------------------ commands (the client's thread)

    def on_message(self, message: mqtt.Message) -> None:
        """Acts on one message; returns only once it is recorded (the client then sends the PUBACK)."""
        if not message.payload:
            return  # a cleared retained emergency: no current emergency
        try:
            command = json.loads(message.payload.decode("utf-8"))
            if not isinstance(command, dict):
                raise ValueError("không phải đối tượng JSON")
        except (UnicodeDecodeError, ValueError) as exc:
            log.warning("Lệnh đẩy sai dạng trên %s: %s", message.topic, exc)
            return
        self.handle(command)

    def handle(self, command: dict[str, Any]) -> str:
        """What was done: "acted", "duplicate", "expired" or "ignored"."""
        cid, kind, schedule = str(command.get("id") or ""), command.get("kind"), command.get("schedule")
        if command.get("v") != 1 or kind not in KINDS or not cid:
            log.warning("Bỏ qua lệnh đẩy không biết: v=%r kind=%r id=%r.", command.get("v"), kind, cid)
            return "ignored"
        if self._seen(cid):
            latest = self.acks.latest(schedule) if isinstance(schedule, int) and kind != "playlist" else None
            if latest is not None:
                self.acks.publish(latest)
            return "duplicate"
        try:
            expired = parse_time(str(command.get("expires_at"))) <= self.agent.clock.now()
        except (TypeError, ValueError):
            expired = False  # no usable expiry: the command is still worth a poll
        if expired:
            log.info("Bỏ qua lệnh đẩy %s đã hết hạn.", cid)
            return "expired"
        date = str(command.get("date") or "")
        log.info("Lệnh đẩy %s (%s).", cid, kind)
        if kind == "emergency" and isinstance(schedule, int):
            self.acks.record(schedule, "received", command=cid)
            self._fetch_now(date, command.get("audio"), schedule, command.get("version"))
        elif kind == "cancel" and isinstance(schedule, int):
            self.cancelled.add(schedule)
            self.agent.shared.tick_wake.set()
            self._fetch_now(date, None, schedule, command.get("version"))
        elif date:
            self.request(date)
        self._remember(cid)
        return "acted"

    def _fetch_now(self, date: str, audio: Any, schedule: int, version: Any = None) -> None:
        """The playlist and (for an emergency) the audio, each on its own short thread, in parallel, so a
        slow round of the network thread (a big download ahead) never holds an emergency."""
        if date:
            threading.Thread(target=self._poll, args=(date, version), name="loa-push-poll", daemon=True).start()
        if isinstance(audio, dict) and audio.get("url") and audio.get("sha256"):
            threading.Thread(target=self._download, args=(audio, schedule), name="loa-push-audio",
                             daemon=True).start()

    def _poll(self, date: str, version: Any = None) -> None:
        from .sync import Syncer

        agent = self.agent
        syncer = Syncer(agent.api, agent.store, agent.clock, agent.config)
        attempt = failures = 0
        while attempt < FETCH_TRIES:
            try:
                changed = syncer.poll([date])
            except Exception as exc:  # noqa: BLE001 - tried again soon, then the network thread polls it
                failures += 1
                if self._wait_retry(exc, failures, f"danh sách phát ngày {date}"):
                    continue
                self.request(date)
                return
            attempt += 1
            if changed:
                agent.shared.playlists_generation += 1
                agent.shared.tick_wake.set()
                log.info("Danh sách phát mới (lệnh đẩy): %s.", date)
            # A server (or cache) one step behind the command: ask again shortly, not in five minutes.
            if not isinstance(version, int) or agent.store.versions().get(date, 0) >= version:
                return
            if attempt < FETCH_TRIES:
                time.sleep(1.0)
        self.request(date)

    def _download(self, audio: dict[str, Any], schedule: int) -> None:
        failures = 0
        while True:
            try:
                self.agent.cache.ensure({"audio": audio})
                break
            except Exception as exc:  # noqa: BLE001 - tried again soon, then the download ahead tries again
                failures += 1
                if not self._wait_retry(exc, failures, f"âm thanh {str(audio.get('sha256'))[:12]}"):
                    return
        self.acks.record(schedule, "downloaded")
        self.agent.shared.tick_wake.set()

    def _wait_retry(self, exc: Exception, failures: int, what: str) -> bool:
        """After a failed push fetch: waits a short jittered delay and says to try again, or (not a transient
        error, tried enough, a long Retry-After, stopping) logs it and says to leave it to the network thread."""
        from .downloads import HashMismatch
        from .http import RetryLater

        delay = random.uniform(*RETRY_DELAY_S)
        if isinstance(exc, RetryLater) and exc.status in (429, 503):
            delay = max(delay, float(exc.seconds or 0))  # the server's Retry-After
        if (failures > RETRIES or not isinstance(exc, (RetryLater, HashMismatch)) or delay > RETRY_AFTER_MAX_S
                or self.agent.stopping.is_set()):
            log.warning("Lệnh đẩy: chưa lấy được %s (%s).", what, exc)
            return False
        log.info("Lệnh đẩy: chưa lấy được %s (%s); thử lại sau %.1f s.", what, exc, delay)
        return not self.agent.stopping.wait(delay)

    # ------------------------------------------------------------ seen ids (the store, bounded)

    def _seen(self, cid: str) -> bool:
        return self.agent.store._one("SELECT 1 FROM commands WHERE id = ?", (cid,)) is not None

    def _remember(self, cid: str) -> None:
        with self.agent.store._tx() as db:
            db.execute("INSERT OR IGNORE INTO commands(id, seen_at) VALUES (?, ?)", (cid, time.time()))
            db.execute("DELETE FROM commands WHERE id NOT IN "
                       "(SELECT id FROM commands ORDER BY seen_at DESC LIMIT ?)", (SEEN_MAX,))



def ack_downloads(agent: Any) -> None:
    """`downloaded` for every known emergency item whose audio is verified in the cache (network thread)."""
    for item in agent.items:
        if agent.acks.for_item(item, "downloaded") is not None:
            sha = (item.get("audio") or {}).get("sha256")
            if sha and agent.cache.has(sha):
                agent.acks.record(item["schedule"], "downloaded")
