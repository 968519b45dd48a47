"""The author's side: create, edit (a new revision once submitted), submit (freezes it and starts its
audio), withdraw from review, delete a draft never submitted."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from broadcast.audio.errors import (
    SpeakableTextError,
)
from broadcast.models import AudioRendition, Bulletin, BulletinRevision, BulletinTransition
from broadcast.services import rendering

from .common import (
    Forbidden,
    InvalidInput,
    S,
    StateConflict,
    _conflict,
    _locked,
    _record,
    _validate_choice,
    _validate_speech,
    _validate_text,
    _validate_voice,
)


def create_bulletin(
    author: Any,
    title: str,
    body: str,
    category: str = Bulletin.Category.OTHER,
    priority: str = Bulletin.Priority.NORMAL,
    voice: str = "",
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
            bulletin=bulletin,
            number=1,
            title=title,
            body=body,
            category=category,
            priority=priority,
            voice=voice,
            created_by=author,
        )
        bulletin.current_revision = revision
        bulletin.save(update_fields=["current_revision", "updated_at"])
        _record(bulletin, revision, "", S.DRAFT, author)
    return bulletin


def _new_revision(bulletin: Bulletin, base: BulletinRevision, by: Any) -> BulletinRevision:
    return BulletinRevision.objects.create(
        bulletin=bulletin,
        number=base.number + 1,
        title=base.title,
        body=base.body,
        category=base.category or bulletin.category,
        priority=base.priority or bulletin.priority,
        voice=base.voice,
        created_by=by,
        # A recording stays with the text it was made for; speech is re-derived on submit.
        rendition=base.rendition
        if base.rendition and base.rendition.source == AudioRendition.Source.RECORDING
        else None,
    )


def _check_editable(bulletin: Bulletin, by: Any, action: str) -> None:
    """Only the author changes a bulletin, and only while it is a draft, rejected or approved."""
    if not bulletin.is_author(by):
        raise Forbidden("Chỉ tác giả được sửa bản tin này.", code="not_author")
    if not bulletin.is_editable():
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
        if not bulletin.is_author(by):
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
                raise StateConflict(
                    "Không thể xóa bản tin đã gửi duyệt; hãy lưu trữ nếu không dùng nữa.",
                    code="was_submitted",
                )
            raise _conflict(bulletin, "xóa")
        Bulletin.objects.filter(pk=bulletin.pk).update(
            current_revision=None
        )  # PROTECT, like the trail's links
        recordings = list(BulletinRevision.objects.filter(bulletin=bulletin, rendition__isnull=False)
                          .values_list("rendition_id", flat=True).distinct())  # fmt: skip
        BulletinTransition.objects.filter(bulletin=bulletin).delete()
        BulletinRevision.objects.filter(bulletin=bulletin).delete()
        Bulletin.objects.filter(pk=bulletin.pk).delete()
        for rendition_id in recordings:
            rendering.discard_unused_recording(rendition_id)
