"""Writes for schedules: create, edit and cancel (validated), the preview of a create or an edit (what
it would do, by the builder's own planner, nothing kept), and the targeted rebuilds they trigger."""

from __future__ import annotations

from .preview import Preview, preview_schedule, preview_update
from .rebuilds import rebuild_for_bulletin, rebuild_for_schedule, rebuild_for_stations
from .validation import (
    MAX_PLAYS_PER_SLOT,
    TARGET_KEYS,
    ScheduleConflict,
    ScheduleRequest,
    ScheduleValidationError,
    clean_request,
    validate_targets,
)
from .writes import cancel_schedule, create_schedule, update_schedule

__all__ = [
    "MAX_PLAYS_PER_SLOT",
    "TARGET_KEYS",
    "Preview",
    "ScheduleConflict",
    "ScheduleRequest",
    "ScheduleValidationError",
    "cancel_schedule",
    "clean_request",
    "create_schedule",
    "preview_schedule",
    "preview_update",
    "rebuild_for_bulletin",
    "rebuild_for_schedule",
    "rebuild_for_stations",
    "update_schedule",
    "validate_targets",
]
