"""A crashed worker costs seconds: claims carry their task id and a heartbeat, the sweep re-queues
abandoned claims and back-offs without resetting the retry count, editors can retry a stuck render."""

from __future__ import annotations

import contextlib
import hashlib
import time
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.utils import timezone

from broadcast.audio.errors import AllEnginesFailedError, TemporaryEngineError
from broadcast.models import AudioRendition, Bulletin
from broadcast.services import bulletins as services
from broadcast.services import rendering

pytestmark = pytest.mark.django_db

URL = "/api/v1/bulletins/"


def _pending(text: str = "Thông báo thử nghiệm.") -> AudioRendition:
    return AudioRendition.objects.create(
        text_hash=hashlib.sha256(text.encode()).hexdigest(), engine="espeak", voice="vi", settings_key="k",
        speakable_text=text,
    )


class _Clock:
    """timezone.now(), moved forward by the test."""

    def __init__(self) -> None:
        self.offset = timedelta()


@pytest.fixture
def clock(monkeypatch) -> _Clock:
    shim, real_now = _Clock(), timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + shim.offset)
    return shim


def _left_rendering_by_a_dead_worker(rendition: AudioRendition, seconds_ago: int) -> None:
    """What a SIGKILLed worker leaves: `rendering`, claimed (and last seen) `seconds_ago`."""
    at = timezone.now() - timedelta(seconds=seconds_ago)
    AudioRendition.objects.filter(pk=rendition.pk).update(status="rendering", started_at=at, heartbeat_at=at,
                                                          render_attempts=1)


def test_a_claim_whose_worker_stopped_beating_is_taken_over_within_a_minute(fake_render):
    rendition = _pending()
    _left_rendering_by_a_dead_worker(rendition, seconds_ago=60)
    again = rendering.render_rendition(rendition.pk)
    assert again.status == "ready" and len(fake_render.calls) == 1


def test_a_live_claim_of_another_task_is_left_alone(fake_render):
    rendition = _pending()
    assert rendering.claim(rendition.pk, task_id="task-a") is not None
    assert rendering.render_rendition(rendition.pk, task_id="task-b").status == "rendering"
    assert fake_render.calls == []


def test_the_redelivered_task_takes_its_own_claim_over_at_once(fake_render):
    """A broker redelivers the message of a killed worker with the same task id: its claim is dead."""
    rendition = _pending()
    assert rendering.claim(rendition.pk, task_id="task-a") is not None
    again = rendering.render_rendition(rendition.pk, task_id="task-a")
    assert again.status == "ready" and len(fake_render.calls) == 1 and again.render_attempts == 2


def test_an_ousted_worker_cannot_overwrite_the_new_claim(fake_render):
    rendition = _pending()
    old = rendering.claim(rendition.pk, task_id="task-a")
    _left_rendering_by_a_dead_worker(rendition, seconds_ago=60)
    assert rendering.render_rendition(rendition.pk, task_id="task-b").status == "ready"
    assert rendering.heartbeat(old) is False


def test_the_sweep_requeues_a_rendering_whose_heartbeat_stopped(fake_render, settings):
    rendition = _pending()
    _left_rendering_by_a_dead_worker(rendition, seconds_ago=settings.BULLETIN_RENDER_CLAIM_TIMEOUT_SECONDS + 5)
    assert rendering.requeue_stale_renditions() == 1  # eager: the task runs now
    rendition.refresh_from_db()
    assert rendition.status == "ready"


def test_claim_timeout_and_sweep_together_recover_within_a_minute(settings):
    worst = settings.BULLETIN_RENDER_CLAIM_TIMEOUT_SECONDS + settings.BULLETIN_RENDER_SWEEP_SECONDS
    assert worst <= 50, worst
    assert settings.CELERY_BEAT_SCHEDULE["requeue-stale-renditions"]["schedule"] == settings.BULLETIN_RENDER_SWEEP_SECONDS


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_is_refreshed_while_rendering(fake_render, settings, monkeypatch):
    settings.BULLETIN_RENDER_HEARTBEAT_SECONDS = 0.05
    rendition = _pending()
    seen = []
    real = fake_render.__call__

    def slow(r, out):  # noqa: ANN001, ANN202
        first = AudioRendition.objects.get(pk=r.pk).heartbeat_at
        time.sleep(0.5)
        seen.append((first, AudioRendition.objects.get(pk=r.pk).heartbeat_at))
        return real(r, out)

    monkeypatch.setattr(rendering.run, "_render", slow)
    assert rendering.render_rendition(rendition.pk, task_id="t").status == "ready"
    first, later = seen[0]
    assert first is not None and later > first


def test_an_editor_retries_audio_stuck_in_rendering(editor, approver, client_for, fake_render,
                                                     django_capture_on_commit_callbacks, settings):
    bulletin = services.create_bulletin(editor, "Tin khẩn", "Nội dung khẩn cấp.")
    services.submit(bulletin, editor)  # on_commit not run: the task never ran
    rendition = Bulletin.objects.get(pk=bulletin.pk).current_revision.rendition
    assert rendering.claim(rendition.pk, task_id="task-a") is not None
    # Alive and fresh: retrying would render twice.
    response = client_for(approver).post(f"{URL}{bulletin.pk}/audio/retry/")
    assert response.status_code == 409 and "đang được xử lý" in response.data["detail"]
    # Its worker stopped beating: the editor does not wait for the sweep.
    _left_rendering_by_a_dead_worker(rendition, seconds_ago=settings.BULLETIN_RENDER_CLAIM_TIMEOUT_SECONDS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(editor).post(f"{URL}{bulletin.pk}/audio/retry/")
    assert response.status_code == 200, response.data
    assert client_for(editor).get(f"{URL}{bulletin.pk}/audio/").data["status"] == "ready"


def test_a_render_beating_well_past_its_expected_time_can_be_retried(editor, client_for, fake_render,
                                                                    django_capture_on_commit_callbacks, settings):
    bulletin = services.create_bulletin(editor, "Tin", "Nội dung.")
    services.submit(bulletin, editor)
    rendition = Bulletin.objects.get(pk=bulletin.pk).current_revision.rendition
    assert rendering.claim(rendition.pk, task_id="hung") is not None
    long_ago = timezone.now() - timedelta(seconds=settings.BULLETIN_RENDER_STUCK_SECONDS + 1)
    AudioRendition.objects.filter(pk=rendition.pk).update(started_at=long_ago)  # heartbeat still fresh
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(editor).post(f"{URL}{bulletin.pk}/audio/retry/")
    assert response.status_code == 200, response.data
    assert AudioRendition.objects.get(pk=rendition.pk).status == "ready"


# ------------------------------------------------------------------------------- retries and back-off


def test_a_temporary_outage_of_every_engine_in_the_chain_is_retried(fake_render):
    rendition = _pending()
    fake_render.fail_with = AllEnginesFailedError("Tất cả bộ đọc đều lỗi — gtts: mạng", attempts=[], temporary=True)
    with pytest.raises(TemporaryEngineError):
        rendering.render_rendition(rendition.pk, final_attempt=False)
    rendition.refresh_from_db()
    assert rendition.status == "pending" and "bộ đọc" in rendition.error


def test_a_permanent_failure_of_every_engine_fails_at_once(fake_render):
    rendition = _pending()
    fake_render.fail_with = AllEnginesFailedError("Tất cả bộ đọc đều lỗi", attempts=[], temporary=False)
    assert rendering.render_rendition(rendition.pk).status == "failed"


def test_the_sweep_respects_the_retry_limit_of_a_rendition_waiting_out_a_backoff(fake_render, settings,
                                                                                 monkeypatch, clock):
    from broadcast.tasks.rendering import render_rendition_task

    settings.BULLETIN_RENDER_MAX_RETRIES = 2
    fake_render.fail_with = TemporaryEngineError("Mạng chập chờn.")
    countdowns = []

    def queued_not_run(exc=None, countdown=None, **kwargs):  # noqa: ANN001, ANN003, ANN202
        countdowns.append(countdown)  # the retry waits in the broker; the sweep may come first
        return Retry(exc=exc)

    monkeypatch.setattr(render_rendition_task, "retry", queued_not_run)
    rendition = _pending()
    render_rendition_task.apply(args=[rendition.pk], throw=False)
    assert AudioRendition.objects.get(pk=rendition.pk).status == "pending"
    for _ in range(6):
        clock.offset += timedelta(hours=2)
        with contextlib.suppress(Retry):  # eager tasks propagate what a worker would only log
            rendering.requeue_stale_renditions()
    rendition.refresh_from_db()
    assert rendition.status == "failed", (rendition.status, rendition.render_attempts)
    assert rendition.render_attempts == settings.BULLETIN_RENDER_MAX_RETRIES + 1
    assert countdowns[:2] == [settings.BULLETIN_RENDER_RETRY_BACKOFF_SECONDS,
                              2 * settings.BULLETIN_RENDER_RETRY_BACKOFF_SECONDS]


def test_the_sweep_leaves_a_rendition_alone_while_its_backoff_runs(fake_render, settings, monkeypatch):
    from broadcast.tasks.rendering import render_rendition_task

    settings.BULLETIN_RENDER_RETRY_BACKOFF_SECONDS = 3000
    fake_render.fail_with = TemporaryEngineError("Mạng chập chờn.")
    monkeypatch.setattr(render_rendition_task, "retry", lambda exc=None, **kw: Retry(exc=exc))
    rendition = _pending()
    AudioRendition.objects.filter(pk=rendition.pk).update(created_at=timezone.now() - timedelta(hours=1))
    render_rendition_task.apply(args=[rendition.pk], throw=False)
    assert rendering.requeue_stale_renditions() == 0


# ------------------------------------------------------------------------- a restarted worker's claims


def test_a_restarted_worker_takes_back_its_own_renders_at_once(fake_render, django_capture_on_commit_callbacks):
    """Its node name is in the claim: when that node starts again, nothing it claimed can still be running."""
    mine, theirs = _pending("Tin một."), _pending("Tin hai.")
    assert rendering.claim(mine.pk, task_id="t1", worker="render1@loa") is not None
    assert rendering.claim(theirs.pk, task_id="t2", worker="render2@loa") is not None
    with django_capture_on_commit_callbacks(execute=True):
        assert rendering.release_worker_claims("render1@loa") == 1  # eager: re-rendered now
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, mine.render_attempts) == ("ready", 2)
    assert theirs.status == "rendering" and len(fake_render.calls) == 1


def test_the_worker_ready_signal_releases_that_workers_claims(fake_render, django_capture_on_commit_callbacks):
    from celery.signals import worker_ready

    rendition = _pending()
    assert rendering.claim(rendition.pk, task_id="t1", worker="render1@loa") is not None

    class Consumer:
        hostname = "render1@loa"

    with django_capture_on_commit_callbacks(execute=True):
        worker_ready.send(sender=Consumer())
    rendition.refresh_from_db()
    assert rendition.status == "ready"


def test_a_text_that_keeps_killing_its_worker_fails_instead_of_looping(fake_render, settings):
    settings.BULLETIN_RENDER_MAX_RETRIES = 2
    rendition = _pending()
    for _ in range(3):
        assert rendering.claim(rendition.pk, task_id="t", worker="w@loa") is not None  # its worker dies
        AudioRendition.objects.filter(pk=rendition.pk).update(status="pending", claimed_by="")  # taken back
    rendition = rendering.render_rendition(rendition.pk, task_id="t4", worker="w@loa")
    assert rendition.status == "failed" and "dừng đột ngột" in rendition.error
    assert fake_render.calls == []
