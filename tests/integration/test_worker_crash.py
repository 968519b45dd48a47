"""A worker SIGKILLed mid-render costs under a minute: the claim's heartbeat stops, the sweep (beat's
task, run here by the test on beat's period) re-queues the rendition and a restarted worker takes it over.
Redis keeps the killed worker's unacknowledged message for its one-hour visibility timeout, so only the
claim heartbeat and the sweep bring the audio back quickly."""

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


def test_a_render_killed_with_sigkill_is_ready_within_a_minute_of_the_restart(tmp_path):
    body = " ".join(f"Câu thông báo số {i}: UBND phường đề nghị các hộ gia đình chằng chống nhà cửa."
                    for i in range(150))  # about six seconds of rendering
    speakable = rendering.speakable_for("Thông báo khẩn", body)
    profile = rendering.render_profile("")
    rendition = AudioRendition.objects.create(
        text_hash=hashlib.sha256(speakable.encode()).hexdigest(), engine=profile.engine, voice=profile.voice,
        settings_key=profile.settings_key, speakable_text=speakable,
    )
    log = tmp_path / "workers.log"
    first = _start_worker("doomed", QUEUE, log)
    restarted = None
    try:
        render_rendition_task.apply_async(args=[rendition.pk], queue=QUEUE)
        deadline = time.monotonic() + 60
        while AudioRendition.objects.get(pk=rendition.pk).status != "rendering":
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.05)
        time.sleep(1.0)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        killed_at = time.monotonic()
        assert AudioRendition.objects.get(pk=rendition.pk).status == "rendering"

        restarted = _start_worker("restarted", f"{QUEUE},celery", log)
        next_sweep = time.monotonic()
        while True:
            rendition.refresh_from_db()
            if rendition.status in ("ready", "failed"):
                break
            assert time.monotonic() - killed_at < 90, f"still {rendition.status}\n{log.read_text()[-3000:]}"
            if time.monotonic() >= next_sweep:  # what beat runs every BULLETIN_RENDER_SWEEP_SECONDS
                rendering.requeue_stale_renditions()
                next_sweep += settings.BULLETIN_RENDER_SWEEP_SECONDS
            time.sleep(0.2)
        recovered_in = time.monotonic() - killed_at
    finally:
        _stop(first)
        if restarted is not None:
            _stop(restarted)
    assert rendition.status == "ready", rendition.error
    assert rendition.render_attempts == 2
    assert recovered_in < 60, recovered_in
    assert hashlib.sha256((Path(settings.MEDIA_ROOT) / rendition.file).read_bytes()).hexdigest() == rendition.sha256
    print(f"recovered {recovered_in:.1f} s after SIGKILL")
