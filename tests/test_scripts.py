"""The scripts a user runs: the station simulator, scripts/run (start, supervise, stop), the set-up."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from stations.models import StationCredential
from tests.factories import StationFactory, UserFactory

REPO = Path(__file__).resolve().parents[1]


def _simulator():
    spec = importlib.util.spec_from_file_location("simulate_stations", REPO / "scripts" / "simulate_stations.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _live_tokens() -> dict[str, int]:
    return dict(StationCredential.objects.filter(revoked_at__isnull=True).values_list("station__code", "pk"))


# --- the simulator keeps its station tokens -------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_simulator_reuses_its_station_tokens_on_a_second_run(live_server, tmp_path: Path) -> None:
    UserFactory(username="giamsat", roles=["supervisor"])
    codes = sorted(s.code for s in StationFactory.create_batch(3))
    tokens = tmp_path / "var" / "simulator-tokens.json"
    args = ["--base-url", live_server.url, "--username", "giamsat", "--password", "mat-khau-thu-nghiem",
            "--silent-fraction", "0", "--workers", "1", "--tokens", str(tokens)]
    simulate = _simulator()

    assert simulate.main(args) == 0
    first = _live_tokens()
    assert sorted(first) == codes
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o600
    stored = json.loads(tokens.read_text())
    assert sorted(stored["tokens"]) == codes and stored["base_url"] == live_server.url

    assert simulate.main(args) == 0
    assert _live_tokens() == first  # nothing re-issued, so nothing revoked
    assert StationCredential.objects.count() == 3

    # A token revoked meanwhile (or a database reset) is issued again, and only that one.
    StationCredential.objects.filter(station__code=codes[0]).update(revoked_at="2026-01-01T00:00:00Z")
    assert simulate.main(args) == 0
    again = _live_tokens()
    assert again[codes[0]] != first[codes[0]]
    assert {c: again[c] for c in codes[1:]} == {c: first[c] for c in codes[1:]}
    assert json.loads(tokens.read_text())["tokens"][codes[0]] != stored["tokens"][codes[0]]


@pytest.mark.django_db(transaction=True)
def test_simulator_acknowledges_an_emergency_it_played_like_a_box_s_queue(live_server, tmp_path: Path,
                                                                          settings) -> None:
    from broadcast.models import Bulletin, EmergencyDelivery
    from broadcast.services.schedules import create_schedule
    from tests.broadcast.factories_reports import plain_bulletin

    settings.MQTT_URL = ""
    supervisor = UserFactory(username="giamsat", roles=["supervisor"])
    station = StationFactory()
    bulletin = plain_bulletin("Khẩn cấp: lũ quét", duration_ms=20_000)
    Bulletin.objects.filter(pk=bulletin.pk).update(priority=Bulletin.Priority.EMERGENCY)
    schedule = create_schedule(Bulletin.objects.get(pk=bulletin.pk), by=supervisor, start_date=None,
                               end_date=None, slots=[], targets={"all": True}, immediate=True)
    time.sleep(0.1)  # the play starts "now": let now pass it
    args = ["--base-url", live_server.url, "--username", "giamsat", "--password", "mat-khau-thu-nghiem",
            "--silent-fraction", "0", "--fail-fraction", "0", "--workers", "1",
            "--tokens", str(tmp_path / "tokens.json")]
    assert _simulator().main(args) == 0
    delivery = EmergencyDelivery.objects.get(schedule=schedule, station=station)
    assert delivery.state == "completed"
    assert delivery.received_at < delivery.downloaded_at < delivery.started_at < delivery.ended_at


# --- scripts/run: serves, keeps serving when the worker dies, stops everything on SIGTERM ---------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _descendants(pid: int) -> dict[int, str]:
    """Live descendants of pid (from /proc), with their command lines."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    out = {}
    for p in found:
        try:
            out[p] = (Path("/proc") / str(p) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            pass
    return out


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _serving(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def _wait_for(condition, timeout: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.5)


def _worker_pids(pid: int) -> set[int]:
    # The worker's main process (its pool children have the same command line but a worker parent).
    procs = _descendants(pid)
    return {p for p, cmd in procs.items() if " worker " in cmd and "celery" in cmd
            and int((Path("/proc") / str(p) / "stat").read_text().rsplit(")", 1)[1].split()[1]) not in procs}


def _start_run(tmp_path: Path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CELERY_", "DATABASE_URL", "LOA_", "PYTEST", "DJANGO_", "MQTT_"))}
    # A database named by DATABASE_URL: scripts/run leaves the demo accounts, content and simulator out.
    env.update(LOA_VAR_DIR=str(tmp_path / "var"), LOA_PORT=str(port), LOA_STOP_TIMEOUT="5",
               DATABASE_URL=f"sqlite:///{tmp_path / 'run.sqlite3'}", MEDIA_ROOT=str(tmp_path / "media"),
               STATIC_ROOT=str(tmp_path / "static"))
    with (tmp_path / "run.log").open("w") as log:
        return subprocess.Popen([str(REPO / "scripts" / "run")], cwd=tmp_path, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)


def _kill_leftovers(proc: subprocess.Popen, seen: dict[int, str]) -> None:
    seen.update(_descendants(proc.pid))
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    for p, cmd in seen.items():  # left-overs of a failed run, never another process
        if _alive(p) and ("celery" in cmd or "manage.py" in cmd or "mosquitto" in cmd or "stations.agent" in cmd):
            with contextlib.suppress(OSError):
                os.kill(p, signal.SIGKILL)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to follow the child processes")
def test_scripts_run_restarts_a_dead_worker_and_stops_all_children_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    proc = _start_run(tmp_path, port)
    seen: dict[int, str] = {}
    try:
        _wait_for(lambda: _serving(port) or proc.poll() is not None, 240, "scripts/run to serve")
        assert proc.poll() is None, (tmp_path / "run.log").read_text()
        _wait_for(lambda: len(_worker_pids(proc.pid)) == 1, 60, "the Celery worker")
        children = _descendants(proc.pid)
        seen.update(children)
        assert any("beat" in cmd for cmd in children.values()) and any("runserver" in cmd for cmd in children.values())

        (worker,) = _worker_pids(proc.pid)
        os.kill(worker, signal.SIGKILL)
        _wait_for(lambda: _worker_pids(proc.pid) - {worker}, 30, "a new worker")
        assert _serving(port) and proc.poll() is None
        assert "khởi động lại" in (tmp_path / "run.log").read_text()

        children = _descendants(proc.pid)
        seen.update(children)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        _wait_for(lambda: not [p for p in children if _alive(p)], 10, "every child of scripts/run to be gone")
        assert time.monotonic() - started < 20
        assert not _serving(port)
        log = (tmp_path / "run.log").read_text()
        assert "Đã dừng." in log and "buộc dừng" not in log  # TERM was enough: Celery's warm shutdown
        # The inherited DATABASE_URL got no demo accounts (known password), no demo content, no simulator.
        assert "Bỏ qua tài khoản dùng thử" in log and "Mô phỏng" not in log
        with contextlib.closing(sqlite3.connect(tmp_path / "run.sqlite3")) as db:
            assert db.execute("SELECT count(*) FROM auth_user").fetchone() == (0,)
            assert db.execute("SELECT count(*) FROM broadcast_bulletin").fetchone() == (0,)
    finally:
        _kill_leftovers(proc, seen)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to follow the child processes")
def test_scripts_run_stops_everything_with_a_message_when_the_web_server_dies(tmp_path: Path) -> None:
    port = _free_port()
    proc = _start_run(tmp_path, port)
    seen: dict[int, str] = {}
    try:
        _wait_for(lambda: _serving(port) or proc.poll() is not None, 240, "scripts/run to serve")
        _wait_for(lambda: len(_worker_pids(proc.pid)) == 1, 60, "the Celery worker")
        children = _descendants(proc.pid)
        seen.update(children)
        (server,) = [p for p, cmd in children.items() if "runserver" in cmd]
        os.kill(server, signal.SIGKILL)
        assert proc.wait(timeout=30) != 0
        _wait_for(lambda: not [p for p in children if _alive(p)], 10, "the worker and beat to be gone")
        assert "máy chủ web đã dừng" in (tmp_path / "run.log").read_text()
    finally:
        _kill_leftovers(proc, seen)


# --- the set-up installs what CI starts -----------------------------------------------------------


def _setup_with_fake_apt(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, str]:
    """Sources scripts/setup.sh with a PATH that has the audio tools but no PostgreSQL or Redis, and an
    apt-get that only writes down what it was asked."""
    import shutil

    bin_dir, calls = tmp_path / "bin", tmp_path / "apt-calls"
    bin_dir.mkdir()
    for tool in ("ffmpeg", "espeak-ng", "mkdir", "sha256sum", "cut", "rm", "touch", "id", "dirname", "cat"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    (bin_dir / "apt-get").write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    (bin_dir / "apt-get").chmod(0o755)
    result = subprocess.run(
        ["/bin/bash", "-c", 'source scripts/setup.sh "$@" && echo READY', "setup", *args],
        cwd=REPO, env={"PATH": str(bin_dir), "HOME": str(tmp_path)}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return result, calls.read_text() if calls.exists() else ""


@pytest.mark.skipif(os.geteuid() != 0, reason="the set-up installs Debian packages only as root")
def test_setup_with_services_installs_postgresql_and_redis_when_missing(tmp_path: Path) -> None:
    result, calls = _setup_with_fake_apt(tmp_path, "--with-browser", "--with-services")
    assert result.returncode == 0 and "READY" in result.stdout, result.stderr
    install = [line.split() for line in calls.splitlines() if line.startswith("install")]
    assert len(install) == 1 and {"postgresql", "redis-server"} <= set(install[0])


def test_setup_without_services_installs_neither(tmp_path: Path) -> None:
    result, calls = _setup_with_fake_apt(tmp_path)
    assert result.returncode == 0 and "READY" in result.stdout, result.stderr
    assert "postgresql" not in calls and "redis" not in calls
