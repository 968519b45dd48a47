"""The fleet benchmark at its smallest: three real station agents (python -m stations.agent) against
gunicorn on a SQLite file, an emergency sent to all of them, through a bad link (proxy) for two: every
play reported once, none lost, the coverage API equal to the players' logs."""

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
    reason="the fleet renders real audio with espeak-ng and measures it with ffprobe",
)


def test_tiny_fleet_reports_every_play_once_and_coverage_equals_what_was_played(tmp_path: Path) -> None:
    pytest.importorskip("gunicorn")
    work = tmp_path / "bench-fleet"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOA_AGENT_", "DATABASE_URL", "CACHE_URL"))}
    done = subprocess.run(
        [sys.executable, "scripts/bench_fleet.py", "--sqlite", "--agents", "3", "--slots", "0",
         "--emergency-at", "0", "--poll-s", "4", "--heartbeat-s", "10", "--ramp", "0", "--drain-s", "40",
         "--compare-requests", "0", "--workers", "2", "--work", str(work), "--strict"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=180,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr[-3000:]
    counts = re.search(r"reports: expected (\d+), received (\d+) \((\d+) items\), duplicated rows (\d+), lost (\d+)", out)
    assert counts, out
    expected, received, items, duplicated, lost = map(int, counts.groups())
    assert (expected, received, items, duplicated, lost) == (3, 3, 3, 0, 0), out
    coverage = re.search(r"coverage: played by API (\d+), complete plays in players' logs (\d+); stations differing (\d+)", out)
    assert coverage and coverage.group(1) == coverage.group(2) == "3" and coverage.group(3) == "0", out
    assert re.search(r"agent peak memory \(VmHWM\): median [\d.]+ MB, max [\d.]+ MB", out), out
    assert re.search(r"upload \(reports\)\s+\d+", out), out
