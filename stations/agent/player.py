"""The player and amplifier commands.

Each play is one subprocess in its own process group (so stopping it stops whatever it spawned); its pid
is written to a small file so that, after the agent itself was killed, the next start stops a player
still sounding instead of playing over it. The amplifier is switched on (then lead_in_s) before the first
play and off lead_out_s after the last one, not between back-to-back items.

A play with a report id runs its player under a tiny /bin/sh wrapper (WRAPPER, no extra Python process)
that, the moment the player exits, writes ended/<report id> = "<exit code> <epoch seconds>" atomically:
the agent sees the end only on its next tick, and a kill in between must not turn a play heard whole
into an interrupted one. The agent writes ended/<report id>.stopped before it stops a play itself, since
a player may exit 0 on SIGTERM.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from .clock import Clock, SystemClock

log = logging.getLogger("loa.agent.player")

PLAYED, FAILED, INTERRUPTED = "played", "failed", "interrupted"
STDERR_TAIL = 400
ENDED_DIR = "ended"
# $1 is the end record, the rest the player's command. The TERM trap keeps the wrapper (in the player's
# group, so it gets the agent's SIGTERM too) alive until the player has exited, so that the agent's wait
# still waits for the player; a trap, unlike an ignored signal, is not inherited by the player. The
# wrapper's own errors go to /dev/null: the player's stderr is the one whose tail explains a failure.
WRAPPER = """trap : TERM
m=$1; shift
"$@"
c=$?
t=$(date +%s.%N 2>/dev/null)
case $t in ''|*[!0-9.]*|*.) t=$(date +%s 2>/dev/null);; esac
printf '%s %s\\n' "$c" "$t" 2>/dev/null >"$m.tmp" && mv -f "$m.tmp" "$m" 2>/dev/null
exit $c"""
# A player killed by one of these was stopped (by the agent, systemd stopping the service, a shutdown),
# not broken: the audio was cut, it did not fail.
STOP_SIGNALS = frozenset({signal.SIGHUP, signal.SIGINT, signal.SIGTERM, signal.SIGKILL})


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


@dataclasses.dataclass(frozen=True)
class End:
    """What the wrapper recorded for one report id: the exit code and end time (None without a record),
    and whether the agent was stopping the play."""
    code: int | None = None
    at: float | None = None  # UTC epoch seconds
    stopped: bool = False

    def ended_at(self, clock: Clock) -> dt.datetime | None:
        """The end on the agent's clock (which may be simulated): that many seconds before its now."""
        if self.at is None:
            return None
        ago = max(0.0, time.time() - self.at) * getattr(clock, "speed", 1.0)
        return clock.now() - dt.timedelta(seconds=ago)


def classify(code: int, played_s: float, duration_s: float | None, tail: str) -> tuple[str, str | None]:
    """(status, error) of a player that exited with `code` after `played_s`: the one rule for a play
    seen ending and for one found ended at start."""
    signum = -code if code < 0 else code - 128 if code > 128 else 0
    if signum in STOP_SIGNALS:
        return INTERRUPTED, f"Trình phát bị dừng (tín hiệu {signum})"
    if code != 0:
        return FAILED, f"Trình phát thoát với mã {code}" + (f": {tail}" if tail else "")
    if (not duration_s or played_s < duration_s / 2) and tail:
        # ffplay exits 0 on a file it cannot decode; an error message and a play far shorter than the
        # audio tell it apart from a play that went through.
        return FAILED, f"Trình phát dừng sớm: {tail}"
    return PLAYED, None


def read_end(path: Path) -> End:
    """The wrapper's record at `path` (an End without code when absent or unreadable: a power cut may
    leave an empty file); the time falls back to the file's own when `date` gave none."""
    try:
        fields = path.read_text().split()
        code = int(fields[0])
    except (OSError, ValueError, IndexError):
        return End()
    try:
        at = float(fields[1])
    except (ValueError, IndexError):
        try:
            at = path.stat().st_mtime
        except OSError:
            at = None
    return End(code, at)


class Playing:
    """A running play: poll() -> Outcome once it has ended (None while it plays)."""

    def __init__(self, process: subprocess.Popen, started_at: dt.datetime, stderr_path: Path, clock: Clock,
                 pid_file: Path | None, duration_s: float | None = None, end_path: Path | None = None) -> None:
        self.process = process
        self.duration_s = duration_s
        self.started_at = started_at
        self._stderr_path = stderr_path
        self._clock = clock
        self._pid_file = pid_file
        self._end_path = end_path
        self.outcome: Outcome | None = None

    def poll(self) -> Outcome | None:
        if self.outcome is None and self.process.poll() is not None:
            # The wrapper's record says when the player really ended, however late this tick is.
            end = read_end(self._end_path) if self._end_path is not None else End()
            code = end.code if end.code is not None else self.process.returncode
            ended_at = end.ended_at(self._clock) or self._clock.now()
            played_s = (ended_at - self.started_at).total_seconds()
            self._finish(*classify(code, played_s, self.duration_s, _tail(self._stderr_path)), ended_at=ended_at)
        return self.outcome

    def stop(self, timeout: float = 3.0) -> Outcome:
        """Stops the play (the whole process group); the outcome is interrupted unless it had ended."""
        if self.poll() is not None:
            return self.outcome
        if self._end_path is not None:
            # Before the signal: if the agent dies before storing this outcome, the next start must not
            # take the player's exit (0 for some players on SIGTERM) for a play that went through.
            try:
                _stopped_path(self._end_path).touch()
            except OSError as exc:
                log.warning("Không ghi được dấu dừng lượt phát: %s", exc)
        _kill_group(self.process.pid, timeout, self.process)
        self._finish(INTERRUPTED)
        return self.outcome

    def forget_end(self) -> None:
        """Removes the wrapper's record, once the outcome is stored."""
        if self._end_path is not None:
            forget_end(self._end_path)

    def _finish(self, status: str, error: str | None = None, ended_at: dt.datetime | None = None) -> None:
        self.outcome = Outcome(status, ended_at or self._clock.now(), error)
        if self._pid_file is not None:
            self._pid_file.unlink(missing_ok=True)


def _stopped_path(end_path: Path) -> Path:
    return end_path.with_name(end_path.name + ".stopped")


def forget_end(end_path: Path) -> None:
    for path in (end_path, _stopped_path(end_path), end_path.with_name(end_path.name + ".tmp")):
        path.unlink(missing_ok=True)


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

    @property
    def _ended_dir(self) -> Path | None:
        return self.state_dir / ENDED_DIR if self.state_dir is not None else None

    @property
    def _stderr_path(self) -> Path:
        return (self.state_dir or Path(os.environ.get("TMPDIR", "/tmp"))) / "player.stderr"

    def stderr_tail(self) -> str:
        """The end of the last play's stderr (what explains its failure)."""
        return _tail(self._stderr_path)

    def ends(self) -> dict[str, End]:
        """{report id: End} of every record the wrappers (and stops) left: read at start before a
        leftover player is stopped, so that only ends the players reached by themselves count."""
        found: dict[str, End] = {}
        directory = self._ended_dir
        if directory is None or not directory.is_dir():
            return found
        for path in directory.iterdir():
            report_id, _, suffix = path.name.partition(".")
            if suffix == "stopped":
                found[report_id] = dataclasses.replace(found.get(report_id, End()), stopped=True)
            elif not suffix:
                end = read_end(path)
                found[report_id] = dataclasses.replace(end, stopped=found.get(report_id, End()).stopped)
            else:
                found.setdefault(report_id, End())
        return found

    def forget_end(self, report_id: str) -> None:
        if self._ended_dir is not None:
            forget_end(self._ended_dir / report_id)

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

    def start(self, path: str | os.PathLike[str], duration_s: float | None = None,
              report_id: str | None = None) -> Playing:
        """Starts playing `path` now (after the amplifier's lead-in if it was off), under the wrapper that
        records its end when there is a report id (and a state directory); raises OSError when the player
        cannot be started."""
        self.switch_amp_on()
        command = expand(self.command, path, duration_s)
        end_path = None
        if report_id is not None and self._ended_dir is not None:
            # The wrapper would only say "not found" on stderr: a missing player stays an OSError.
            if not shutil.which(command[0]):
                raise FileNotFoundError(f"Không tìm thấy trình phát: {command[0]}")
            self._ended_dir.mkdir(parents=True, exist_ok=True)
            end_path = self._ended_dir / report_id
            forget_end(end_path)
            command = ["/bin/sh", "-c", WRAPPER, "loa-player", str(end_path), *command]
        with open(self._stderr_path, "wb") as stderr:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
                                       start_new_session=True)
        started_at = self.clock.now()
        if self._pid_file is not None:
            self._pid_file.write_text(f"{process.pid}\n")
        self.current = Playing(process, started_at, self._stderr_path, self.clock, self._pid_file, duration_s,
                               end_path)
        return self.current
