"""The approver's side: approve (binds the exact audio, four eyes), reject with a reason, archive."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from broadcast.models import AudioRendition, Bulletin

from .common import (
    Forbidden,
    InvalidInput,
    S,
    StateConflict,
    _announce_live_change,
    _conflict,
    _locked,
    _record,
)


def _check_four_eyes(bulletin: Bulletin, by: Any, action: str) -> None:
    if bulletin.is_own_work(by):
        raise Forbidden(f"Người viết không được tự {action} bản tin của mình.", code="own_bulletin")


def approve(bulletin: Bulletin, by: Any, comment: str = "", heard_sha256: str | None = None) -> Bulletin:
    """in_review → approved: binds the revision's ready audio (sha256) and makes it the live revision.

    `heard_sha256`, when given, is the audio the approver listened to: if the revision's audio is no
    longer that file (rendered again, replaced), the approval is refused so nobody signs off unheard audio.
    """
    with transaction.atomic():
        bulletin = _locked(bulletin)
        if bulletin.status != S.IN_REVIEW:
            raise _conflict(bulletin, "duyệt")
        _check_four_eyes(bulletin, by, "duyệt")
        revision = bulletin.current_revision
        rendition = (
            AudioRendition.objects.select_for_update().get(pk=revision.rendition_id)
            if revision.rendition_id
            else None
        )
        if rendition is None or rendition.status != AudioRendition.Status.READY or not rendition.sha256:
            state = dict(AudioRendition.Status.choices).get(rendition.status, "") if rendition else "chưa có"
            raise StateConflict(
                f"Âm thanh chưa sẵn sàng (trạng thái: {state}); hãy nghe bản âm thanh trước khi duyệt.",
                code="audio_not_ready",
            )
        if heard_sha256 is not None and heard_sha256.strip().lower() != rendition.sha256:
            raise StateConflict(
                "Âm thanh của bản tin đã thay đổi kể từ lúc bạn nghe; hãy nghe lại bản âm thanh mới "
                "trước khi duyệt.",
                code="audio_changed",
            )
        now = timezone.now()
        revision.approved_by = by
        revision.approved_at = now
        revision.approved_sha256 = rendition.sha256
        revision.save(update_fields=["approved_by", "approved_at", "approved_sha256"])
        bulletin.status = S.APPROVED
        bulletin.live_revision = revision
        bulletin.title = revision.title
        bulletin.category = revision.category or bulletin.category
        bulletin.priority = revision.priority or bulletin.priority
        bulletin.voice = revision.voice
        bulletin.save(
            update_fields=["status", "live_revision", "title", "category", "priority", "voice", "updated_at"]
        )
        _record(bulletin, revision, S.IN_REVIEW, S.APPROVED, by, comment)
        _announce_live_change(bulletin.pk)
    return bulletin


def reject(bulletin: Bulletin, by: Any, comment: str) -> Bulletin:
    """in_review → rejected, with the reason (required). The author may then edit (→ draft)."""
    if not comment or not comment.strip():
        raise InvalidInput("Cần ghi lý do từ chối.", code="required", field="comment")
    with transaction.atomic():
        bulletin = _locked(bulletin)
        if bulletin.status != S.IN_REVIEW:
            raise _conflict(bulletin, "từ chối")
        _check_four_eyes(bulletin, by, "từ chối")
        _record(bulletin, bulletin.current_revision, S.IN_REVIEW, S.REJECTED, by, comment.strip())
        bulletin.status = S.REJECTED
        bulletin.save(update_fields=["status", "updated_at"])
    return bulletin


def archive(bulletin: Bulletin, by: Any, comment: str = "") -> Bulletin:
    """→ archived: the bulletin stops airing (its live revision is cleared) and cannot change again."""
    with transaction.atomic():
        bulletin = _locked(bulletin)
        if bulletin.status in (S.ARCHIVED, S.IN_REVIEW):
            raise _conflict(bulletin, "lưu trữ")
        was_live = bulletin.live_revision_id is not None
        _record(bulletin, bulletin.current_revision, bulletin.status, S.ARCHIVED, by, comment)
        bulletin.status = S.ARCHIVED
        bulletin.live_revision = None
        bulletin.save(update_fields=["status", "live_revision", "updated_at"])
        if was_live:
            _announce_live_change(bulletin.pk)
    return bulletin
