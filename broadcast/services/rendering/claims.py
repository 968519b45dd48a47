"""Who renders a rendition: an exclusive claim naming the worker and task, refreshed by a heartbeat while
it runs; claims of dead workers are taken over (redelivery, worker restart, the sweep), retries are
counted on the rendition."""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from broadcast.models import AudioRendition

log = logging.getLogger(__name__)


def _pending_again(rendition: AudioRendition) -> bool:
    """A failed rendition back to pending (with a fresh retry budget), not queued. True when this call
    moved it."""
    if rendition.status != AudioRendition.Status.FAILED:
        return False
    updated = AudioRendition.objects.filter(pk=rendition.pk, status=AudioRendition.Status.FAILED).update(
        status=AudioRendition.Status.PENDING, error="", render_attempts=0
    )
    if updated:
        rendition.status, rendition.error, rendition.render_attempts = AudioRendition.Status.PENDING, "", 0
    return bool(updated)


def reset_failed(rendition: AudioRendition) -> bool:
    """Put a failed rendition back in the queue. True when it was failed (and is now pending)."""
    if not _pending_again(rendition):
        return False
    enqueue_render(rendition.pk)
    return True


def retry_rendition(rendition: AudioRendition) -> bool:
    """A person asks again for a failed rendition or one stuck in rendering (`AudioRendition.can_retry`):
    back to pending with a fresh retry budget, the old claim dropped (a worker that still holds it can no
    longer write its result), and queued. False when its state changed meanwhile."""
    if not rendition.can_retry(timezone.now()):
        return False
    updated = AudioRendition.objects.filter(
        pk=rendition.pk, status=rendition.status, claimed_by=rendition.claimed_by
    ).update(
        status=AudioRendition.Status.PENDING, error="", render_attempts=0, claimed_by="", heartbeat_at=None
    )
    if updated:
        enqueue_render(rendition.pk)
    return bool(updated)


def enqueue_render(rendition_id: int) -> None:
    """Queue the render task once the surrounding transaction commits."""
    from broadcast.tasks.rendering import render_rendition_task

    AudioRendition.objects.filter(pk=rendition_id).update(queued_at=timezone.now())
    transaction.on_commit(lambda: render_rendition_task.delay(rendition_id))


def claim(rendition_id: int, task_id: str = "", worker: str = "") -> AudioRendition | None:
    """Atomically move a claimable rendition (`AudioRendition.claimable`) to rendering, owned by `task_id`
    (a fresh token without one) on `worker` (the Celery node name). None if someone else has it, or if
    it is ready.

    A rendition whose workers died on it more often than the retry limit is failed instead (a text that
    kills the worker must not take it down forever).
    """
    now = timezone.now()
    with transaction.atomic():
        rendition = (AudioRendition.objects.select_for_update()
                     .filter(AudioRendition.claimable(now, task_id), pk=rendition_id).first())  # fmt: skip
        if rendition is None:
            return None
        if (
            rendition.status != AudioRendition.Status.FAILED
            and rendition.render_attempts > settings.BULLETIN_RENDER_MAX_RETRIES
        ):
            rendition.status = AudioRendition.Status.FAILED
            rendition.error = (
                "Quá trình xử lý âm thanh bị dừng đột ngột nhiều lần; hãy thử lại hoặc rút gọn nội dung."
            )
            rendition.finished_at, rendition.claimed_by, rendition.heartbeat_at = now, "", None
            rendition.save(update_fields=["status", "error", "finished_at", "claimed_by", "heartbeat_at"])
            return None
        rendition.status = AudioRendition.Status.RENDERING
        rendition.started_at = rendition.heartbeat_at = now
        rendition.claimed_by = AudioRendition.claim_owner(worker, task_id or str(uuid.uuid4()))
        rendition.render_attempts += 1
        rendition.error = ""
        rendition.save(
            update_fields=["status", "started_at", "heartbeat_at", "claimed_by", "render_attempts", "error"]
        )
    return rendition


def _own_claim(rendition: AudioRendition) -> Any:
    """The rendition's row while `rendition` still holds the claim (an ousted worker changes nothing)."""
    return AudioRendition.objects.filter(
        pk=rendition.pk, status=AudioRendition.Status.RENDERING, claimed_by=rendition.claimed_by
    )


def heartbeat(rendition: AudioRendition) -> bool:
    """Say the claim's worker is alive. False when the claim was lost (taken over, retried, finished)."""
    return bool(_own_claim(rendition).update(heartbeat_at=timezone.now()))


class _Heartbeat:
    """Refreshes the claim from a thread while the render runs (synthesis and ffmpeg hold no Python
    lock for long), so a claim that stops being refreshed means its worker died."""

    def __init__(self, rendition: AudioRendition) -> None:
        self.rendition = rendition
        self.interval = float(settings.BULLETIN_RENDER_HEARTBEAT_SECONDS)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"render-heartbeat-{rendition.pk}", daemon=True)

    def _run(self) -> None:
        try:
            while not self.stop.wait(self.interval):
                if not heartbeat(self.rendition):
                    return
        except Exception:  # a database hiccup: the claim may time out, the render goes on
            log.warning("heartbeat of rendition %s stopped", self.rendition.pk, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def mark_failed(rendition_id: int, error: str, *, claimed_by: str | None = None) -> None:
    """Failed with the editor's message; with `claimed_by`, only while that claim still holds it."""
    rows = AudioRendition.objects.filter(pk=rendition_id).exclude(status=AudioRendition.Status.READY)
    if claimed_by is not None:
        rows = rows.filter(status=AudioRendition.Status.RENDERING, claimed_by=claimed_by)
    rows.update(
        status=AudioRendition.Status.FAILED,
        error=error[:2000],
        finished_at=timezone.now(),
        claimed_by="",
        heartbeat_at=None,
    )


def release_worker_claims(worker: str) -> int:
    """A worker starting under the node name `worker` runs nothing yet, so every claim held under that name
    is from a previous life that died (SIGKILL, OOM, power): back to pending and queued at once, without
    waiting for the claim to time out. Returns how many."""
    if not worker:
        return 0
    held = AudioRendition.claimed_by_worker(worker)
    released = 0
    for rendition_id in AudioRendition.objects.filter(held).values_list("pk", flat=True):
        if AudioRendition.objects.filter(held, pk=rendition_id).update(
            status=AudioRendition.Status.PENDING, claimed_by="", heartbeat_at=None
        ):
            enqueue_render(rendition_id)
            released += 1
    if released:
        log.warning("worker %s restarted: %d render(s) it held queued again", worker, released)
    return released


def requeue_stale_renditions() -> int:
    """Re-queue renditions whose task was lost: `rendering` with a claim no longer refreshed (its worker
    died; the embedded SQLite broker never redelivers the message of a killed worker), or `pending` long
    after its task was due. A rendition waiting out a back-off is due only when the back-off ends, and its
    attempt count stays on the rendition, so the sweep never extends the retry limit."""
    now = timezone.now()
    due_before = now - timedelta(seconds=settings.BULLETIN_RENDER_REQUEUE_AFTER_SECONDS)
    claim_lost_before = now - timedelta(seconds=settings.BULLETIN_RENDER_CLAIM_TIMEOUT_SECONDS)
    lost_pending = Q(status=AudioRendition.Status.PENDING) & (
        Q(queued_at__lt=due_before) | Q(queued_at__isnull=True, created_at__lt=due_before)
    )
    # Once per claim timeout, not every sweep, while no worker takes it.
    abandoned = AudioRendition.abandoned_claims(now) & (
        Q(queued_at__isnull=True) | Q(queued_at__lt=claim_lost_before)
    )
    ids = list(
        AudioRendition.objects.filter(lost_pending | abandoned)
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )
    if not ids:
        return 0
    AudioRendition.objects.filter(pk__in=ids).update(queued_at=now)
    from broadcast.tasks.rendering import render_rendition_task

    for rendition_id in ids:
        render_rendition_task.delay(rendition_id)
    return len(ids)
