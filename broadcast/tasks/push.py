"""Celery tasks of push delivery: each takes ids and calls one service; all safe to run twice."""

from __future__ import annotations

import dataclasses

from celery import shared_task
from django.db import IntegrityError, OperationalError

__all__ = ["escalate_emergencies_task", "push_emergency_task"]


@shared_task(name="broadcast.push_emergency", autoretry_for=(IntegrityError, OperationalError),
             retry_backoff=1, max_retries=5)
def push_emergency_task(schedule_id: int) -> dict:
    from ..services.push import push_emergency

    return dataclasses.asdict(push_emergency(schedule_id))


@shared_task(name="broadcast.escalate_emergencies")
def escalate_emergencies_task() -> dict:
    """Beat, every PUSH_ESCALATION_SECONDS."""
    from ..services.push import escalate

    return dataclasses.asdict(escalate())
