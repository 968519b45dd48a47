"""Celery task of the retention policy (beat: nightly); safe to run twice."""

from __future__ import annotations

from celery import shared_task

__all__ = ["prune_retention_task"]


@shared_task(name="broadcast.prune_retention")
def prune_retention_task() -> dict[str, int]:
    from ..services.retention import prune

    return prune().counts
