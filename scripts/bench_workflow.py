#!/usr/bin/env python
"""Benchmark of the editorial workflow (figures for the closing note).

1. Submit → ready of the long sample article through a real Celery worker, against a baseline
   measured in the same run: rendering the same speakable text in-process (no queue, no database).
   The ratio shows what the workflow (queue, claim, bookkeeping) adds on top of synthesis.
2. Queries of `GET /api/v1/bulletins/` with 10 and with 1,000 bulletins (ratio 1.0 = constant).

Needs PostgreSQL and Redis, and a SCRATCH database (it is flushed):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/loa_bench CELERY_BROKER_URL=redis://127.0.0.1:6379/4 \
        .venv/bin/python scripts/bench_workflow.py --i-know-the-database-is-flushed
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The demo article shipped in broadcast/demo/ (about 9,000 characters, title on the first line).
ARTICLE = Path(os.environ.get("LOA_BENCH_ARTICLE", ROOT / "broadcast" / "demo" / "article.txt"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--i-know-the-database-is-flushed", dest="ok", action="store_true")
    parser.add_argument("--bulletins", type=int, default=1000)
    args = parser.parse_args()
    if not args.ok:
        parser.error("this flushes DATABASE_URL; pass --i-know-the-database-is-flushed")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        parser.error("DATABASE_URL must point at a scratch PostgreSQL database")
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"):
        parser.error("CELERY_BROKER_URL must be Redis")

    media = Path(tempfile.mkdtemp(prefix="loa-bench-media-"))
    os.environ["MEDIA_ROOT"] = str(media)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "broadcast.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from broadcast.models import Bulletin
    from broadcast.services import bulletins as services
    from broadcast.services import rendering
    from tests.factories import UserFactory

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)  # flush removed the role groups; migrations re-create them
    from django.contrib.auth.models import Group

    from stations.roles import ALL_ROLES

    for name in ALL_ROLES:
        Group.objects.get_or_create(name=name)
    editor = UserFactory(username="bench-editor", roles=["editor"])

    # --- 2. list query count
    client = APIClient()
    client.force_authenticate(editor)

    def list_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/api/v1/bulletins/")
            assert response.status_code == 200, response.status_code
        return len(ctx.captured_queries)

    for i in range(10):
        services.create_bulletin(editor, f"Bản tin {i}", f"Nội dung bản tin số {i}.")
    list_queries()  # warm-up: the user's roles are cached on the user object after the first request
    q_small = list_queries()
    for i in range(10, args.bulletins):
        services.create_bulletin(editor, f"Bản tin {i}", f"Nội dung bản tin số {i}.")
    q_large = list_queries()
    print(f"list queries: 10 bulletins = {q_small}, {Bulletin.objects.count()} bulletins = {q_large}, "
          f"ratio = {q_large / q_small:.2f}")

    # --- 1. submit → ready through a real worker vs in-process rendering
    text = ARTICLE.read_text(encoding="utf-8")
    title, _, body = text.partition("\n")
    speakable = rendering.speakable_for(title, body.strip())
    from broadcast.audio import render as audio_render

    config = rendering._audio_config()
    started = time.monotonic()
    audio_render.render_speech(speakable, media / "baseline.mp3", engine=config.build_engine(config.engine),
                               voice=config.voice, settings=config.render_settings(), limits=config.limits)
    baseline = time.monotonic() - started
    print(f"article: {len(text)} characters, speakable {len(speakable)} characters, engine {config.engine}")
    print(f"baseline in-process render: {baseline:.2f} s")

    env = {**os.environ, "CELERY_TASK_ALWAYS_EAGER": "false", "DB_CONN_MAX_AGE": "0"}
    from broadcast.celery import app

    app.control.purge()
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "broadcast", "worker", "--pool=solo", "--loglevel=WARNING",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"bench-{os.getpid()}@%h"],
        cwd=ROOT, env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=1.0):
            if time.monotonic() > deadline or worker.poll() is not None:
                print("worker did not start", file=sys.stderr)
                return 1
        bulletin = services.create_bulletin(editor, title.strip(), body.strip())
        started = time.monotonic()
        services.submit(bulletin, editor)  # autocommit: the task is queued on commit
        while True:
            rendition = Bulletin.objects.get(pk=bulletin.pk).current_revision.rendition
            rendition.refresh_from_db()
            if rendition.status in ("ready", "failed"):
                break
            if time.monotonic() - started > 900:
                print("timed out", file=sys.stderr)
                return 1
            time.sleep(0.1)
        elapsed = time.monotonic() - started
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    print(f"submit → {rendition.status} through the worker: {elapsed:.2f} s "
          f"(audio {rendition.duration_ms / 1000 if rendition.duration_ms else 0:.1f} s, "
          f"{(rendition.size_bytes or 0) / 1024:.0f} KiB), ratio to baseline = {elapsed / baseline:.2f}")
    return 0 if rendition.status == "ready" else 1


if __name__ == "__main__":
    sys.exit(main())
