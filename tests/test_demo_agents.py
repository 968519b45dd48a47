"""scripts/_demo_agents.py: the real station agents scripts/run starts for a few demo stations (their
stations, tokens, settings and clock), and the simulator leaving those stations to them."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import stat
import sys
import tomllib
from pathlib import Path

import pytest

from stations.agent.config import load_config
from stations.models import StationCredential
from tests.factories import StationFactory, UserFactory

REPO = Path(__file__).resolve().parents[1]
ICT = dt.timezone(dt.timedelta(hours=7))


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


demo_agents = _load("_demo_agents")


def _item(item_id: int, start: dt.datetime, slot: str, priority: str = "normal") -> dict:
    return {"id": item_id, "slot": slot, "starts_at": start.isoformat(), "bulletin": {"priority": priority}}


MORNING = dt.datetime(2026, 12, 2, 6, 0, tzinfo=ICT)
EVENING = dt.datetime(2026, 12, 2, 17, 0, tzinfo=ICT)
DAY = [_item(1, MORNING, "morning"), _item(2, MORNING + dt.timedelta(seconds=40), "morning"),
       _item(3, EVENING, "evening"), _item(4, EVENING + dt.timedelta(seconds=40), "evening")]


def test_an_item_due_now_is_played_on_the_real_clock() -> None:
    now = dt.datetime(2026, 12, 2, 4, 0, 30, tzinfo=ICT)
    emergency = _item(9, now - dt.timedelta(seconds=20), "emergency", "emergency")
    assert demo_agents.choose_clock([emergency, *DAY], now) == ("system", None)


def test_otherwise_a_simulated_clock_starts_just_before_the_next_slot_not_yet_played() -> None:
    early = dt.datetime(2026, 12, 2, 4, 0, tzinfo=ICT)
    assert demo_agents.choose_clock(DAY, early) == ("simulated", MORNING - dt.timedelta(seconds=20))
    # The morning played already (by an earlier run's simulated clock): the evening comes next.
    assert demo_agents.choose_clock(DAY, early, done=[1, 2]) == ("simulated", EVENING - dt.timedelta(seconds=20))
    # Half the morning played (cut short by a stop): it goes on from the next item at once.
    rest = demo_agents.choose_clock(DAY, early, done=[1])
    assert rest == ("simulated", MORNING + dt.timedelta(seconds=20))
    # An agent playing the morning is not restarted between two of its items; one past it is.
    running = ("simulated", MORNING - dt.timedelta(seconds=20))
    assert demo_agents.same_slot(DAY, running, rest)
    assert not demo_agents.same_slot(DAY, running, ("simulated", EVENING - dt.timedelta(seconds=20)))
    assert not demo_agents.same_slot(DAY, ("system", None), running)
    assert demo_agents.same_slot(DAY, ("system", None), ("system", None))
    noon = dt.datetime(2026, 12, 2, 12, 0, tzinfo=ICT)
    assert demo_agents.choose_clock(DAY, noon) == ("simulated", EVENING - dt.timedelta(seconds=20))


def test_late_in_the_day_the_simulated_clock_replays_from_the_last_slot() -> None:
    night = dt.datetime(2026, 12, 2, 21, 0, tzinfo=ICT)
    assert demo_agents.choose_clock(DAY, night) == ("simulated", EVENING - dt.timedelta(seconds=20))
    assert demo_agents.choose_clock([], night) == ("system", None)


def test_the_store_tells_what_was_played_and_whether_one_plays_now(tmp_path: Path) -> None:
    from stations.agent.store import Store

    assert demo_agents.plays(tmp_path) == (set(), False)
    store = Store.open(tmp_path)
    store.begin_play(1, "2026-12-02", "2026-12-02T06:00:00+07:00")
    store.finish_play(1, "played", "2026-12-02T06:00:40+07:00", None)
    store.begin_play(2, "2026-12-02", "2026-12-02T06:00:40+07:00")
    assert demo_agents.plays(tmp_path) == ({1}, True)
    store.close()


def test_the_written_settings_are_what_the_agent_loads(tmp_path: Path) -> None:
    token_file = tmp_path / "agents" / "01001" / "token"
    demo_agents.write_private(token_file, "bi-mat\n")
    start = MORNING - dt.timedelta(seconds=20)
    path = demo_agents.write_config(tmp_path / "agents" / "01001", demo_agents.agent_settings(
        "http://127.0.0.1:8743", tmp_path / "agents" / "01001" / "data", token_file, "simulated", start))

    config = load_config(path, environ={})
    assert (config.token, config.null_audio, config.require_ntp) == ("bi-mat", True, False)
    assert (config.clock, config.sim_start, config.sim_speed) == ("simulated", start, 1.0)
    # The check against the server's time would refuse every play of a clock set hours ahead.
    assert config.max_clock_offset_s == 0
    assert config.data_dir == tmp_path / "agents" / "01001" / "data"
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(token_file.stat().st_mode) == 0o600

    real = demo_agents.write_config(tmp_path / "real", demo_agents.agent_settings(
        "http://x", tmp_path / "d", token_file, "system", None))
    assert "sim_start" not in tomllib.loads(real.read_text())
    assert demo_agents.current_clock(path) == ("simulated", start)
    assert demo_agents.current_clock(real) == ("system", None)
    assert load_config(real, environ={}).max_clock_offset_s == 30  # the real clock is checked as on a box


def test_the_agents_take_stations_the_simulator_would_play() -> None:
    codes = [f"01{n:03d}" for n in range(40)]
    picked = demo_agents.pick_stations(codes, 3)
    assert len(picked) == 3 and picked == sorted(picked)
    assert all(demo_agents._fraction(c, 1, "silent") >= 0.12 for c in picked)
    assert demo_agents.pick_stations(codes, 0) == []


def _live_tokens() -> dict[str, int]:
    return dict(StationCredential.objects.filter(revoked_at__isnull=True).values_list("station__code", "pk"))


@pytest.mark.django_db(transaction=True)
def test_agents_keep_their_tokens_across_runs_and_the_simulator_leaves_their_stations(live_server, tmp_path: Path,
                                                                                   capsys) -> None:
    UserFactory(username="giamsat", roles=["supervisor"])
    StationFactory.create_batch(6)
    var = tmp_path / "var"
    args = ["--base-url", live_server.url, "--var", str(var), "--count", "2", "--password", "mat-khau-thu-nghiem"]

    assert demo_agents.main(args) == 0
    codes = capsys.readouterr().out.split()
    assert len(codes) == 2 and sorted(_live_tokens()) == sorted(codes)
    first = _live_tokens()
    for code in codes:
        config = load_config(var / "agents" / code / "agent.toml", environ={})
        assert config.server_url == live_server.url and config.data_dir == var / "agents" / code / "data"
    assert stat.S_IMODE((var / "agent-tokens.json").stat().st_mode) == 0o600

    assert demo_agents.main(args) == 0
    assert capsys.readouterr().out.split() == codes
    assert _live_tokens() == first  # reused: a running agent is never cut off by a re-run

    simulate = _load("simulate_stations")
    assert simulate.main(["--base-url", live_server.url, "--password", "mat-khau-thu-nghiem", "--workers", "1",
                          "--silent-fraction", "0", "--tokens", str(var / "simulator-tokens.json"),
                          "--skip", ",".join(codes)]) == 0
    stored = json.loads((var / "simulator-tokens.json").read_text())["tokens"]
    assert len(stored) == 4 and not set(stored) & set(codes)
    assert {c: _live_tokens()[c] for c in codes} == first
