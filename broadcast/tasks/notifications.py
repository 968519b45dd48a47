"""Celery task of the newsroom's notifications: loads the workflow step by id; safe to run twice."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

__all__ = ["notify_transition_task"]


# A mail server that is down or refuses for a while: try again later (what was sent is not sent again).
@shared_task(name="broadcast.notify_transition", autoretry_for=(SMTPException, OSError), retry_backoff=30,
             max_retries=8)
def notify_transition_task(transition_id: int) -> int:
    from ..services.notifications import notify_transition

    return notify_transition(transition_id)
