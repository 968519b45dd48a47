"""The agent's clocks and the rule that refuses to play by a clock known to be wrong."""

from __future__ import annotations

import datetime as dt
import sys
import time

from stations.agent.clock import SimulatedClock, SystemClock, clock_offset, clock_problem, ntp_synchronized

UTC = dt.UTC


def test_the_system_clock_is_aware_utc():
    now = SystemClock().now()
    assert now.tzinfo is not None and now.utcoffset() == dt.timedelta(0)


def test_a_simulated_clock_starts_at_its_start_and_runs_at_its_speed():
    start = dt.datetime(2026, 12, 1, 5, 59, 50, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    clock = SimulatedClock(start, speed=20)
    first = clock.now()
    assert dt.timedelta(0) <= first - start < dt.timedelta(seconds=2)
    real = time.monotonic()
    clock.sleep(2.0)  # two simulated seconds: a tenth of a real one
    assert time.monotonic() - real < 1.0
    assert clock.now() - first >= dt.timedelta(seconds=2)


def command(output: str, code: int = 0) -> list[str]:
    return [sys.executable, "-c", f"import sys; print({output!r}); sys.exit({code})"]


def test_ntp_state_is_read_from_timedatectl_style_output():
    assert ntp_synchronized(command("NTPSynchronized=yes")) is True
    assert ntp_synchronized(command("NTPSynchronized=no")) is False


def test_ntp_state_is_unknown_without_the_command_or_with_an_odd_answer():
    assert ntp_synchronized(["/nonexistent/timedatectl"]) is None
    assert ntp_synchronized(command("NTPSynchronized=yes", code=1)) is None
    assert ntp_synchronized(command("whatever")) is None


def test_the_offset_takes_the_servers_stamp_as_made_half_way_through_the_request():
    sent = dt.datetime(2026, 12, 1, 0, 0, 0, tzinfo=UTC)
    received = sent + dt.timedelta(seconds=2)
    assert clock_offset(sent + dt.timedelta(seconds=41), sent, received) == 40.0


def test_a_clock_is_wrong_when_ntp_is_required_and_not_synchronized():
    problem = clock_problem(require_ntp=True, ntp=False, offset_s=1.5, max_offset_s=30)
    assert problem.startswith("Đồng hồ sai lệch") and "+1.5 s" in problem
    assert clock_problem(require_ntp=False, ntp=False, offset_s=1.5, max_offset_s=30) is None
    assert clock_problem(require_ntp=True, ntp=None, offset_s=None, max_offset_s=30) is None


def test_a_clock_is_wrong_when_far_from_the_servers_time_unless_the_check_is_off():
    problem = clock_problem(require_ntp=False, ntp=None, offset_s=-45.0, max_offset_s=30)
    assert problem == "Đồng hồ sai lệch -45.0 s so với máy chủ (cho phép 30 s)"
    assert clock_problem(require_ntp=False, ntp=None, offset_s=29.0, max_offset_s=30) is None
    assert clock_problem(require_ntp=False, ntp=None, offset_s=-45.0, max_offset_s=0) is None
