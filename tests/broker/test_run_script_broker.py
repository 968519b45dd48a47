"""scripts/run starts Loa's own mosquitto with the generated config, keeps it up, and stops it."""

from __future__ import annotations

import contextlib
import os
import re
import signal
from pathlib import Path

import pytest

from tests.broker.conftest import Session
from tests.broker_fixtures import mosquitto_binary
from tests.test_scripts import (
    _alive,
    _descendants,
    _free_port,
    _kill_leftovers,
    _serving,
    _start_run,
    _wait_for,
)


def _broker_pids(pid: int, var: Path) -> set[int]:
    return {p for p, cmd in _descendants(pid).items()
            if "mosquitto" in cmd and str(var / "mosquitto" / "mosquitto.conf") in cmd}


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to follow the child processes")
@pytest.mark.skipif(mosquitto_binary() is None, reason="mosquitto chưa được cài")
def test_scripts_run_starts_restarts_and_stops_its_own_broker(tmp_path: Path) -> None:
    port = _free_port()
    proc = _start_run(tmp_path, port)
    var = tmp_path / "var"
    seen: dict[int, str] = {}
    try:
        _wait_for(lambda: _serving(port) or proc.poll() is not None, 240, "scripts/run to serve")
        assert proc.poll() is None, (tmp_path / "run.log").read_text()
        children = _descendants(proc.pid)
        seen.update(children)
        (broker,) = _broker_pids(proc.pid, var)
        assert any("push_listen" in cmd for cmd in children.values())

        # Loa's processes log in on the internal listener with the password kept in the var dir.
        conf = (var / "mosquitto" / "mosquitto.conf").read_text()
        internal_port = int(re.findall(r"^listener (\d+) 127\.0\.0\.1$", conf, re.M)[-1])  # the last one
        password = (var / "mqtt_password").read_text().strip()
        session = Session("127.0.0.1", internal_port, username="loa", password=password)
        assert session.accepted
        session.close()

        os.kill(broker, signal.SIGKILL)
        _wait_for(lambda: _broker_pids(proc.pid, var) - {broker}, 30, "a new broker")
        assert "Broker MQTT (mosquitto) đã dừng bất ngờ" in (tmp_path / "run.log").read_text()

        children = _descendants(proc.pid)
        seen.update(children)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        _wait_for(lambda: not [p for p in children if _alive(p)], 10, "every child of scripts/run to be gone")
        log = (tmp_path / "run.log").read_text()
        assert "Đã dừng." in log
        # Only the broker and the listener are this test's business (a Celery worker still starting may
        # need the KILL after LOA_STOP_TIMEOUT): both stop on TERM.
        forced = [seen.get(int(p), "") for p in re.findall(r"Tiến trình (\d+) chưa dừng", log)]
        assert not [cmd for cmd in forced if "mosquitto" in cmd or "push_listen" in cmd], forced
    finally:
        _kill_leftovers(proc, seen)
        for pid, cmd in seen.items():
            if _alive(pid) and "mosquitto" in cmd and str(var) in cmd:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
