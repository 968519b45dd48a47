"""Acknowledgements of emergencies (README "Giao thức trạm", *Acknowledgement*).

Every emergency item (slot `now`, with its `schedule`) is acknowledged as it moves: received, downloaded,
started, then completed, failed or interrupted. Each ack is queued in the store (the play's own transaction
where there is one, so a kill -9 loses none) and uploaded to POST station/acks/ by the network thread at
once; it also goes over MQTT when connected, which is faster but not needed.

An ack the broker confirmed (PUBACK) reached the server already: it stays queued (nothing depends on MQTT
alone) but its HTTP upload waits this box's share of `ack_spread_s`, or the next report upload, whichever
comes first, so that a city's stations do not all POST the same second after an emergency. An ack MQTT did
not confirm within CONFIRM_S (or could not send) goes over HTTP at once.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from .http import BadRequest, NotFound, RetryLater, TooLarge

log = logging.getLogger("loa.agent.acks")

LOCAL = dt.timezone(dt.timedelta(hours=7))
ORDER = ("received", "downloaded", "started", "completed", "failed", "interrupted")
EMERGENCY_SLOTS = ("now", "emergency")  # the server's EMERGENCY_SLOT is "now"
END_STATES = {"played": "completed", "failed": "failed", "interrupted": "interrupted", "skipped": "failed"}
BATCH = 500
REASON_MAX = 500
KEEP_DAYS = 3
RETRY_S = 60.0
CONFIRM_S = 3.0  # an ack whose PUBACK did not come within this goes over HTTP at once


def schedule_of(item: dict[str, Any]) -> int | None:
    """The schedule of an emergency item, None for any other (or an item from a server without it)."""
    schedule = item.get("schedule")
    if item.get("slot") not in EMERGENCY_SLOTS or not isinstance(schedule, int) or isinstance(schedule, bool):
        return None
    return schedule


class Acks:
    """`publish(ack, confirm=None)` sends one ack over MQTT (returns False when it cannot: the queue still
    has it) and sets the `confirm` event when the broker acknowledged it."""

    def __init__(self, store: Any, clock: Any, spread_s: float = 0.0) -> None:
        self.store = store
        self.clock = clock
        self.publish: Callable[..., bool] = lambda ack, confirm=None: False
        self.delay_s = random.uniform(0.0, max(0.0, float(spread_s)))  # this box's share, drawn once
        self._mqtt: dict[tuple[int, str], tuple[threading.Event, float]] = {}  # key -> (PUBACK, when sent)
        self._deferred_since: float | None = None
        self.pending = threading.Event()  # something is queued: the network thread uploads it now
        self.pending.set()  # whatever a previous run left
        self._known: set[tuple[int, str]] = {
            (int(s), st) for s, st in store._all("SELECT schedule, state FROM acks")}
        self._retry_at = 0.0

    def body(self, schedule: int, state: str, reason: str | None = None, command: str | None = None) -> dict[str, Any]:
        return {"command": command or f"em-{schedule}", "schedule": int(schedule), "state": state,
                "at": self.clock.now().astimezone(LOCAL).isoformat(timespec="milliseconds"),
                "reason": str(reason or "").replace("\x00", "")[:REASON_MAX]}

    def for_item(self, item: dict[str, Any] | None, state: str, reason: str | None = None) -> dict[str, Any] | None:
        """The ack of `item` moving to `state`, or None (not an emergency, or that state already acked)."""
        schedule = schedule_of(item or {})
        if schedule is None or (schedule, state) in self._known:
            return None
        return self.body(schedule, state, reason)

    def end_state(self, status: str) -> str:
        return END_STATES.get(status, "failed")

    def sent(self, ack: dict[str, Any] | None) -> None:
        """After the transaction that queued `ack` committed: remember it and send it over MQTT."""
        if ack is None:
            return
        key = (int(ack["schedule"]), ack["state"])
        self._known.add(key)
        confirm = threading.Event()
        if self.publish(ack, confirm):
            self._mqtt[key] = (confirm, self.clock.monotonic())
        self.pending.set()

    def record(self, schedule: int, state: str, reason: str | None = None, command: str | None = None) -> bool:
        """Queues an ack with no play state to go with it (received, downloaded); False if already known."""
        if (schedule, state) in self._known:
            return False
        ack = self.body(schedule, state, reason, command)
        with self.store._tx() as db:
            new = self.store.add_ack(db, ack)
        self._known.add((schedule, state))
        if new:
            self.sent(ack)
        return new

    def known(self, items: Iterable[dict[str, Any]]) -> None:
        """`received` for every emergency item not acknowledged yet (a polled playlist holding it)."""
        for item in items:
            schedule = schedule_of(item)
            if schedule is not None:
                self.record(schedule, "received")

    def latest(self, schedule: int) -> dict[str, Any] | None:
        rows = self.store._all("SELECT state, body FROM acks WHERE schedule = ?", (int(schedule),))
        if not rows:
            return None
        return json.loads(max(rows, key=lambda r: ORDER.index(r[0]) if r[0] in ORDER else -1)[1])

    def queued(self, limit: int = BATCH) -> list[dict[str, Any]]:
        rows = self.store._all("SELECT body FROM acks WHERE uploaded = 0 ORDER BY created_at, rowid LIMIT ?",
                               (int(limit),))
        return [json.loads(r[0]) for r in rows]

    def queue_length(self) -> int:
        return int(self.store._one("SELECT COUNT(*) FROM acks WHERE uploaded = 0", ())[0])

    def prune(self, now: float | None = None) -> None:
        """Forgets uploaded acks older than KEEP_DAYS (bounded table; the server keeps the deliveries)."""
        cutoff = (time.time() if now is None else now) - KEEP_DAYS * 86400
        with self.store._tx() as db:
            db.execute("DELETE FROM acks WHERE uploaded = 1 AND created_at < ?", (cutoff,))
        self._known = {(int(s), st) for s, st in self.store._all("SELECT schedule, state FROM acks")}

    # ------------------------------------------------------------ upload

    def flush(self, api: Any, mono: float | None = None, *, force: bool = False, with_reports: bool = False) -> int:
        """Uploads the queued acks in batches of at most 500; an ack leaves the queue once the server answered
        it (accepted, duplicate or rejected). A transient failure keeps them for a retry a little later;
        Unauthorized propagates. Returns how many were answered. Acks MQTT delivered wait (see above)
        unless `force` or `with_reports` (a report upload is under way)."""
        mono = self.clock.monotonic() if mono is None else mono
        if not force and (not self.pending.is_set() or mono < self._retry_at):
            return 0
        if not force and not with_reports and not self._due(mono):
            return 0  # pending stays set: asked again at the next round
        self.pending.clear()
        self._deferred_since = None
        answered = 0
        size = BATCH
        while True:
            batch = self.queued(size)
            if not batch:
                return answered
            try:
                answer = api.upload_acks(batch)
            except (RetryLater, NotFound) as exc:  # NotFound: a server without the endpoint yet
                self._retry_later(mono, exc)
                return answered
            except (TooLarge, BadRequest) as exc:
                if isinstance(exc, BadRequest) and not isinstance(exc, TooLarge) and exc.status != 400:
                    self._retry_later(mono, exc)
                    return answered
                if len(batch) > 1:
                    size = max(1, len(batch) // 2)
                    continue
                log.error("Máy chủ không nhận xác nhận %s: %s", batch[0], exc)
                answer = {"rejected": [{"index": 0, "errors": str(exc)}]}
            for entry in (answer or {}).get("rejected") or []:
                log.error("Máy chủ từ chối xác nhận %s: %s", entry.get("index"), entry.get("errors"))
            self._delete(batch)
            answered += len(batch)
            size = BATCH

    def _due(self, mono: float) -> bool:
        """Whether the queue goes up now: an ack not delivered by MQTT, or the deferred ones' time came."""
        rows = self.queued()
        if not rows:
            return True  # flush finds nothing and clears pending
        deferred = False
        for ack in rows:
            entry = self._mqtt.get((int(ack["schedule"]), ack["state"]))
            if entry is None or (not entry[0].is_set() and mono - entry[1] >= CONFIRM_S):
                return True
            deferred |= entry[0].is_set()
        if not deferred:
            return False  # PUBACKs still awaited
        if self._deferred_since is None:
            self._deferred_since = mono
        return mono >= self._deferred_since + self.delay_s

    def _retry_later(self, mono: float, exc: Exception) -> None:
        log.warning("Chưa gửi được xác nhận tin khẩn cấp (%s); sẽ thử lại.", exc)
        self._retry_at = mono + min(float(getattr(exc, "seconds", RETRY_S) or RETRY_S), RETRY_S)
        self.pending.set()

    def _delete(self, batch: list[dict[str, Any]]) -> None:
        with self.store._tx() as db:
            for ack in batch:
                db.execute("UPDATE acks SET uploaded = 1 WHERE schedule = ? AND state = ?",
                           (int(ack["schedule"]), ack["state"]))
        for ack in batch:
            self._mqtt.pop((int(ack["schedule"]), ack["state"]), None)
