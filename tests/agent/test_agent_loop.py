"""The agent's loop in-process (no network thread): start-up after a crash, what each tick decides and
records, and a log that speaks of changes only."""

from __future__ import annotations

import datetime as dt
import logging
import sys
import time
from pathlib import Path

import pytest

from stations.agent.agent import Agent, local_date
from stations.agent.clock import SystemClock
from stations.agent.config import AgentConfig
from stations.agent.player import Player
from stations.agent.store import Store

SLEEPER = [sys.executable, "-c", "import sys, time; time.sleep(float(sys.argv[1]))", "{duration_s}"]


class FakeCache:
    def __init__(self, root: Path, missing: set[str] = frozenset()) -> None:
        self.root, self.missing = root, set(missing)

    def has(self, sha: str) -> bool:
        return sha not in self.missing

    def path_for(self, sha: str) -> Path:
        return self.root / f"{sha}.mp3"


def item(id_: int, starts_at: dt.datetime, seconds: float = 0.3, priority: str = "normal") -> dict:
    return {"id": id_, "position": id_, "slot": "morning", "starts_at": starts_at.isoformat(),
            "ends_at": (starts_at + dt.timedelta(seconds=seconds)).isoformat(),
            "bulletin": {"id": id_, "title": f"Tin {id_}", "priority": priority},
            "audio": {"url": f"/a/{id_}", "sha256": f"{id_:064x}", "duration_ms": int(seconds * 1000),
                      "size_bytes": 10}}


@pytest.fixture
def make_agent(tmp_path):
    made: list[Agent] = []

    def make(items: list[dict], *, missing: set[str] = frozenset(), **settings) -> Agent:  # noqa: ANN003
        store = Store.open(tmp_path / "data")
        today = local_date(SystemClock().now()).isoformat()
        store.save_playlist(today, 1, '"1"', {"date": today, "version": 1, "items": items})
        values = {"server_url": "http://127.0.0.1:9", "token": "t", "data_dir": tmp_path / "data",
                  "require_ntp": False, "tick_s": 0.05, "grace_s": 30.0}
        values.update(settings)
        config = AgentConfig(**values)
        agent = Agent(config, clock=SystemClock(), api=object(), store=store, cache=FakeCache(tmp_path, missing),
                      player=Player(SLEEPER, state_dir=tmp_path / "data"), network=False)
        made.append(agent)
        return agent

    yield make
    for agent in made:
        if agent.playing is not None:
            agent.playing.stop()


def run_until(agent: Agent, condition, timeout: float = 10.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        agent.tick()
        time.sleep(0.02)


def queued(agent: Agent) -> dict[int, dict]:
    return {r["playlist_item"]: r for r in agent.store.queue_batch(100)}


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def test_a_play_found_started_at_start_up_is_reported_interrupted_once_with_its_own_report_id(make_agent):
    agent = make_agent([item(1, now() - dt.timedelta(seconds=5), seconds=60)])
    report_id = agent.store.begin_play(1, local_date(now()).isoformat(), now() - dt.timedelta(seconds=5))

    agent.start()
    agent.start()  # a second start (another restart) adds nothing

    (report,) = agent.store.queue_batch(100)
    assert report["report_id"] == report_id and report["status"] == "interrupted"
    assert report["error"] == "Mất điện hoặc máy tắt giữa chừng"
    agent.tick()
    assert agent.playing is None  # never replayed


def test_items_play_in_turn_and_each_is_queued_played_once(make_agent):
    start = now() + dt.timedelta(seconds=0.3)
    agent = make_agent([item(1, start), item(2, start + dt.timedelta(seconds=0.3))])
    agent.start()

    run_until(agent, lambda: len(queued(agent)) == 2)
    for _ in range(20):
        agent.tick()

    reports = queued(agent)
    assert [reports[i]["status"] for i in (1, 2)] == ["played", "played"]
    assert reports[2]["started_at"] >= reports[1]["ended_at"]
    assert agent.store.queue_length() == 2


def test_an_emergency_interrupts_the_scheduled_item_which_is_reported_interrupted(make_agent):
    agent = make_agent([item(1, now(), seconds=30), item(9, now() + dt.timedelta(seconds=0.3), 0.2, "emergency")])
    agent.start()

    run_until(agent, lambda: 9 in queued(agent))

    reports = queued(agent)
    assert reports[1]["status"] == "interrupted" and reports[1]["error"] == "Dừng để phát tin khẩn cấp"
    assert reports[9]["status"] == "played"


def test_an_item_past_its_grace_is_reported_skipped(make_agent):
    agent = make_agent([item(1, now() - dt.timedelta(seconds=60))])
    agent.start()
    agent.tick()
    report = queued(agent)[1]
    assert report["status"] == "skipped" and report["error"] == "Quá giờ phát (trễ hơn 30 s)"
    assert agent.playing is None


def test_an_item_whose_audio_never_arrived_is_reported_failed_past_its_grace(make_agent):
    agent = make_agent([item(1, now())], missing={f"{1:064x}"}, grace_s=1.0)
    agent.start()
    agent.tick()
    assert agent.playing is None and not queued(agent)  # waiting for the download, within the grace
    run_until(agent, lambda: queued(agent))
    report = queued(agent)[1]
    assert report["status"] == "failed" and report["error"].startswith("Không có tệp âm thanh")


def test_a_clock_far_from_the_servers_refuses_to_play_and_says_so_in_the_heartbeat(make_agent):
    agent = make_agent([item(1, now())], max_clock_offset_s=30.0)
    agent.start()
    agent.shared.offset_s = -95.0  # as the last heartbeat measured

    agent.tick()

    report = queued(agent)[1]
    assert report["status"] == "skipped"
    assert report["error"] == "Đồng hồ sai lệch -95.0 s so với máy chủ (cho phép 30 s)"
    assert agent.playing is None
    assert agent.heartbeat_state()["clock_problem"] == report["error"]


def test_nothing_starts_until_the_first_heartbeat_answered_or_a_short_wait_passed(make_agent):
    agent = make_agent([item(1, now())], http_timeout_s=0.3, grace_s=30.0)
    agent.network_enabled = True  # as in a real run, but without starting the thread
    agent._started_mono = agent.clock.monotonic()
    agent.tick()
    assert agent.playing is None
    run_until(agent, lambda: agent.playing is not None, timeout=5)


def test_the_log_speaks_of_changes_not_of_ticks(make_agent, caplog):
    agent = make_agent([item(1, now() + dt.timedelta(seconds=0.2))])
    caplog.set_level(logging.DEBUG, logger="loa.agent")
    agent.start()
    run_until(agent, lambda: queued(agent))
    for _ in range(200):
        agent.tick()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) <= 4, lines  # started, a play begins, it ends (and nothing per tick)


def test_an_item_already_late_when_the_agent_comes_to_it_is_skipped_as_late_not_for_its_audio(make_agent):
    agent = make_agent([item(1, now() - dt.timedelta(seconds=60))], missing={f"{1:064x}"})
    agent.start()
    agent.tick()
    assert queued(agent)[1]["status"] == "skipped"


def test_a_late_start_within_the_grace_plays_and_is_reported_with_its_real_start(make_agent):
    planned = now() - dt.timedelta(seconds=10)
    agent = make_agent([item(1, planned)], grace_s=30.0)
    agent.start()
    before = now()
    run_until(agent, lambda: queued(agent))
    report = queued(agent)[1]
    assert report["status"] == "played"
    assert dt.datetime.fromisoformat(report["started_at"]) >= before > planned


def test_after_a_corrupt_store_is_rebuilt_items_that_began_before_are_not_reported_again(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "agent.sqlite3").write_bytes(b"not a database" * 100)
    store = Store.open(data)
    assert store.rebuilt_from
    config = AgentConfig(server_url="http://127.0.0.1:9", token="t", data_dir=data, require_ntp=False,
                         tick_s=0.05, grace_s=30.0)
    agent = Agent(config, clock=SystemClock(), api=object(), store=store, cache=FakeCache(tmp_path),
                  player=Player(SLEEPER, state_dir=data), network=False)
    agent.start()
    # The playlists come back from the server after the rebuild: one item began before it (played or
    # reported by the lost database, nobody knows), one is still to come.
    today = local_date(SystemClock().now()).isoformat()
    before, coming = item(1, now() - dt.timedelta(minutes=10)), item(2, now() + dt.timedelta(seconds=0.3))
    store.save_playlist(today, 1, '"1"', {"date": today, "version": 1, "items": [before, coming]})
    agent.shared.playlists_generation += 1
    run_until(agent, lambda: 2 in queued(agent))
    assert set(queued(agent)) == {2} and queued(agent)[2]["status"] == "played"
    # A restart before every playlist came back still knows when the store was rebuilt.
    again = Agent(config, clock=SystemClock(), api=object(), store=Store.open(data), cache=FakeCache(tmp_path),
                  player=Player(SLEEPER, state_dir=data), network=False)
    again.start()
    found_later = item(3, now() - dt.timedelta(minutes=5))
    again.store.save_playlist(today, 2, '"2"', {"date": today, "version": 2, "items": [before, coming, found_later]})
    again.shared.playlists_generation += 1
    for _ in range(5):
        again.tick()
    assert set(queued(again)) == {2}


def test_reports_of_scheduled_plays_wait_the_agents_share_of_the_upload_spread_and_an_emergencys_go_at_once(
        make_agent):
    agent = make_agent([item(1, now()), item(9, now() + dt.timedelta(seconds=0.5), 0.2, "emergency")],
                       upload_spread_s=600.0)
    agent.network.upload_delay = 100.0  # drawn at random in 0…upload_spread_s; fixed here
    agent.start()
    assert not agent.network.reports_due(1000.0)  # nothing queued

    run_until(agent, lambda: 1 in queued(agent))
    assert not agent.network.reports_due(1000.0)  # the first scheduled report starts this agent's wait
    assert not agent.network.reports_due(1099.0)
    assert agent.network.reports_due(1100.0)

    agent.store.queue_delete([queued(agent)[1]["report_id"]])
    assert not agent.network.reports_due(1101.0)  # emptied: the next report waits again
    run_until(agent, lambda: 9 in queued(agent))
    assert agent.network.reports_due(1102.0)  # an emergency's report goes at once
    assert not agent.network.reports_due(1103.0)  # once


def test_upload_spread_must_not_be_negative(tmp_path):
    from stations.agent.config import ConfigError

    with pytest.raises(ConfigError, match="upload_spread_s"):
        AgentConfig(server_url="http://127.0.0.1:9", token="t", data_dir=tmp_path, upload_spread_s=-1.0)
