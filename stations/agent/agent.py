"""The agent's loop.

Two threads share the store (it is locked): the main one decides on every tick, from the clock's absolute
time, what plays (scheduler → player) and records every outcome before anything else; the network one
polls playlists, sends heartbeats, downloads audio ahead of time and uploads the report queue, so that a
slow or dead link never delays a start or the moment a play is seen to end.

Every play is recorded (begin_play, with its report id) before the player starts and its report is
queued in the same transaction that marks it done; a play found started at start-up (the agent was
killed or the power cut) is settled with its own report id from what the player's wrapper recorded when
the player exited (recovery.py): played if it ended by itself, interrupted if it did not or the agent was
stopping it. So no play is lost and none is reported twice, whenever the process dies.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from typing import Any

from . import VERSION
from .acks import Acks
from .clock import Clock, clock_from, clock_problem, ntp_synchronized
from .config import AgentConfig
from .network import Network, flush_before_exit
from .player import INTERRUPTED, Player, Playing, choose_player
from .push import Push
from .recovery import forget_before_rebuild, rebuilt_at, settle_unfinished
from .scheduler import due, is_emergency, parse_time

log = logging.getLogger("loa.agent")

LOCAL = dt.timezone(dt.timedelta(hours=7))  # Asia/Ho_Chi_Minh: no daylight saving time
NTP_EVERY_S = 60.0
STOP_ERROR = "Trạm dừng giữa chừng (tắt dịch vụ)"
PREEMPT_ERROR = "Dừng để phát tin khẩn cấp"
CANCEL_ERROR = "Tin khẩn cấp đã bị huỷ"
LATE_ERROR = "Quá giờ phát (trễ hơn {grace:g} s)"


def local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(LOCAL).date()


class SharedState:
    """What the network thread tells the main one (plain attributes, replaced whole under the GIL)."""

    def __init__(self) -> None:
        self.playlists_generation = 0
        self.offset_s: float | None = None
        self.ntp: bool | None = None
        self.audio_errors: dict[str, str] = {}
        self.wake = threading.Event()  # the main thread asks the network one to act now (a play ended)
        # The other threads ask the main one to tick now (a new playlist, an emergency's audio, a cancel):
        # a push command's emergency must not wait for the next tick.
        self.tick_wake = threading.Event()
        self.urgent_reports = False  # an emergency's outcome is queued: upload it without waiting
        # Set once the first heartbeat was answered or failed: until then (at most a short while) nothing
        # starts, so that a clock the server would call wrong is known before the first play.
        self.first_heartbeat = threading.Event()


class Agent:
    def __init__(self, config: AgentConfig, *, clock: Clock | None = None, api: Any = None, store: Any = None,
                 cache: Any = None, player: Player | None = None, network: bool = True) -> None:
        self.config = config
        self.clock = clock or clock_from(config)
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        if store is None:
            from .store import Store
            store = Store.open(config.data_dir)
        self.store = store
        if api is None:
            from .http import StationAPI
            api = StationAPI(config.server_url, config.token, timeout=config.http_timeout_s)
        self.api = api
        if cache is None:
            from .downloads import AudioCache
            cache = AudioCache(config.data_dir / "audio", api, cache_days=config.cache_days,
                               cache_bytes=config.cache_bytes)
        self.cache = cache
        if player is None:
            command = choose_player(config.null_audio) if config.player == "auto" else config.player
            player = Player(command, config.amp_on, config.amp_off, config.lead_in_s, config.lead_out_s,
                            self.clock, state_dir=config.data_dir)
        self.player = player
        self.shared = SharedState()
        self.stopping = threading.Event()
        self.network_enabled = network
        self.playing: Playing | None = None
        self.playing_item: dict[str, Any] | None = None
        self.items: list[dict[str, Any]] = []
        self.states: dict[int, str] = {}
        self._generation_seen = -1
        self._items_day: dt.date | None = None
        self._clock_problem: str | None = None
        self._ntp_checked_at: float | None = None
        self._waiting_for_audio: set[int] = set()
        self._network: threading.Thread | None = None
        self._rebuilt_at: dt.datetime | None = None
        self.network = Network(self)
        self.acks = Acks(self.store, self.clock, config.ack_spread_s)
        self.push = Push(self)

    # ------------------------------------------------------------ life

    def run(self) -> int:
        self.start()
        try:
            while not self.stopping.is_set():
                self.tick()
                self.shared.tick_wake.wait(self.config.tick_s / (self.clock.speed if self.clock.simulated else 1))
                self.shared.tick_wake.clear()
        finally:
            self.shutdown()
        return 0

    def start(self) -> None:
        log.info("Khởi động %s, máy chủ %s, thư mục %s.", VERSION, self.config.server_url, self.config.data_dir)
        self._rebuilt_at = rebuilt_at(self.store, self.clock)
        ends = self.player.ends()  # before stopping a leftover player: only ends it reached by itself
        self.player.stop_leftover()
        for report_id, status in settle_unfinished(self.store, self.player, self.clock, ends):
            log.warning("Lượt phát dở từ lần chạy trước được báo là %s (báo cáo %s).", status, report_id)
        self.check_ntp(force=True)
        self._started_mono = self.clock.monotonic()
        if not self.network_enabled:
            self.shared.first_heartbeat.set()
        if self.network_enabled:
            if self.config.mqtt_url:
                self.push.configure(None)  # started now when the URL names the station, else after the heartbeat
            self._network = threading.Thread(target=self.network.run, name="loa-network", daemon=True)
            self._network.start()

    def request_stop(self, *_: Any) -> None:
        self.stopping.set()
        self.shared.wake.set()
        self.shared.tick_wake.set()

    def shutdown(self) -> None:
        """Stops the player (its play reported interrupted), sends what is queued, switches the amplifier off."""
        self.stopping.set()
        self.shared.wake.set()
        if self.playing is not None:
            outcome = self.playing.stop()
            self._finish(outcome.status, outcome.ended_at, STOP_ERROR if outcome.status == INTERRUPTED
                         else outcome.error)
        self.player.switch_amp_off()
        if self._network is not None:
            self._network.join(timeout=self.config.http_timeout_s + 5)
        self.push.stop()
        if self.network_enabled:
            flush_before_exit(self.api, self.store, self.acks)
        log.info("Đã dừng; %d báo cáo còn chờ gửi.", self.store.queue_length())

    # ------------------------------------------------------------ the tick (main thread)

    def tick(self) -> None:
        now = self.clock.now()
        self._reload_items()
        if self.playing is not None:
            outcome = self.playing.poll()
            if outcome is not None:
                self._finish(outcome.status, outcome.ended_at, outcome.error)
        items = self.items
        if self.push.cancelled:  # an emergency cancelled by command: stopped, and not started from now on
            self._stop_cancelled()
            items = [i for i in items if i.get("schedule") not in self.push.cancelled]
        decision = due(items, now, self.config.grace_s, self.states, self.playing_item)
        for item in decision.skip:
            self._skip(item, self._skip_reason(item))
        if decision.play is not None and self._may_start():
            self._begin(decision.play, decision.preempt, now)
        if self.playing is None:
            self.player.idle()

    def _may_start(self) -> bool:
        if self.shared.first_heartbeat.is_set():
            return True
        waited = self.clock.monotonic() - self._started_mono
        return waited >= min(self.config.http_timeout_s + 1, self.config.grace_s / 4)

    def _begin(self, item: dict[str, Any], preempt: bool, now: dt.datetime) -> None:
        problem = self.clock_problem()
        if problem is not None:
            self._skip(item, problem)
            return
        sha = (item.get("audio") or {}).get("sha256", "")
        if not sha or not self.cache.has(sha):
            if item["id"] not in self._waiting_for_audio:
                self._waiting_for_audio.add(item["id"])
                log.warning("Đến giờ phát mục %s nhưng chưa có tệp âm thanh; chờ tải.", item["id"])
                self.shared.wake.set()
            return
        self._waiting_for_audio.discard(item["id"])
        if preempt and self.playing is not None:
            log.warning("Tin khẩn cấp (mục %s) ngắt mục %s.", item["id"], self.playing_item["id"])
            outcome = self.playing.stop()
            self._finish(outcome.status, outcome.ended_at,
                         PREEMPT_ERROR if outcome.status == INTERRUPTED else outcome.error)
        # The amplifier's lead-in comes before the recorded start: the report says when the audio began.
        self.player.switch_amp_on()
        started_at = self.clock.now()
        # `downloaded` too if no thread acked it yet: the server must not see started before it.
        acks = [a for a in (self.acks.for_item(item, "downloaded"), self.acks.for_item(item, "started")) if a]
        report_id = self.store.begin_play(item["id"], item["date"], started_at, ack=acks)
        for ack in acks:
            self.acks.sent(ack)
        self.states[item["id"]] = "started"
        try:
            self.playing = self.player.start(self.cache.path_for(sha), _duration_s(item), report_id)
        except OSError as exc:
            error = f"Không chạy được trình phát: {exc}"
            ack = self.acks.for_item(item, "failed", error)
            self.store.finish_play(item["id"], "failed", self.clock.now(), error, ack=ack)
            self.acks.sent(ack)
            self.states[item["id"]] = "done"
            log.error("Không chạy được trình phát cho mục %s: %s", item["id"], exc)
            return
        self.playing_item = item
        late = (started_at - parse_time(item["starts_at"])).total_seconds()
        log.info("Phát mục %s%s (%s)%s.", item["id"], " [khẩn cấp]" if is_emergency(item) else "",
                 (item.get("bulletin") or {}).get("title", ""), f", trễ {late:.1f} s" if late >= 1 else "")

    def _finish(self, status: str, ended_at: dt.datetime, error: str | None) -> None:
        item, playing = self.playing_item, self.playing
        self.playing = None
        self.playing_item = None
        if item is None:
            return
        ack = self.acks.for_item(item, self.acks.end_state(status), error)
        self.store.finish_play(item["id"], status, ended_at, error, ack=ack)
        self.acks.sent(ack)
        if playing is not None:
            playing.forget_end()  # only now that the outcome is committed
        self.states[item["id"]] = "done"
        log.info("Mục %s: %s%s.", item["id"], status, f" ({error})" if error else "")
        self.shared.urgent_reports |= is_emergency(item)
        self.shared.wake.set()

    def _skip(self, item: dict[str, Any], reason: tuple[str, str] | str) -> None:
        status, error = ("skipped", reason) if isinstance(reason, str) else reason
        ack = self.acks.for_item(item, "failed", error)
        self.store.record_outcome(item["id"], item["date"], status, parse_time(item["starts_at"]), None, error, ack=ack)
        self.acks.sent(ack)
        self.states[item["id"]] = "done"
        self._waiting_for_audio.discard(item["id"])
        log.warning("Mục %s: %s (%s).", item["id"], status, error)
        self.shared.urgent_reports |= is_emergency(item)
        self.shared.wake.set()

    def _stop_cancelled(self) -> None:
        if self.playing is not None and (self.playing_item or {}).get("schedule") in self.push.cancelled:
            log.warning("Tin khẩn cấp (mục %s) đã bị huỷ: dừng phát.", self.playing_item["id"])
            outcome = self.playing.stop()
            self._finish(outcome.status, outcome.ended_at, CANCEL_ERROR if outcome.status == INTERRUPTED
                         else outcome.error)

    def _skip_reason(self, item: dict[str, Any]) -> tuple[str, str]:
        problem = self.clock_problem()
        if problem is not None:
            return "skipped", problem
        sha = (item.get("audio") or {}).get("sha256", "")
        # Missing audio is the reason only for an item that waited for it while due; one already late
        # when the agent came to it (a restart, a day offline) was simply late.
        if item["id"] in self._waiting_for_audio and sha and not self.cache.has(sha):
            missing = self.shared.audio_errors.get(sha) or "chưa tải về kịp"
            return "failed", f"Không có tệp âm thanh: {missing}"
        return "skipped", LATE_ERROR.format(grace=self.config.grace_s)

    def _reload_items(self) -> None:
        generation = self.shared.playlists_generation
        today = local_date(self.clock.now())
        # A new day widens the window (yesterday, today, tomorrow) even when no playlist changed.
        if generation == self._generation_seen and today == self._items_day:
            return
        self._generation_seen = generation
        self._items_day = today
        items: list[dict[str, Any]] = []
        for offset in (-1, 0, 1):
            date = (today + dt.timedelta(days=offset)).isoformat()
            doc = self.store.playlist(date)
            for item in (doc or {}).get("items") or []:
                items.append({**item, "date": doc.get("date", date)})
        if self._rebuilt_at is not None:
            forget_before_rebuild(self.store, items, self._rebuilt_at)
        playing_id = self.playing_item["id"] if self.playing_item else None
        self.acks.known(items)  # before the network thread sees them: received comes before downloaded
        self.items = items
        self.states = self.store.play_states([i["id"] for i in items])
        if playing_id is not None:
            self.states[playing_id] = "started"

    # ------------------------------------------------------------ the clock

    def check_ntp(self, force: bool = False) -> None:
        if not self.config.require_ntp:
            return
        now = self.clock.monotonic()
        if force or self._ntp_checked_at is None or now - self._ntp_checked_at >= NTP_EVERY_S:
            self._ntp_checked_at = now
            self.shared.ntp = ntp_synchronized(self.config.ntp_check)

    def clock_problem(self) -> str | None:
        problem = clock_problem(require_ntp=self.config.require_ntp, ntp=self.shared.ntp,
                                offset_s=self.shared.offset_s, max_offset_s=self.config.max_clock_offset_s)
        if problem != self._clock_problem:
            if problem:
                log.error("Không phát theo giờ: %s.", problem)
            else:
                log.info("Đồng hồ đã đúng trở lại.")
            self._clock_problem = problem
        return problem

    def heartbeat_state(self) -> dict[str, Any]:
        """What the heartbeat's `state` says beyond the syncer's own (offset, queue length, last error)."""
        item = self.playing_item
        return {
            "playing": item["id"] if item else None,
            "ntp_synchronized": self.shared.ntp,
            "clock_problem": self._clock_problem,
            "mqtt_connected": self.push.connected(),
            "ack_queue_length": self.acks.queue_length(),
        }


def _duration_s(item: dict[str, Any]) -> float | None:
    ms = (item.get("audio") or {}).get("duration_ms")
    return ms / 1000 if ms else None


def install_signal_handlers(agent: Agent) -> None:
    signal.signal(signal.SIGTERM, agent.request_stop)
    signal.signal(signal.SIGINT, agent.request_stop)
