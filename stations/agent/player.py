"""The player and amplifier commands.

Each play is one subprocess in its own process group (so stopping it stops whatever it spawned); its pid
is written to a small file so that, after the agent itself was killed, the next start stops a player
still sounding instead of playing over it. The amplifier is switched on (then lead_in_s) before the first
play and off lead_out_s after the last one, not between back-to-back items.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import shutil
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

from .clock import Clock, SystemClock

log = logging.getLogger("loa.agent.player")

PLAYED, FAILED, INTERRUPTED = "played", "failed", "interrupted"
STDERR_TAIL = 400


def choose_player(null_audio: bool = False, which=shutil.which) -> list[str]:
    """The command for the first installed of mpv, ffplay, aplay (with {path}); `null_audio` sends the
    sound nowhere (a machine without a sound card). aplay plays WAV only, never the server's MP3."""
    if which("mpv"):
        return ["mpv", "--no-video", "--really-quiet", "--no-terminal"] + (["--ao=null"] if null_audio else []) + [
            "{path}"]
    if which("ffplay"):
        prefix = ["env", "SDL_AUDIODRIVER=dummy"] if null_audio else []
        return prefix + ["ffplay", "-nodisp", "-autoexit", "-loglevel", "error", "{path}"]
    if which("aplay"):
        log.warning("Chỉ có aplay: aplay không phát được MP3 (chỉ WAV); hãy cài mpv hoặc ffmpeg (ffplay).")
        return ["aplay", "-q"] + (["-D", "null"] if null_audio else []) + ["{path}"]
    raise RuntimeError("Không tìm thấy trình phát: cài mpv hoặc ffmpeg (ffplay).")


def expand(template: Sequence[str], path: str | os.PathLike[str], duration_s: float | None) -> list[str]:
    values = {"path": str(path), "duration_s": f"{(duration_s or 0):.3f}"}
    return [part.format(**values) for part in template]


def _run_switch(command: Sequence[str] | None, what: str) -> str | None:
    if not command:
        return None
    try:
        done = subprocess.run(list(command), capture_output=True, text=True, timeout=15, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"Lệnh {what} lỗi: {exc}"
    if done.returncode != 0:
        return f"Lệnh {what} thoát với mã {done.returncode}: {done.stderr.strip()[-200:]}"
    return None


@dataclasses.dataclass
class Outcome:
    status: str  # played | failed | interrupted
    ended_at: dt.datetime
    error: str | None = None


class Playing:
    """A running play: poll() -> Outcome once it has ended (None while it plays)."""

    def __init__(self, process: subprocess.Popen, started_at: dt.datetime, stderr_path: Path, clock: Clock,
                 pid_file: Path | None, duration_s: float | None = None) -> None:
        self.process = process
        self.duration_s = duration_s
        self.started_at = started_at
        self._stderr_path = stderr_path
        self._clock = clock
        self._pid_file = pid_file
        self.outcome: Outcome | None = None

    def poll(self) -> Outcome | None:
        if self.outcome is None and self.process.poll() is not None:
            code = self.process.returncode
            tail = _tail(self._stderr_path)
            if code != 0:
                self._finish(FAILED, f"Trình phát thoát với mã {code}" + (f": {tail}" if tail else ""))
            elif self._ended_early() and tail:
                # ffplay exits 0 on a file it cannot decode; an error message and a play far shorter
                # than the audio tell it apart from a play that went through.
                self._finish(FAILED, f"Trình phát dừng sớm: {tail}")
            else:
                self._finish(PLAYED)
        return self.outcome

    def _ended_early(self) -> bool:
        if not self.duration_s:
            return True
        played = (self._clock.now() - self.started_at).total_seconds()
        return played < self.duration_s / 2

    def stop(self, timeout: float = 3.0) -> Outcome:
        """Stops the play (the whole process group); the outcome is interrupted unless it had ended."""
        if self.poll() is not None:
            return self.outcome
        _kill_group(self.process.pid, timeout, self.process)
        self._finish(INTERRUPTED)
        return self.outcome

    def _finish(self, status: str, error: str | None = None) -> None:
        self.outcome = Outcome(status, self._clock.now(), error)
        if self._pid_file is not None:
            self._pid_file.unlink(missing_ok=True)


def _tail(path: Path) -> str:
    try:
        text = path.read_bytes()[-STDERR_TAIL:].decode("utf-8", "replace")
    except OSError:
        return ""
    return " ".join(text.split())


def _kill_group(pid: int, timeout: float, process: subprocess.Popen | None = None) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        if process is not None:
            try:
                process.wait(timeout=timeout)
                return
            except subprocess.TimeoutExpired:
                continue


class Player:
    def __init__(self, command: Sequence[str], amp_on: Sequence[str] | None = None,
                 amp_off: Sequence[str] | None = None, lead_in_s: float = 0.0, lead_out_s: float = 0.0,
                 clock: Clock | None = None, state_dir: str | os.PathLike[str] | None = None) -> None:
        self.command = list(command)
        self.amp_on, self.amp_off = amp_on, amp_off
        self.lead_in_s, self.lead_out_s = lead_in_s, lead_out_s
        self.clock = clock or SystemClock()
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self.amp_is_on = False
        self._idle_since: float | None = None
        self.current: Playing | None = None

    @property
    def _pid_file(self) -> Path | None:
        return self.state_dir / "player.pid" if self.state_dir is not None else None

    def stop_leftover(self) -> bool:
        """Stops a player left sounding by a previous run of the agent (killed before it could); True if
        there was one."""
        pid_file = self._pid_file
        if pid_file is None or not pid_file.exists():
            return False
        try:
            pid = int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pid_file.unlink(missing_ok=True)
            return False
        found = False
        try:
            os.killpg(pid, 0)
            found = True
        except (ProcessLookupError, PermissionError):
            pass
        if found:
            log.warning("Dừng trình phát còn chạy từ lần trước (pid %s).", pid)
            _kill_group(pid, 0)
        pid_file.unlink(missing_ok=True)
        return found

    def switch_amp_on(self) -> str | None:
        """Turns the amplifier on (then waits lead_in_s) unless it is on; the error, if the command failed."""
        self._idle_since = None
        if self.amp_is_on:
            return None
        error = _run_switch(self.amp_on, "bật loa")
        self.amp_is_on = True
        if self.amp_on:
            log.info("Bật loa%s.", f" (lỗi: {error})" if error else "")
        self.clock.sleep(self.lead_in_s)
        return error

    def idle(self) -> None:
        """Called on each tick while nothing plays: the amplifier goes off lead_out_s after the last play."""
        if not self.amp_is_on:
            return
        now = self.clock.monotonic()
        if self._idle_since is None:
            self._idle_since = now
        if now - self._idle_since >= self.lead_out_s:
            self.switch_amp_off()

    def switch_amp_off(self) -> None:
        if not self.amp_is_on:
            return
        error = _run_switch(self.amp_off, "tắt loa")
        self.amp_is_on = False
        self._idle_since = None
        if self.amp_off:
            log.info("Tắt loa%s.", f" (lỗi: {error})" if error else "")

    def start(self, path: str | os.PathLike[str], duration_s: float | None = None) -> Playing:
        """Starts playing `path` now (after the amplifier's lead-in if it was off); raises OSError when the
        player cannot be started."""
        self.switch_amp_on()
        stderr_dir = self.state_dir or Path(os.environ.get("TMPDIR", "/tmp"))
        stderr_path = stderr_dir / "player.stderr"
        with open(stderr_path, "wb") as stderr:
            process = subprocess.Popen(expand(self.command, path, duration_s), stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
        started_at = self.clock.now()
        if self._pid_file is not None:
            self._pid_file.write_text(f"{process.pid}\n")
        self.current = Playing(process, started_at, stderr_path, self.clock, self._pid_file, duration_s)
        return self.current
