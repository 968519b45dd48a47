"""Sending an emergency: the immediate schedule of an approved emergency bulletin, made once.

A second click, a reload of the confirmation or another supervisor's tab must not send twice: under a
lock on the bulletin's row, a live immediate schedule of the same bulletin made within the last minute
is answered instead of a new one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from broadcast.models import Bulletin, Schedule
from broadcast.selectors.emergency import recent_duplicate
from broadcast.services.schedules import create_schedule

DUPLICATE_WINDOW = dt.timedelta(minutes=1)


@dataclass
class Sent:
    schedule: Schedule
    created: bool  # False: the same emergency had just been sent, this is that one


def just_sent(bulletin: Bulletin) -> Schedule | None:
    """The live emergency of this bulletin sent within the duplicate window, if any."""
    return recent_duplicate(bulletin, within=DUPLICATE_WINDOW)


def send_emergency(bulletin: Bulletin, *, by: Any, targets: dict[str, Any]) -> Sent:
    """Sends now (see create_schedule's errors: ScheduleConflict, ScheduleValidationError), unless the
    same bulletin was sent within the last minute."""
    with transaction.atomic():
        # Two requests for the same bulletin queue here; the second then finds the first's schedule.
        Bulletin.objects.select_for_update().filter(pk=bulletin.pk).first()
        existing = just_sent(bulletin)
        if existing is not None:
            return Sent(existing, created=False)
        schedule = create_schedule(bulletin, by=by, start_date=None, end_date=None, slots=[], targets=targets,
                                   immediate=True)
    return Sent(schedule, created=True)
