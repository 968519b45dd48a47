"""The agent's network thread: heartbeats, playlist polls, the report queue's upload and audio downloads
ahead of time, so that a slow or dead link never delays a start (the main thread, agent.py, plays)."""

from __future__ import annotations

import copy
import datetime as dt
import logging
import random
from typing import Any

from .push import ack_downloads
from .scheduler import is_emergency, parse_time

log = logging.getLogger("loa.agent")


class Network:
    def __init__(self, agent: Any) -> None:
        self.agent = agent
        # This agent's share of upload_spread_s, drawn once, and when the queue last stopped being empty.
        self.upload_delay = random.uniform(0.0, agent.config.upload_spread_s)
        self._queued_since: float | None = None

    def run(self) -> None:
        from .http import RetryLater, Unauthorized
        from .sync import Syncer
        from .uploader import Uploader

        agent = self.agent
        syncer = Syncer(agent.api, agent.store, agent.clock, agent.config, agent.cache)
        uploader = Uploader(agent.api, agent.store)
        next_poll = next_heartbeat = next_evict = 0.0
        last_error: str | None = None
        blocked_until = 0.0
        while not agent.stopping.is_set():
            # Here, not in the tick: asking the system (a subprocess, up to seconds) must never delay a start.
            agent.check_ntp()
            mono = agent.clock.monotonic()
            if mono >= blocked_until:
                error = None
                try:
                    requested = agent.push.take_requested()  # a push command: that day changed
                    if requested:
                        self._poll(syncer, requested)
                    if mono >= next_heartbeat:
                        try:
                            self._heartbeat(syncer)
                            next_heartbeat = mono + agent.config.heartbeat_s
                        finally:
                            agent.shared.first_heartbeat.set()
                    if mono >= next_poll:
                        self._poll(syncer)
                        next_poll = mono + agent.config.poll_s
                    reports = self.reports_due(mono)
                    # Emergency acks: at once unless MQTT delivered them (then spread, or with the reports).
                    agent.acks.flush(agent.api, mono, with_reports=reports)
                    if reports:
                        uploader.flush()
                    self._download_ahead()
                    ack_downloads(agent)
                    if mono >= next_evict:
                        syncer.prune()
                        agent.acks.prune()
                        agent.cache.evict(agent.store.needed_shas())
                        next_evict = mono + 86400
                except Unauthorized as exc:
                    error = f"Token bị từ chối: {exc}"
                    blocked_until = mono + max(agent.config.poll_s, 300)  # wait for a new token, no loop
                except RetryLater as exc:
                    error = str(exc)
                    blocked_until = mono + min(max(float(getattr(exc, "seconds", 10)), 1.0), agent.config.poll_s)
                except Exception as exc:  # noqa: BLE001 - the network thread must outlive any one failure
                    error = f"{type(exc).__name__}: {exc}"
                    blocked_until = mono + 10
                    # An answer the agent cannot use must not stop the other calls: the next round
                    # starts after the heartbeat, which is tried again at its own period.
                    next_heartbeat = max(next_heartbeat, mono + agent.config.heartbeat_s)
                # Only a completed round says the link is back (not the quiet while of a back-off).
                if error != last_error:
                    if error:
                        log.error("Mạng: %s", error)
                        agent.store.set_last_error(error)
                    elif last_error:
                        log.info("Mạng: đã kết nối lại máy chủ.")
                    last_error = error
            agent.shared.wake.wait(timeout=max(agent.config.tick_s, 1.0) /
                                   (agent.clock.speed if agent.clock.simulated else 1))
            agent.shared.wake.clear()

    def reports_due(self, mono: float) -> bool:
        """Whether to upload the queue now. Reports of scheduled plays wait this agent's share of
        upload_spread_s after the first of them was queued, so that a city's stations, which all end a
        slot at the same minute, do not all upload in the same second; an emergency's go at once."""
        if self.agent.store.queue_length() == 0:
            self._queued_since = None
            return False
        if self._queued_since is None:
            self._queued_since = mono
        if self.agent.shared.urgent_reports:
            self.agent.shared.urgent_reports = False
            return True
        return mono >= self._queued_since + self.upload_delay

    def _poll(self, syncer: Any, dates: list[str] | None = None) -> None:
        changed = syncer.poll(dates)
        if changed:
            self.agent.shared.playlists_generation += 1
            self.agent.shared.tick_wake.set()
            log.info("Danh sách phát mới: %s.", ", ".join(str(d) for d in changed))

    def _heartbeat(self, syncer: Any) -> None:
        reply = syncer.heartbeat(self.agent.heartbeat_state())
        offset = reply.get("clock_offset_s")
        if offset is not None:
            self.agent.shared.offset_s = float(offset)
        self.agent.push.configure(reply.get("push"))
        if reply.get("refetched"):
            self.agent.shared.playlists_generation += 1
            self.agent.shared.tick_wake.set()
            log.info("Danh sách phát mới: %s.", ", ".join(str(d) for d in reply["refetched"]))

    def _download_ahead(self) -> None:
        """Audio of every stored item not played yet, soonest first (emergencies before all)."""
        agent = self.agent
        now = agent.clock.now()
        pending = [i for i in agent.items if agent.states.get(i["id"]) is None
                   and parse_time(i["starts_at"]) + dt.timedelta(seconds=agent.config.grace_s) >= now]
        pending.sort(key=lambda i: (not is_emergency(i), parse_time(i["starts_at"])))
        for item in pending:
            if agent.stopping.is_set():
                return
            sha = (item.get("audio") or {}).get("sha256")
            if not sha or agent.cache.has(sha):
                continue
            try:
                agent.cache.ensure(item)
                agent.shared.audio_errors.pop(sha, None)
            except Exception as exc:  # noqa: BLE001 - recorded for the report; the next pass retries
                agent.shared.audio_errors[sha] = str(exc)
                raise


def flush_before_exit(api: Any, store: Any, acks: Any = None) -> None:
    # A quick last try: systemd waits TimeoutStopSec, and what is not sent stays queued anyway.
    api = copy.copy(api)
    for name, limit in (("timeout", 5.0), ("deadline_s", 10.0)):
        if isinstance(getattr(api, name, None), (int, float)):
            setattr(api, name, min(getattr(api, name), limit))
    try:
        from .uploader import Uploader
        if acks is not None:
            acks.flush(api, force=True)
        Uploader(api, store).flush()
    except Exception as exc:  # noqa: BLE001 - what was not sent stays queued for the next run
        log.warning("Không gửi được báo cáo khi dừng: %s", exc)
