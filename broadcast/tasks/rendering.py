"""Celery tasks of the rendering area: ids in, service calls; safe to run twice."""

from __future__ import annotations

from celery import shared_task

__all__ = ["render_rendition_task", "requeue_stale_renditions_task"]


@shared_task(name="loa.render_rendition", bind=True, acks_late=True, max_retries=None)
def render_rendition_task(self, rendition_id: int) -> str:  # noqa: ANN001 - Celery's bound task
    """Render one rendition; a temporary engine failure is retried after the service's back-off.

    The retry budget is counted on the rendition (its render attempts), not by Celery, so a task the
    sweep queued again continues the count. The claim names this worker and task: a redelivery of this
    message, or this worker starting again, takes it over at once (it died).
    """
    from broadcast.services.rendering import RetryLater, render_rendition

    try:
        rendition = render_rendition(rendition_id, task_id=self.request.id or "", worker=self.request.hostname or "",
                                     final_attempt=None)
    except RetryLater as exc:
        raise self.retry(exc=exc, countdown=exc.countdown) from exc
    return rendition.status


@shared_task(name="loa.requeue_stale_renditions")
def requeue_stale_renditions_task() -> int:
    from broadcast.services.rendering import requeue_stale_renditions

    return requeue_stale_renditions()
