"""The player and amplifier commands: outcomes, interrupting a play, the amplifier's lead-in/out."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stations.agent.player import FAILED, INTERRUPTED, PLAYED, Player, choose_player, expand

SLEEPER = [sys.executable, "-c", "import sys, time; time.sleep(float(sys.argv[1]))", "{duration_s}"]


def wait(playing, timeout: float = 15.0):  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        outcome = playing.poll()
        if outcome is not None:
            return outcome
        time.sleep(0.05)
    raise AssertionError("the play did not end")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie counts as gone.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


def group_alive(pgid: int) -> bool:
    """Whether a process of the group still runs (zombies, which this container's init may never reap, do not)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _ppid, pgrp = stat.read_text().rsplit(") ", 1)[1].split()[:3]
        except (OSError, IndexError):
            continue
        if int(pgrp) == pgid and state != "Z":
            return True
    return False


def test_templates_are_filled_with_the_path_and_duration():
    assert expand(["p", "{path}", "--len={duration_s}"], "/a b.mp3", 1.5) == ["p", "/a b.mp3", "--len=1.500"]


def test_a_player_exiting_0_has_played(tmp_path):
    playing = Player(SLEEPER, state_dir=tmp_path).start(tmp_path / "x.mp3", 0.3)
    outcome = wait(playing)
    assert outcome.status == PLAYED and outcome.error is None
    assert outcome.ended_at >= playing.started_at
    assert not (tmp_path / "player.pid").exists()


def test_a_player_exiting_non_zero_failed_with_the_tail_of_its_stderr(tmp_path):
    command = [sys.executable, "-c", "import sys; sys.stderr.write('x' * 5000 + ' Không mở được tệp'); sys.exit(3)"]
    outcome = wait(Player(command, state_dir=tmp_path).start(tmp_path / "x.mp3"))
    assert outcome.status == FAILED
    assert outcome.error.startswith("Trình phát thoát với mã 3") and outcome.error.endswith("Không mở được tệp")
    assert len(outcome.error) < 500


def test_a_missing_player_raises_oserror(tmp_path):
    with pytest.raises(OSError):
        Player(["/nonexistent/player", "{path}"], state_dir=tmp_path).start(tmp_path / "x.mp3")


def test_stopping_interrupts_the_play_and_its_whole_process_group(tmp_path):
    # The player spawns a child of its own (as a shell wrapper would); both must stop.
    script = "import subprocess, sys, time; p = subprocess.Popen(['sleep', '60']); print(p.pid, flush=True); time.sleep(60)"
    pid_file = tmp_path / "child"
    command = ["sh", "-c", f"{sys.executable} -c \"{script}\" > {pid_file}"]
    playing = Player(command, state_dir=tmp_path).start(tmp_path / "x.mp3")
    deadline = time.monotonic() + 10
    while not (pid_file.exists() and pid_file.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    child = int(pid_file.read_text())

    outcome = playing.stop()

    assert outcome.status == INTERRUPTED
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)


def test_a_player_left_by_a_killed_agent_is_stopped_at_the_next_start(tmp_path):
    first = Player(["sleep", "60"], state_dir=tmp_path).start(tmp_path / "x.mp3")
    pid = first.process.pid

    assert Player(SLEEPER, state_dir=tmp_path).stop_leftover() is True

    first.process.wait(timeout=5)
    assert not (tmp_path / "player.pid").exists()
    assert Player(SLEEPER, state_dir=tmp_path).stop_leftover() is False
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)


def test_with_a_report_id_the_player_runs_under_a_wrapper_that_records_its_exit_code_and_end(tmp_path):
    command = [sys.executable, "-c", "import sys, time; time.sleep(0.3); sys.stderr.write('Không mở được tệp'); "
               "sys.exit(3)"]
    player = Player(command, state_dir=tmp_path)
    playing = player.start(tmp_path / "x.mp3", report_id="r1")
    assert os.getpgid(playing.process.pid) == playing.process.pid  # its own group, as the player's was
    playing.process.wait(timeout=10)
    ended_by = time.time()

    (end,) = player.ends().values()
    assert end.code == 3 and ended_by - 1 <= end.at <= ended_by and not end.stopped
    outcome = wait(playing)
    assert playing.process.returncode == 3  # passed through
    assert outcome.status == FAILED and outcome.error == "Trình phát thoát với mã 3: Không mở được tệp"
    playing.forget_end()
    assert player.ends() == {}


def test_a_wrapped_play_stopped_by_the_agent_is_interrupted_and_its_player_gone_even_if_it_ignores_sigterm(
        tmp_path):
    deaf = [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('ready', flush=True); time.sleep(60)"]
    player = Player(deaf, state_dir=tmp_path)
    playing = player.start(tmp_path / "x.mp3", report_id="r2")
    time.sleep(0.5)

    outcome = playing.stop(timeout=0.5)

    assert outcome.status == INTERRUPTED
    assert not group_alive(playing.process.pid)
    assert player.ends()["r2"].stopped  # said before the signal, for a start after a kill


def test_a_missing_player_under_the_wrapper_still_raises_oserror(tmp_path):
    with pytest.raises(OSError):
        Player(["/nonexistent/player", "{path}"], state_dir=tmp_path).start(tmp_path / "x.mp3", report_id="r3")


def test_without_nanoseconds_from_date_the_record_keeps_whole_seconds(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "date").write_text('#!/bin/sh\n[ "$1" = "+%s.%N" ] && echo 1796000000.N || echo 1796000000\n')
    (bin_dir / "date").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    player = Player(["true"], state_dir=tmp_path)

    player.start(tmp_path / "x.mp3", report_id="r4").process.wait(timeout=10)

    assert player.ends()["r4"].code == 0 and player.ends()["r4"].at == 1796000000.0


def test_the_amplifier_goes_on_before_the_audio_and_off_lead_out_after_the_last_play(tmp_path):
    log = tmp_path / "amp.log"
    amp = [sys.executable, "-c", f"import sys, time; open({str(log)!r}, 'a').write(sys.argv[1] + ' %.3f\\n' % time.time())"]
    mark = [sys.executable, "-c", f"import time; open({str(log)!r}, 'a').write('play %.3f\\n' % time.time())"]
    player = Player(mark, amp_on=amp + ["on"], amp_off=amp + ["off"], lead_in_s=0.5, lead_out_s=0.4,
                    state_dir=tmp_path)

    wait(player.start(tmp_path / "x.mp3"))
    wait(player.start(tmp_path / "y.mp3"))  # back to back: the amplifier stays on
    player.idle()
    assert player.amp_is_on  # not yet: lead_out_s has not passed
    time.sleep(0.5)
    player.idle()

    events = [line.split() for line in log.read_text().splitlines()]
    assert [name for name, _ in events] == ["on", "play", "play", "off"]
    assert float(events[1][1]) - float(events[0][1]) >= 0.45
    assert float(events[3][1]) - float(events[2][1]) >= 0.35


def test_choose_player_prefers_mpv_then_ffplay_then_aplay():
    def only(*names):  # noqa: ANN002, ANN202
        return lambda name: f"/usr/bin/{name}" if name in names else None

    assert choose_player(which=only("mpv", "ffplay"))[0] == "mpv"
    assert "--ao=null" in choose_player(True, which=only("mpv"))
    assert choose_player(which=only("ffplay", "aplay"))[0] == "ffplay"
    assert choose_player(True, which=only("ffplay"))[:2] == ["env", "SDL_AUDIODRIVER=dummy"]
    assert choose_player(which=only("aplay"))[0] == "aplay"
    with pytest.raises(RuntimeError, match="Không tìm thấy trình phát"):
        choose_player(which=only())


@pytest.mark.skipif(not (shutil.which("ffplay") and shutil.which("ffmpeg")), reason="needs ffmpeg's ffplay")
def test_ffplay_to_a_null_sink_plays_a_real_mp3_for_its_length(tmp_path):
    mp3 = tmp_path / "tone.mp3"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "sine=frequency=440:duration=1", "-ac", "1", "-b:a", "64k", str(mp3)], check=True)
    playing = Player(choose_player(True, which=lambda n: shutil.which(n) if n == "ffplay" else None),
                     state_dir=tmp_path).start(mp3)
    outcome = wait(playing)
    assert outcome.status == PLAYED
    assert (outcome.ended_at - playing.started_at).total_seconds() >= 0.8


def test_ffplay_on_a_broken_file_fails_with_its_message(tmp_path):
    if not shutil.which("ffplay"):
        pytest.skip("needs ffmpeg's ffplay")
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"not audio at all")
    outcome = wait(Player(["env", "SDL_AUDIODRIVER=dummy", "ffplay", "-nodisp", "-autoexit", "-loglevel", "error",
                           "{path}"], state_dir=tmp_path).start(bad))
    assert outcome.status == FAILED and "bad.mp3" in outcome.error
