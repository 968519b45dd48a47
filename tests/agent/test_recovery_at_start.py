"""How a play's end is known when the agent was not there to see it: the player's wrapper records the exit
(code and time) itself, and the next start settles a play left open from that record, not as interrupted
when the audio had played whole."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
import time

from stations.agent.agent import Agent, local_date
from stations.agent.clock import SystemClock
from stations.agent.config import AgentConfig
from stations.agent.player import Player
from stations.agent.store import Store
from tests.agent.test_agent_loop import SLEEPER, FakeCache, item, queued, run_until

# Exits 0 when told to stop (as some players do on SIGTERM): its exit code alone says nothing.
OBEDIENT = [sys.executable, "-c", "import signal, sys, time; signal.signal(signal.SIGTERM, lambda *_: sys.exit(0)); "
            "print('ready', flush=True); time.sleep(60)"]
FAILING = [sys.executable, "-c", "import sys; sys.stderr.write('Không mở được tệp'); sys.exit(3)"]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def make(tmp_path, items: list[dict], command=SLEEPER) -> Agent:  # noqa: ANN001
    """An agent over tmp_path/data, as each run of the process makes one (the store reopened)."""
    data = tmp_path / "data"
    store = Store.open(data)
    today = local_date(now()).isoformat()
    store.save_playlist(today, 1, '"1"', {"date": today, "version": 1, "items": items})
    config = AgentConfig(server_url="http://127.0.0.1:9", token="t", data_dir=data, require_ntp=False,
                         tick_s=0.05, grace_s=30.0)
    return Agent(config, clock=SystemClock(), api=object(), store=store, cache=FakeCache(tmp_path),
                 player=Player(command, state_dir=data), network=False)


def begin(agent: Agent) -> tuple[str, object]:
    """The agent starts the due item as it would, and is killed after that (nothing more runs in it)."""
    agent.start()
    run_until(agent, lambda: agent.playing is not None)
    (play,) = agent.store.unfinished_plays()
    return play["report_id"], agent.playing


def test_a_player_that_finished_while_the_agent_was_dead_is_reported_played_at_its_own_end(tmp_path):
    first = make(tmp_path, [item(1, now(), seconds=0.3)])
    rid, playing = begin(first)
    playing.process.wait(timeout=10)  # the player finished; the agent never polled it
    finished_by = now()
    time.sleep(0.3)

    again = make(tmp_path, [item(1, now(), seconds=0.3)])
    again.start()
    again.start()  # another restart adds nothing

    (report,) = again.store.queue_batch(100)
    assert report["report_id"] == rid and report["status"] == "played", report
    ended = dt.datetime.fromisoformat(report["ended_at"])
    assert ended <= finished_by
    assert (ended - dt.datetime.fromisoformat(report["started_at"])).total_seconds() >= 0.25
    assert again.player.ends() == {}  # the record is gone once the outcome is stored


def test_a_player_that_failed_while_the_agent_was_dead_is_reported_failed_as_if_it_had_been_seen(tmp_path):
    first = make(tmp_path, [item(1, now())], FAILING)
    _, playing = begin(first)
    playing.process.wait(timeout=10)

    again = make(tmp_path, [item(1, now())], FAILING)
    again.start()

    (report,) = again.store.queue_batch(100)
    assert report["status"] == "failed"
    assert report["error"] == "Trình phát thoát với mã 3: Không mở được tệp"


def test_a_play_the_agent_stopped_just_before_it_was_killed_is_interrupted_whatever_the_exit_code(tmp_path):
    first = make(tmp_path, [item(1, now(), seconds=60)], OBEDIENT)
    _, playing = begin(first)
    time.sleep(0.5)
    playing.stop()  # an emergency or SIGTERM; killed before the outcome was stored
    assert playing.process.returncode == 0

    again = make(tmp_path, [item(1, now(), seconds=60)], OBEDIENT)
    again.start()

    (report,) = again.store.queue_batch(100)
    assert report["status"] == "interrupted"
    assert again.player.ends() == {}


def test_a_player_stopped_by_a_signal_from_outside_is_never_reported_played(tmp_path):
    # systemd stops the whole control group when the agent died: the player gets SIGTERM, not from the agent.
    first = make(tmp_path, [item(1, now(), seconds=60)], OBEDIENT[:2] + ["import time; time.sleep(60)"])
    _, playing = begin(first)
    time.sleep(0.3)
    os.killpg(playing.process.pid, signal.SIGTERM)
    playing.process.wait(timeout=10)

    again = make(tmp_path, [item(1, now(), seconds=60)])
    again.start()

    (report,) = again.store.queue_batch(100)
    assert report["status"] == "interrupted"


def test_without_a_record_of_the_end_an_open_play_is_still_interrupted_and_stale_records_go(tmp_path):
    first = make(tmp_path, [item(1, now(), seconds=0.2), item(2, now() + dt.timedelta(seconds=30), seconds=60)])
    today = local_date(now()).isoformat()
    # Item 1 was stored as played, then the agent died before removing the wrapper's record.
    rid1, playing = begin(first)
    playing.process.wait(timeout=10)
    first.store.finish_play(1, "played", now())
    rid2 = first.store.begin_play(2, today, now())  # recorded, then killed before the player started

    again = make(tmp_path, [item(1, now(), seconds=0.2), item(2, now(), seconds=60)])
    again.start()

    reports = {r["report_id"]: r for r in again.store.queue_batch(100)}
    assert set(reports) == {rid1, rid2}
    assert reports[rid1]["status"] == "played" and reports[rid2]["status"] == "interrupted"
    assert again.player.ends() == {}


def test_a_tick_records_the_players_own_end_time_not_the_moment_it_noticed(tmp_path):
    agent = make(tmp_path, [item(1, now(), seconds=0.3)])
    agent.start()
    run_until(agent, lambda: agent.playing is not None)
    agent.playing.process.wait(timeout=10)
    finished_by = now()
    time.sleep(0.5)  # a slow tick

    agent.tick()

    report = queued(agent)[1]
    assert report["status"] == "played"
    assert dt.datetime.fromisoformat(report["ended_at"]) <= finished_by
    assert agent.player.ends() == {}

