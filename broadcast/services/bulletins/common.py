"""What every workflow step shares: its errors (an HTTP-like status and a Vietnamese message, so the API
maps them 1:1), input checks, the row lock and the audit trail."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from broadcast.audio.errors import (
    SpeakableTextError,
    UnknownVoiceError,
)
from broadcast.models import Bulletin, BulletinRevision, BulletinTransition
from broadcast.services import rendering
from broadcast.signals import live_revision_changed

S = Bulletin.Status


class WorkflowError(Exception):
    status_code = 409

    def __init__(self, message: str, *, code: str = "conflict", field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


class StateConflict(WorkflowError):
    """409: the bulletin is not in a state where this is possible."""

    status_code = 409


class Forbidden(WorkflowError):
    """403: this user may not do this to this bulletin (e.g. approving their own)."""

    status_code = 403


class InvalidInput(WorkflowError):
    """400 with a field name: the input itself is wrong."""

    status_code = 400


class TooLarge(WorkflowError):
    """413: an upload above the limit."""

    status_code = 413


_STATUS_LABEL = dict(S.choices)


def _conflict(bulletin: Bulletin, action: str) -> StateConflict:
    return StateConflict(
        f"Không thể {action} bản tin đang ở trạng thái “{_STATUS_LABEL[bulletin.status]}”.",
        code="invalid_state",
    )


def _validate_choice(field: str, value: str, choices: Any, label: str) -> None:
    if value not in choices.values:
        raise InvalidInput(f"{label} không hợp lệ: “{value}”.", code="invalid_choice", field=field)


def _validate_text(title: str, body: str) -> None:
    if not title or not title.strip():
        raise InvalidInput("Tiêu đề không được để trống.", code="blank", field="title")
    if len(title) > 300:
        raise InvalidInput("Tiêu đề tối đa 300 ký tự.", code="max_length", field="title")
    if not body or not body.strip():
        raise InvalidInput("Nội dung không được để trống.", code="blank", field="body")


def _validate_speech(title: str, body: str) -> None:
    """What the renderer refuses (too long once spoken, nothing speakable), checked while the editor can fix it."""
    try:
        rendering.speakable_for(title, body)
    except SpeakableTextError as exc:
        raise InvalidInput(str(exc), code=exc.code, field="body") from exc


def _validate_voice(voice: str) -> None:
    try:
        rendering.check_voice(voice)
    except UnknownVoiceError as exc:
        raise InvalidInput(str(exc), code=exc.code, field="voice") from exc


def _record(
    bulletin: Bulletin,
    revision: BulletinRevision,
    from_status: str,
    to_status: str,
    by: Any,
    comment: str = "",
) -> BulletinTransition:
    return BulletinTransition.objects.create(
        bulletin=bulletin,
        revision=revision,
        from_status=from_status,
        to_status=to_status,
        by=by,
        at=timezone.now(),
        comment=comment,
    )


def _locked(bulletin: Bulletin) -> Bulletin:
    """Re-read the bulletin under a row lock; every transition runs inside this."""
    return (
        Bulletin.objects.select_for_update(of=("self",))
        .select_related("current_revision")
        .get(pk=bulletin.pk)
    )


def _announce_live_change(bulletin_id: int) -> None:
    transaction.on_commit(lambda: live_revision_changed.send(sender=Bulletin, bulletin_id=bulletin_id))
