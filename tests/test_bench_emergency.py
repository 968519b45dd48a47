"""The emergency benchmark at its smallest: three real station agents (python -m stations.agent) against
gunicorn on a SQLite file and a real Mosquitto, one emergency with push and one by polling only: every
station starts both, nothing is lost, and the table is printed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    not (shutil.which("espeak-ng") and shutil.which("ffprobe")),
    reason="the benchmark renders real audio with espeak-ng and measures it with ffprobe",
)


def _mosquitto() -> bool:
    return bool(shutil.which("mosquitto") or os.access("/usr/sbin/mosquitto", os.X_OK))


def test_tiny_emergency_bench_measures_push_and_polling_in_one_run(tmp_path: Path) -> None:
    pytest.importorskip("gunicorn")
    modes = "push,poll" if _mosquitto() else "poll"
    work = tmp_path / "bench-emergency"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LOA_AGENT_", "DATABASE_URL", "CACHE_URL", "MQTT_"))}
    done = subprocess.run(
        [sys.executable, "scripts/bench_emergency.py", "--sqlite", "--agents", "4", "--offline-pct", "25",
         "--modes", modes, "--poll-s", "4", "--heartbeat-s", "4", "--ramp", "0", "--settle-s", "1",
         "--timeout-s", "40", "--workers", "2", "--work", str(work), "--agent-dir", ""],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=240,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr[-3000:]
    assert "started 3 agents" in out and "1 offline" in out, out
    rows = {m.group(1): m.groups() for m in re.finditer(
        r"^  (push|poll) +(\d+) +[\d.]+ +\S+ +(\S+) +(\S+) +(\S+) +(\S+) +(\d+)(?: +\S+){5} "
        r"+(\d+)/(\d+) +(\d+)$", out, re.M)}  # … not started, CPU: broker, server, db, agents, machine …
    assert set(rows) == set(modes.split(",")), out
    for mode, (_, online, p50, _p90, _p99, full, not_started, published, deliveries, lost) in rows.items():
        assert online == "3" and not_started == "0" and lost == "0", out
        assert deliveries == "4", out  # the offline station's delivery is made (and rung) too
        assert float(p50) <= float(full) <= 40, out
        if mode == "push":
            assert published == "4", out
        else:
            assert published == "0", out
