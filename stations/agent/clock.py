"""Time for the agent: the system's, or a simulated one (a day started at a chosen moment, maybe faster).

Everything is an aware datetime in UTC inside; comparisons are between aware datetimes only.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import time
from collections.abc import Sequence

UTC = dt.UTC


class Clock:
    """now() -> aware UTC datetime; monotonic() -> seconds that never go back; sleep(seconds of this clock)."""

    simulated = False

    def now(self) -> dt.datetime:
        raise NotImplementedError

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class SystemClock(Clock):
    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC)


class SimulatedClock(Clock):
    """sim time = start + (monotonic - t0) * speed; sleep(s) sleeps s / speed real seconds."""

    simulated = True

    def __init__(self, start: dt.datetime, speed: float = 1.0) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be an aware datetime")
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.start = start.astimezone(UTC)
        self.speed = float(speed)
        self._t0 = time.monotonic()

    def now(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=(time.monotonic() - self._t0) * self.speed)

    def monotonic(self) -> float:
        return self._t0 + (time.monotonic() - self._t0) * self.speed

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.speed)


def clock_from(config) -> Clock:  # noqa: ANN001 - an AgentConfig (kept import-free for the tests)
    if config.clock == "simulated":
        return SimulatedClock(config.sim_start, config.sim_speed)
    return SystemClock()


def ntp_synchronized(command: Sequence[str] | None = None, timeout: float = 5.0) -> bool | None:
    """Whether the system clock is NTP-synchronized (`timedatectl show -p NTPSynchronized`), None when it
    cannot be told (no timedatectl, no systemd, an answer it does not understand)."""
    command = list(command) if command else ["timedatectl", "show", "-p", "NTPSynchronized"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    answer = done.stdout.strip().rpartition("=")[2].strip().lower()
    if answer in ("yes", "true", "1"):
        return True
    if answer in ("no", "false", "0"):
        return False
    return None


def clock_offset(server_time: dt.datetime, sent_at: dt.datetime, received_at: dt.datetime) -> float:
    """Seconds the server's clock is ahead of ours (negative: ours is ahead), taking the server's stamp
    as made half-way through the request."""
    midpoint = sent_at + (received_at - sent_at) / 2
    return (server_time - midpoint).total_seconds()


def clock_problem(*, require_ntp: bool, ntp: bool | None, offset_s: float | None,
                  max_offset_s: float) -> str | None:
    """Why the clock must not be trusted for playing by time (Vietnamese, goes into reports), or None.

    An unknown NTP state is not a reason on its own (a box without systemd may still keep good time: the
    server's time then decides); a known unsynchronized clock is, when NTP is required."""
    if require_ntp and ntp is False:
        where = f" (lệch {offset_s:+.1f} s so với máy chủ)" if offset_s is not None else ""
        return f"Đồng hồ sai lệch: chưa đồng bộ NTP{where}"
    if max_offset_s > 0 and offset_s is not None and abs(offset_s) > max_offset_s:
        return f"Đồng hồ sai lệch {offset_s:+.1f} s so với máy chủ (cho phép {max_offset_s:g} s)"
    return None
