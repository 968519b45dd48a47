"""The audio of the revision being written: a recorded voice instead of synthesis, a retry of failed or
stuck audio."""

from __future__ import annotations

from typing import Any, BinaryIO

from django.db import transaction
from django.utils import timezone

from broadcast.audio.errors import (
    AudioValidationError,
)
from broadcast.models import AudioRendition, Bulletin
from broadcast.services import rendering

from .common import InvalidInput, StateConflict, TooLarge, _locked
from .drafting import _check_editable, _editable_revision


def attach_recording(bulletin: Bulletin, by: Any, upload: BinaryIO, size: int | None = None) -> Bulletin:
    """The author replaces speech synthesis with a recorded voice for the revision being written.

    The file is validated now and processed (loudness, jingle, MP3) by the render task; on submit the
    revision keeps this recording instead of synthesizing its text. Copying and probing the file happen
    before the transaction, so the bulletin's lock (on SQLite: the database's) never waits on them.
    """
    _check_editable(
        bulletin, by, "thêm bản ghi âm cho"
    )  # refuse before reading the file; again under the lock
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
        if (
            rendition is not None
            and rendition.status == AudioRendition.Status.RENDERING
            and not rendition.can_retry(now)
        ):
            raise StateConflict(
                "Bản âm thanh đang được xử lý; chỉ xử lý lại được khi bộ xử lý ngừng hoạt động hoặc quá "
                "thời gian dự kiến.",
                code="audio_rendering",
            )
        if rendition is None or not rendition.can_retry(now) or not rendering.retry_rendition(rendition):
            raise StateConflict(
                "Chỉ xử lý lại được bản âm thanh bị lỗi hoặc bị treo.", code="audio_not_failed"
            )
    return bulletin
