"""A worker SIGKILLed mid-render costs seconds when it restarts under its name, under a minute otherwise:
its claim's heartbeat stops and the sweep (beat's task, run here by the test on beat's period) re-queues
the rendition for any worker. Redis keeps the killed worker's unacknowledged message for its one-hour
visibility timeout, so neither waits for the broker."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from broadcast.celery import app
from broadcast.models import AudioRendition
from broadcast.services import rendering
from broadcast.tasks.rendering import render_rendition_task

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
QUEUE = f"render-crash-{os.getpid()}"


def _start_worker(name: str, queues: str, log_path: Path) -> subprocess.Popen:
    db = settings.DATABASES["default"]
    url = (f"postgres://{db.get('USER') or 'postgres'}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/"
           f"{connection.settings_dict['NAME']}")
    env = {**os.environ, "DATABASE_URL": url, "MEDIA_ROOT": str(settings.MEDIA_ROOT),
           "CELERY_TASK_ALWAYS_EAGER": "false", "DB_CONN_MAX_AGE": "0", "LOA_AUDIO_DEFAULT_CHIME": "false"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "broadcast", "worker", "--pool=solo", "--loglevel=INFO", "-Q", queues,
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{name}-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=log_path.open("ab"), stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while not any(f"{name}-{os.getpid()}@" in node for reply in app.control.ping(timeout=1.0) for node in reply):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"worker {name} did not start:\n{log_path.read_text()[-3000:]}")
    return proc


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _long_rendition() -> AudioRendition:
    body = " ".join(f"Câu thông báo số {i}: UBND phường đề nghị các hộ gia đình chằng chống nhà cửa."
                    for i in range(150))  # about six seconds of rendering
    speakable = rendering.speakable_for(f"Thông báo khẩn {time.time_ns()}", body)
    profile = rendering.render_profile("")
    return AudioRendition.objects.create(
        text_hash=hashlib.sha256(speakable.encode()).hexdigest(), engine=profile.engine, voice=profile.voice,
        settings_key=profile.settings_key, speakable_text=speakable,
    )


def _kill_mid_render(worker: subprocess.Popen, rendition: AudioRendition, log: Path) -> float:
    render_rendition_task.apply_async(args=[rendition.pk], queue=QUEUE)
    deadline = time.monotonic() + 60
    while AudioRendition.objects.get(pk=rendition.pk).status != "rendering":
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.05)
    time.sleep(1.0)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    assert AudioRendition.objects.get(pk=rendition.pk).status == "rendering"
    return time.monotonic()


def _wait_until_done(rendition: AudioRendition, killed_at: float, log: Path, *, sweep: bool) -> float:
    next_sweep = time.monotonic()
    while True:
        rendition.refresh_from_db()
        if rendition.status in ("ready", "failed"):
            return time.monotonic() - killed_at
        assert time.monotonic() - killed_at < 90, f"still {rendition.status}\n{log.read_text()[-3000:]}"
        if sweep and time.monotonic() >= next_sweep:  # what beat runs every BULLETIN_RENDER_SWEEP_SECONDS
            rendering.requeue_stale_renditions()
            next_sweep += settings.BULLETIN_RENDER_SWEEP_SECONDS
        time.sleep(0.2)


def _assert_rendered(rendition: AudioRendition) -> None:
    assert rendition.status == "ready", rendition.error
    assert rendition.render_attempts == 2
    assert hashlib.sha256((Path(settings.MEDIA_ROOT) / rendition.file).read_bytes()).hexdigest() == rendition.sha256


def test_a_render_killed_with_sigkill_is_ready_within_a_minute_on_another_worker(tmp_path):
    """Another worker (or the dead one under a new name) gets it through the claim timeout and the sweep."""
    rendition, log = _long_rendition(), tmp_path / "workers.log"
    first = _start_worker("doomed", QUEUE, log)
    other = None
    try:
        killed_at = _kill_mid_render(first, rendition, log)
        other = _start_worker("other", f"{QUEUE},celery", log)
        recovered_in = _wait_until_done(rendition, killed_at, log, sweep=True)
    finally:
        for proc in (first, other):
            if proc is not None:
                _stop(proc)
    _assert_rendered(rendition)
    assert recovered_in < 60, recovered_in
    print(f"recovered {recovered_in:.1f} s after SIGKILL (sweep)")


def test_a_worker_restarted_under_its_name_takes_its_killed_render_back_in_seconds(tmp_path):
    rendition, log = _long_rendition(), tmp_path / "workers.log"
    first = _start_worker("phoenix", QUEUE, log)
    restarted = None
    try:
        killed_at = _kill_mid_render(first, rendition, log)
        restarted = _start_worker("phoenix", f"{QUEUE},celery", log)
        recovered_in = _wait_until_done(rendition, killed_at, log, sweep=False)
    finally:
        for proc in (first, restarted):
            if proc is not None:
                _stop(proc)
    _assert_rendered(rendition)
    assert recovered_in < 45, recovered_in  # no sweep ran: without the restart's release it would wait an hour
    print(f"recovered {recovered_in:.1f} s after SIGKILL (restart)")
