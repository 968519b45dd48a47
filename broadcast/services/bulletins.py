"""The editorial workflow: draft → in_review → approved → archived, and in_review → rejected → draft.

Rules (ARCHITECTURE.md): a submitted revision is frozen; editing an approved bulletin opens a new
draft revision while the approved one keeps airing; the approver is never the author; approval
binds the exact audio (the rendition's sha256); every transition is recorded.

Errors are WorkflowError subclasses carrying an HTTP-like status and Vietnamese messages, so the
API maps them 1:1 and other callers (demo data, simulator) get plain exceptions.
"""

from __future__ import annotations

from typing import Any, BinaryIO

from django.db import transaction
from django.utils import timezone

from broadcast.audio.errors import (
    AudioValidationError,
    SpeakableTextError,
    TextTooLongError,
    UnknownVoiceError,
)
from broadcast.models import AudioRendition, Bulletin, BulletinRevision, BulletinTransition
from broadcast.services import rendering
from broadcast.signals import live_revision_changed

__all__ = [
    "Forbidden",
    "InvalidInput",
    "StateConflict",
    "WorkflowError",
    "approve",
    "archive",
    "attach_recording",
    "create_bulletin",
    "delete_draft",
    "edit_bulletin",
    "reject",
    "retry_audio",
    "submit",
    "withdraw",
]

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


__all__ += ["TooLarge"]

_STATUS_LABEL = dict(S.choices)


def _conflict(bulletin: Bulletin, action: str) -> StateConflict:
    return StateConflict(
        f"Không thể {action} bản tin đang ở trạng thái “{_STATUS_LABEL[bulletin.status]}”.", code="invalid_state"
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
    """The renderer's text limit, measured as it measures it (the spoken form), while the editor can fix it."""
    try:
        rendering.speakable_for(title, body)
    except TextTooLongError as exc:
        raise InvalidInput(str(exc), code=exc.code, field="body") from exc


def _validate_voice(voice: str) -> None:
    try:
        rendering.check_voice(voice)
    except UnknownVoiceError as exc:
        raise InvalidInput(str(exc), code=exc.code, field="voice") from exc


def _record(bulletin: Bulletin, revision: BulletinRevision, from_status: str, to_status: str, by: Any,
            comment: str = "") -> BulletinTransition:
    return BulletinTransition.objects.create(
        bulletin=bulletin, revision=revision, from_status=from_status, to_status=to_status, by=by,
        at=timezone.now(), comment=comment,
    )


def _locked(bulletin: Bulletin) -> Bulletin:
    """Re-read the bulletin under a row lock; every transition runs inside this."""
    return Bulletin.objects.select_for_update(of=("self",)).select_related("current_revision").get(pk=bulletin.pk)


def _announce_live_change(bulletin_id: int) -> None:
    transaction.on_commit(lambda: live_revision_changed.send(sender=Bulletin, bulletin_id=bulletin_id))


def create_bulletin(
    author: Any, title: str, body: str, category: str = Bulletin.Category.OTHER,
    priority: str = Bulletin.Priority.NORMAL, voice: str = "",
) -> Bulletin:
    """A new draft bulletin with its first revision."""
    _validate_text(title, body)
    _validate_choice("category", category, Bulletin.Category, "Chuyên mục")
    _validate_choice("priority", priority, Bulletin.Priority, "Mức ưu tiên")
    _validate_speech(title, body)
    _validate_voice(voice)
    title = title.strip()
    with transaction.atomic():
        bulletin = Bulletin.objects.create(
            title=title, category=category, priority=priority, voice=voice, author=author, status=S.DRAFT
        )
        revision = BulletinRevision.objects.create(
            bulletin=bulletin, number=1, title=title, body=body, category=category, priority=priority,
            voice=voice, created_by=author,
        )
        bulletin.current_revision = revision
        bulletin.save(update_fields=["current_revision", "updated_at"])
        _record(bulletin, revision, "", S.DRAFT, author)
    return bulletin


def _new_revision(bulletin: Bulletin, base: BulletinRevision, by: Any) -> BulletinRevision:
    return BulletinRevision.objects.create(
        bulletin=bulletin, number=base.number + 1, title=base.title, body=base.body,
        category=base.category or bulletin.category, priority=base.priority or bulletin.priority,
        voice=base.voice, created_by=by,
        # A recording stays with the text it was made for; speech is re-derived on submit.
        rendition=base.rendition if base.rendition and base.rendition.source == AudioRendition.Source.RECORDING
        else None,
    )


def _check_editable(bulletin: Bulletin, by: Any, action: str) -> None:
    """Only the author changes a bulletin, and only while it is a draft, rejected or approved."""
    if bulletin.author_id != getattr(by, "pk", None):
        raise Forbidden("Chỉ tác giả được sửa bản tin này.", code="not_author")
    if bulletin.status not in (S.DRAFT, S.REJECTED, S.APPROVED):
        raise _conflict(bulletin, action)


def _editable_revision(bulletin: Bulletin, by: Any, action: str) -> BulletinRevision:
    """The revision the author may change now: the unsubmitted draft, or a new one (from rejected or
    approved). Raises for other states and other users."""
    _check_editable(bulletin, by, action)
    current = bulletin.current_revision
    if bulletin.status == S.DRAFT and current.submitted_at is None:
        return current
    previous = bulletin.status
    revision = _new_revision(bulletin, current, by)
    bulletin.current_revision = revision
    bulletin.status = S.DRAFT
    bulletin.save(update_fields=["current_revision", "status", "updated_at"])
    _record(bulletin, revision, previous, S.DRAFT, by, "Mở phiên bản mới để sửa.")
    return revision


def edit_bulletin(bulletin: Bulletin, by: Any, **changes: Any) -> Bulletin:
    """The author changes title/body/category/priority/voice of a draft, rejected or approved bulletin.

    An approved bulletin gets a new draft revision; its approved revision keeps airing (and its
    bulletin-level fields keep their approved values) until the new one is approved.
    """
    allowed = {"title", "body", "category", "priority", "voice"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(f"Không sửa được trường {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
    changes = {k: v for k, v in changes.items() if v is not None}
    if "category" in changes:
        _validate_choice("category", changes["category"], Bulletin.Category, "Chuyên mục")
    if "priority" in changes:
        _validate_choice("priority", changes["priority"], Bulletin.Priority, "Mức ưu tiên")
    if "voice" in changes:
        _validate_voice(changes["voice"])
    with transaction.atomic():
        bulletin = _locked(bulletin)
        current = bulletin.current_revision
        new_title = changes.get("title", current.title)
        new_body = changes.get("body", current.body)
        _validate_text(new_title, new_body)
        if "title" in changes or "body" in changes:
            _validate_speech(new_title, new_body)
        if not any(getattr(current, k) != v for k, v in changes.items()):
            _check_editable(bulletin, by, "sửa")  # the same answer as a real edit would get
            return bulletin  # nothing changes: no new revision
        revision = _editable_revision(bulletin, by, "sửa")
        for field, value in changes.items():
            setattr(revision, field, value.strip() if field == "title" else value)
        dropped = None
        if "body" in changes and revision.rendition_id and changes["body"] != current.body:
            dropped = revision.rendition_id
            revision.rendition = None  # a recording of the old text no longer matches
        revision.save()
        rendering.discard_unused_recording(dropped)
        if bulletin.live_revision_id is None:
            # Nothing airs yet, so the bulletin shows (and filters by) what is being written.
            bulletin.title, bulletin.category = revision.title, revision.category
            bulletin.priority, bulletin.voice = revision.priority, revision.voice
            bulletin.save(update_fields=["title", "category", "priority", "voice", "updated_at"])
    return bulletin


def submit(bulletin: Bulletin, by: Any) -> Bulletin:
    """draft → in_review: freezes the revision and starts rendering its audio."""
    with transaction.atomic():
        bulletin = _locked(bulletin)
        if bulletin.author_id != getattr(by, "pk", None):
            raise Forbidden("Chỉ tác giả được gửi duyệt bản tin này.", code="not_author")
        if bulletin.status != S.DRAFT:
            raise _conflict(bulletin, "gửi duyệt")
        revision = bulletin.current_revision
        rendition = revision.rendition
        if rendition is None or rendition.source != AudioRendition.Source.RECORDING:
            _validate_voice(revision.voice or bulletin.voice)  # the configured engine may have changed
            try:
                rendition = rendering.ensure_tts_rendition(revision)
            except SpeakableTextError as exc:
                raise InvalidInput(str(exc), code=exc.code, field="body") from exc
        revision.rendition = rendition
        revision.submitted_at = timezone.now()
        revision.save(update_fields=["rendition", "submitted_at"])
        bulletin.status = S.IN_REVIEW
        bulletin.save(update_fields=["status", "updated_at"])
        _record(bulletin, revision, S.DRAFT, S.IN_REVIEW, by)
        if rendition.status == AudioRendition.Status.PENDING:
            rendering.enqueue_render(rendition.pk)
    return bulletin


def withdraw(bulletin: Bulletin, by: Any, comment: str = "") -> Bulletin:
    """in_review → draft: the author takes the bulletin back before an approver decides (recorded)."""
    with transaction.atomic():
        bulletin = _locked(bulletin)
        if not bulletin.is_author(by):
            raise Forbidden("Chỉ tác giả được rút bản tin khỏi hàng chờ duyệt.", code="not_author")
        if not bulletin.can_withdraw(by):
            raise _conflict(bulletin, "rút lại")
        _record(bulletin, bulletin.current_revision, S.IN_REVIEW, S.DRAFT, by, (comment or "").strip())
        bulletin.status = S.DRAFT
        bulletin.save(update_fields=["status", "updated_at"])
    return bulletin


def delete_draft(bulletin: Bulletin, by: Any) -> None:
    """The author deletes a draft that was never submitted, with its revisions and history."""
    with transaction.atomic():
        bulletin = _locked(bulletin)
        if not bulletin.is_author(by):
            raise Forbidden("Chỉ tác giả được xóa bản nháp này.", code="not_author")
        if not bulletin.can_delete(by):
            if bulletin.status == S.DRAFT:
                raise StateConflict("Không thể xóa bản tin đã gửi duyệt; hãy lưu trữ nếu không dùng nữa.",
                                    code="was_submitted")
            raise _conflict(bulletin, "xóa")
        Bulletin.objects.filter(pk=bulletin.pk).update(current_revision=None)  # PROTECT, like the trail's links
        recordings = list(BulletinRevision.objects.filter(bulletin=bulletin, rendition__isnull=False)
                          .values_list("rendition_id", flat=True).distinct())  # fmt: skip
        BulletinTransition.objects.filter(bulletin=bulletin).delete()
        BulletinRevision.objects.filter(bulletin=bulletin).delete()
        Bulletin.objects.filter(pk=bulletin.pk).delete()
        for rendition_id in recordings:
            rendering.discard_unused_recording(rendition_id)


def _check_four_eyes(bulletin: Bulletin, by: Any, action: str) -> None:
    uid = getattr(by, "pk", None)
    if uid in (bulletin.author_id, bulletin.current_revision.created_by_id):
        raise Forbidden(f"Người viết không được tự {action} bản tin của mình.", code="own_bulletin")


def approve(bulletin: Bulletin, by: Any, comment: str = "") -> Bulletin:
    """in_review → approved: binds the revision's ready audio (sha256) and makes it the live revision."""
    with transaction.atomic():
        bulletin = _locked(bulletin)
        if bulletin.status != S.IN_REVIEW:
            raise _conflict(bulletin, "duyệt")
        _check_four_eyes(bulletin, by, "duyệt")
        revision = bulletin.current_revision
        rendition = (
            AudioRendition.objects.select_for_update().get(pk=revision.rendition_id) if revision.rendition_id else None
        )
        if rendition is None or rendition.status != AudioRendition.Status.READY or not rendition.sha256:
            state = dict(AudioRendition.Status.choices).get(rendition.status, "") if rendition else "chưa có"
            raise StateConflict(
                f"Âm thanh chưa sẵn sàng (trạng thái: {state}); hãy nghe bản âm thanh trước khi duyệt.",
                code="audio_not_ready",
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
        bulletin.save(update_fields=["status", "live_revision", "title", "category", "priority", "voice",
                                     "updated_at"])
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


def attach_recording(bulletin: Bulletin, by: Any, upload: BinaryIO, size: int | None = None) -> Bulletin:
    """The author replaces speech synthesis with a recorded voice for the revision being written.

    The file is validated now and processed (loudness, jingle, MP3) by the render task; on submit the
    revision keeps this recording instead of synthesizing its text. Copying and probing the file happen
    before the transaction, so the bulletin's lock (on SQLite: the database's) never waits on them.
    """
    _check_editable(bulletin, by, "thêm bản ghi âm cho")  # refuse before reading the file; again under the lock
    try:
        received = rendering.receive_recording(upload, size=size)
    except AudioValidationError as exc:
        if exc.too_large:
            raise TooLarge(str(exc), code=exc.code, field="file") from exc
        raise InvalidInput(str(exc), code=exc.code, field="file") from exc
    try:
        with transaction.atomic():
            bulletin = _locked(bulletin)
            revision = _editable_revision(bulletin, by, "thêm bản ghi âm cho")
            rendition = rendering.store_recording(received)
            replaced = revision.rendition_id if revision.rendition_id != rendition.pk else None
            revision.rendition = rendition
            revision.save(update_fields=["rendition"])
            rendering.discard_unused_recording(replaced)  # a superseded upload leaves no files behind
            if rendition.status == AudioRendition.Status.PENDING:
                rendering.enqueue_render(rendition.pk)
    finally:
        received.discard()  # already moved into place unless something failed
    return bulletin


def retry_audio(bulletin: Bulletin, by: Any) -> Bulletin:
    """Render the current revision's audio again: failed (e.g. after a TTS outage), or stuck in rendering
    (its worker died, or it runs well past its expected time), so an emergency never waits for a sweep."""
    with transaction.atomic():
        bulletin = _locked(bulletin)
        rendition_id = bulletin.current_revision.rendition_id
        rendition = AudioRendition.objects.select_for_update().get(pk=rendition_id) if rendition_id else None
        now = timezone.now()
        if rendition is not None and rendition.status == AudioRendition.Status.RENDERING \
                and not rendition.can_retry(now):
            raise StateConflict(
                "Bản âm thanh đang được xử lý; chỉ xử lý lại được khi bộ xử lý ngừng hoạt động hoặc quá "
                "thời gian dự kiến.", code="audio_rendering",
            )
        if rendition is None or not rendition.can_retry(now) or not rendering.retry_rendition(rendition):
            raise StateConflict("Chỉ xử lý lại được bản âm thanh bị lỗi hoặc bị treo.", code="audio_not_failed")
    return bulletin
