"""The station agent as a real subprocess (`python3.11 -m stations.agent`) against the live server: it plays
the day's items at their times and its reports arrive, once, whatever kills it."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.utils import timezone

from broadcast.models import PlaybackReport, Playlist, PlaylistItem
from broadcast.selectors.playlists import local_today
from stations.services import issue_station_token
from tests.factories import StationFactory, approved_bulletin

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
PYTHON = "/usr/bin/python3.11" if os.path.exists("/usr/bin/python3.11") else sys.executable
# Sleeps for the item's duration: a player that needs no sound card and exits 0 like a real one.
FAKE_PLAYER = [PYTHON, "-c", "import sys, time; time.sleep(float(sys.argv[1]))", "{duration_s}"]


def wait_for(condition, timeout: float = 30.0, what: str = "condition", agent=None):  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    log = agent.log_text() if agent is not None else ""
    raise AssertionError(f"timed out waiting for {what}\n--- agent log ---\n{log}")


class AgentProcess:
    def __init__(self, tmp_path: Path, server_url: str, token: str, **settings) -> None:  # noqa: ANN003
        self.data_dir = tmp_path / "agent-data"
        self.log_path = tmp_path / "agent.log"
        values = {"server_url": server_url, "token": token, "data_dir": str(self.data_dir),
                  "player": FAKE_PLAYER, "require_ntp": False, "tick_s": 0.2, "poll_s": 1.0, "heartbeat_s": 2.0,
                  "upload_spread_s": 0.0, "grace_s": 30.0, "http_timeout_s": 5.0, "max_clock_offset_s": 30.0}
        values.update(settings)
        self.config = tmp_path / "agent.toml"
        self.config.write_text("\n".join(f"{k} = {json.dumps(v)}" for k, v in values.items()) + "\n",
                               encoding="utf-8")
        self.process: subprocess.Popen | None = None

    def start(self) -> AgentProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LOA_AGENT_")}
        env["PYTHONPATH"] = str(ROOT)
        log = open(self.log_path, "ab")  # noqa: SIM115 - kept open by the child
        self.process = subprocess.Popen([PYTHON, "-m", "stations.agent", "--config", str(self.config)],
                                        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        return self

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def player_pid(self) -> int | None:
        pid_file = self.data_dir / "player.pid"
        try:
            return int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)

    def kill_leftovers(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        pid = self.player_pid()
        if pid:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


@pytest.fixture
def agents():
    started: list[AgentProcess] = []
    yield started
    for agent in started:
        agent.kill_leftovers()


@pytest.fixture
def station_token(db):
    station = StationFactory()
    return station, issue_station_token(station)


def todays_playlist(station) -> Playlist:  # noqa: ANN001
    playlist, _ = Playlist.objects.get_or_create(
        station=station, date=local_today(),
        defaults={"version": 1, "etag": f'"agent-{station.pk}-1"', "generated_at": timezone.now()},
    )
    return playlist


def add_item(station, bulletin, starts_at: dt.datetime, *, slot: str = "morning") -> PlaylistItem:  # noqa: ANN001
    """Places `bulletin` on today's playlist at `starts_at`, as a new version of the playlist."""
    playlist = todays_playlist(station)
    position = playlist.items.count()
    rendition = bulletin.live_revision.rendition
    item = PlaylistItem.objects.create(
        playlist=playlist, key=f"{bulletin.pk}:{slot}:{position}", position=position, slot=slot,
        starts_at=starts_at, ends_at=starts_at + dt.timedelta(milliseconds=rendition.duration_ms),
        bulletin=bulletin, revision=bulletin.live_revision, rendition=rendition, sha256=rendition.sha256,
        duration_ms=rendition.duration_ms, priority=bulletin.priority,
    )
    if position:
        playlist.version += 1
        playlist.etag = f'"agent-{station.pk}-{playlist.version}"'
        playlist.save(update_fields=["version", "etag"])
    return item


def reports_for(item: PlaylistItem) -> list[PlaybackReport]:
    return list(PlaybackReport.objects.filter(playlist_item=item).order_by("received_at"))


def soon(seconds: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(seconds=seconds)


@pytest.mark.skipif(not shutil.which("ffplay"), reason="ffplay (ffmpeg) is not installed")
def test_agent_plays_the_days_items_through_ffplay_and_reports_them(live_server, station_token, tmp_path, agents):
    station, token = station_token
    first = add_item(station, approved_bulletin(title="Lịch tiêm chủng", seconds=1.5), soon(4))
    second = add_item(station, approved_bulletin(title="Phòng chống bão", seconds=1.0), first.ends_at)
    agent = AgentProcess(tmp_path, live_server.url, token, player="auto", null_audio=True)
    agents.append(agent.start())

    wait_for(lambda: len(reports_for(first)) == 1 and len(reports_for(second)) == 1, 45, "two reports", agent)

    for item in (first, second):
        (report,) = reports_for(item)
        assert report.status == "played", agent.log_text()
        late = (report.started_at - item.starts_at).total_seconds()
        assert -0.5 <= late <= 5, f"started {late:.2f} s from its time"
        assert report.ended_at - report.started_at >= dt.timedelta(seconds=item.duration_ms / 1000 - 0.3)
    assert reports_for(second)[0].started_at >= reports_for(first)[0].ended_at
    assert agent.stop() == 0
    assert "Đã dừng" in agent.log_text()


def test_kill_9_mid_play_then_restart_reports_the_play_once_as_interrupted(
        live_server, station_token, tmp_path, agents):
    station, token = station_token
    long_one = add_item(station, approved_bulletin(title="Thông báo dài", seconds=20), soon(2))
    later = add_item(station, approved_bulletin(title="Tin sau", seconds=1.0), soon(7))
    agent = AgentProcess(tmp_path, live_server.url, token)
    agents.append(agent.start())
    wait_for(lambda: agent.player_pid(), 30, "the play to start", agent)
    player = agent.player_pid()

    agent.stop(signal.SIGKILL)
    os.killpg(os.getpgid(player), 0)  # the orphaned player still sounds
    restarted = AgentProcess(tmp_path, live_server.url, token)
    agents.append(restarted.start())

    wait_for(lambda: reports_for(long_one) and reports_for(later), 45, "both reports", restarted)
    (report,) = reports_for(long_one)
    assert report.status == "interrupted"
    assert report.error
    assert reports_for(later)[0].status == "played"
    with pytest.raises(ProcessLookupError):  # the restart stopped the leftover player, not played over it
        os.killpg(player, 0)
    assert restarted.stop() == 0
    assert PlaybackReport.objects.filter(station=station).count() == 2


def process_state(pid: int) -> str:
    """The state letter of /proc/<pid>/stat ("Z" once it has exited and waits for its parent to reap it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def test_kill_9_after_the_player_finished_but_before_the_agent_saw_it_reports_the_play_played_once(
        live_server, station_token, tmp_path, agents):
    station, token = station_token
    item = add_item(station, approved_bulletin(title="Thông báo", seconds=3.0), soon(2))
    agent = AgentProcess(tmp_path, live_server.url, token)
    agents.append(agent.start())
    wait_for(lambda: agent.player_pid(), 30, "the play to start", agent)
    player = agent.player_pid()

    # Frozen, the agent cannot notice the end; the player goes on and finishes its file meanwhile.
    agent.process.send_signal(signal.SIGSTOP)
    assert process_state(player) not in ("", "Z"), "the play ended before the agent was frozen"
    wait_for(lambda: process_state(player) == "Z", 30, "the player to finish", agent)
    finished_by = timezone.now()
    agent.stop(signal.SIGKILL)  # a power cut before the end was recorded
    restarted = AgentProcess(tmp_path, live_server.url, token)
    agents.append(restarted.start())

    wait_for(lambda: reports_for(item), 30, "the report", restarted)
    assert restarted.stop() == 0
    (report,) = reports_for(item)
    assert report.status == "played", (report.status, report.error, restarted.log_text())
    assert report.ended_at <= finished_by  # when the player ended, not when the agent came back
    assert report.ended_at - report.started_at >= dt.timedelta(seconds=2.7)
    assert PlaybackReport.objects.filter(station=station).count() == 1


def queued_reports(agent: AgentProcess) -> int:
    path = agent.data_dir / "agent.sqlite3"
    if not path.exists():
        return 0
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
        return db.execute("SELECT COUNT(*) FROM queue").fetchone()[0]


def test_a_play_made_offline_and_queued_survives_kill_9_and_is_sent_once(live_server, station_token, tmp_path, agents):
    station, token = station_token
    item = add_item(station, approved_bulletin(title="Thông báo", seconds=1.0), soon(6))
    online = AgentProcess(tmp_path, live_server.url, token)
    agents.append(online.start())
    wait_for(lambda: "Đã tải tệp âm thanh" in online.log_text(), 20, "the audio download", online)
    online.stop(signal.SIGKILL)

    offline = AgentProcess(tmp_path, "http://127.0.0.1:9", token)  # nothing listens there
    agents.append(offline.start())
    wait_for(lambda: queued_reports(offline) == 1, 30, "the play to be queued", offline)
    offline.stop(signal.SIGKILL)
    assert not reports_for(item)

    back = AgentProcess(tmp_path, live_server.url, token)
    agents.append(back.start())
    wait_for(lambda: reports_for(item) and queued_reports(back) == 0, 30, "the queued report", back)
    assert back.stop() == 0
    (report,) = reports_for(item)
    assert report.status == "played"


def test_an_emergency_added_while_an_item_plays_interrupts_it(live_server, station_token, tmp_path, agents):
    station, token = station_token
    scheduled = add_item(station, approved_bulletin(title="Thông báo thường", seconds=30), soon(2))
    agent = AgentProcess(tmp_path, live_server.url, token)
    agents.append(agent.start())
    wait_for(lambda: agent.player_pid(), 30, "the scheduled play to start", agent)

    urgent = add_item(station, approved_bulletin(title="Khẩn cấp: lũ quét", priority="emergency", seconds=1.0),
                      timezone.now(), slot="morning")

    wait_for(lambda: reports_for(scheduled) and reports_for(urgent), 30, "both reports", agent)
    assert reports_for(scheduled)[0].status == "interrupted"
    assert reports_for(urgent)[0].status == "played"
    assert reports_for(urgent)[0].started_at >= reports_for(scheduled)[0].ended_at
    assert agent.stop() == 0


def test_an_unsynchronized_clock_refuses_to_play_reports_skipped_and_heartbeats_the_offset(
        live_server, station_token, tmp_path, agents):
    station, token = station_token
    item = add_item(station, approved_bulletin(title="Thông báo", seconds=1.0), soon(3))
    agent = AgentProcess(tmp_path, live_server.url, token, require_ntp=True,
                         ntp_check=["sh", "-c", "echo NTPSynchronized=no"])
    agents.append(agent.start())

    wait_for(lambda: reports_for(item), 30, "the report", agent)
    (report,) = reports_for(item)
    assert report.status == "skipped"
    assert report.error.startswith("Đồng hồ sai lệch")
    assert agent.player_pid() is None

    def heartbeat_state():
        station.refresh_from_db()
        state = (station.agent_state or {}).get("state") or {}
        return state if state.get("clock_offset_s") is not None and state.get("clock_problem") else None

    state = wait_for(heartbeat_state, 20, "a heartbeat with the offset", agent)
    assert abs(state["clock_offset_s"]) < 5
    assert state["ntp_synchronized"] is False
    assert agent.stop() == 0


def test_a_clock_far_from_the_servers_refuses_to_play(live_server, station_token, tmp_path, agents):
    station, token = station_token
    # The box believes it is 10 minutes later than it is: the item, 8 minutes ahead, looks due.
    item = add_item(station, approved_bulletin(title="Thông báo", seconds=1.0), soon(8 * 60))
    sim_start = (timezone.now() + dt.timedelta(minutes=10)).isoformat()
    agent = AgentProcess(tmp_path, live_server.url, token, clock="simulated", sim_start=sim_start,
                         grace_s=600.0)
    agents.append(agent.start())

    wait_for(lambda: reports_for(item), 30, "the report", agent)
    (report,) = reports_for(item)
    assert report.status == "skipped"
    assert "so với máy chủ" in report.error
    assert agent.player_pid() is None
    assert agent.stop() == 0


def test_sigterm_mid_play_exits_0_reporting_the_play_interrupted(live_server, station_token, tmp_path, agents):
    station, token = station_token
    item = add_item(station, approved_bulletin(title="Thông báo", seconds=30), soon(2))
    agent = AgentProcess(tmp_path, live_server.url, token)
    agents.append(agent.start())
    wait_for(lambda: agent.player_pid(), 30, "the play to start", agent)
    player = agent.player_pid()

    assert agent.stop(signal.SIGTERM) == 0

    (report,) = reports_for(item)  # flushed before exiting
    assert report.status == "interrupted"
    with pytest.raises(ProcessLookupError):
        os.killpg(player, 0)
