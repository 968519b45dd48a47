"""Celery tasks of the rendering area: ids in, service calls; safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from broadcast.audio.errors import TemporaryEngineError

__all__ = ["render_rendition_task", "requeue_stale_renditions_task"]


@shared_task(name="loa.render_rendition", bind=True, acks_late=True, max_retries=None)
def render_rendition_task(self, rendition_id: int) -> str:  # noqa: ANN001 - Celery's bound task
    """Render one rendition; a temporary engine failure is retried with exponential backoff."""
    from broadcast.services.rendering import render_rendition

    max_retries = settings.BULLETIN_RENDER_MAX_RETRIES
    final = self.request.retries >= max_retries
    try:
        rendition = render_rendition(rendition_id, final_attempt=final)
    except TemporaryEngineError as exc:
        countdown = settings.BULLETIN_RENDER_RETRY_BACKOFF_SECONDS * (2 ** self.request.retries)
        raise self.retry(exc=exc, countdown=min(countdown, 3600)) from exc
    return rendition.status


@shared_task(name="loa.requeue_stale_renditions")
def requeue_stale_renditions_task() -> int:
    from broadcast.services.rendering import requeue_stale_renditions

    return requeue_stale_renditions()
