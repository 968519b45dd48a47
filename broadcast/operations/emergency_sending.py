"""Sending an emergency: the immediate schedule of an approved emergency bulletin, made once.

A second click, a reload of the confirmation or another supervisor's tab must not send twice: the page's
one-time token is spent in the session, and under a lock on the bulletin's row a live immediate schedule
of the same bulletin made within the last minute is answered instead of a new one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from broadcast.models import Bulletin, Schedule
from broadcast.selectors.emergency import recent_duplicate
from broadcast.services.schedules import create_schedule

SESSION_KEY = "loa_emergency_tokens"
MAX_TOKENS = 20


def issue_token(session: Any) -> str:
    token = secrets.token_urlsafe(18)
    tokens = [t for t in session.get(SESSION_KEY, []) if isinstance(t, str)][-(MAX_TOKENS - 1):]
    session[SESSION_KEY] = [*tokens, token]
    return token


def spend_token(session: Any, token: str) -> bool:
    """True once per issued token; False for an unknown, forged or already spent one."""
    tokens = session.get(SESSION_KEY, [])
    if not token or not isinstance(tokens, list) or token not in tokens:
        return False
    session[SESSION_KEY] = [t for t in tokens if t != token]
    return True


@dataclass
class Sent:
    schedule: Schedule
    created: bool  # False: the same emergency had just been sent, this is that one


def send_emergency(bulletin: Bulletin, *, by: Any, targets: dict[str, Any]) -> Sent:
    """Sends now (see create_schedule's errors: ScheduleConflict, ScheduleValidationError), unless the
    same bulletin was sent within the last minute."""
    with transaction.atomic():
        Bulletin.objects.select_for_update().filter(pk=bulletin.pk).first()
        existing = recent_duplicate(bulletin)
        if existing is not None:
            return Sent(existing, created=False)
        schedule = create_schedule(bulletin, by=by, start_date=None, end_date=None, slots=[], targets=targets,
                                   immediate=True)
    return Sent(schedule, created=True)
