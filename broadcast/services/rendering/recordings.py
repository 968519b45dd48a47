"""Uploaded recordings: copied and probed at upload (outside transactions), stored under their checksum,
removed with their files once nothing refers to them."""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError

from broadcast.audio.errors import (
    AudioValidationError,
)
from broadcast.models import AudioRendition

from . import inputs
from .claims import _pending_again
from .inputs import RECORDING_ENGINE, _audio_config, _get_or_create, _render_settings

log = logging.getLogger(__name__)


def _recording_upload_path(rendition: AudioRendition) -> Path:
    return Path(settings.MEDIA_ROOT) / "uploads" / f"{rendition.text_hash}.bin"


@dataclass(frozen=True)
class ReceivedRecording:
    """An upload copied under MEDIA_ROOT/uploads and checked by ffprobe, not yet in the database."""

    path: Path
    sha256: str

    def discard(self) -> None:
        """Remove the copy if it is still there (store_recording moves it into place)."""
        self.path.unlink(missing_ok=True)


def receive_recording(upload: BinaryIO, *, size: int | None = None) -> ReceivedRecording:
    """Copy an uploaded recording to a temp file and validate it now (ffprobe, bounded by a timeout), so
    a file that is not audio, or too short or long, is refused at upload and nothing is stored; the heavy
    processing stays in the task. No database work: call it outside transactions (on SQLite a transaction
    holds the write lock of the whole database).

    Raises AudioValidationError (too_large=True above the audio limits' max_upload_bytes, LOA_AUDIO).
    """
    limit = _audio_config().limits.max_upload_bytes
    if size is not None and size > limit:
        raise AudioValidationError(_too_large_message(limit), code="too_large", too_large=True)
    uploads = Path(settings.MEDIA_ROOT) / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    total = 0
    with tempfile.NamedTemporaryFile(dir=uploads, prefix=".upload-", delete=False) as tmp:
        received = ReceivedRecording(Path(tmp.name), "")
        try:
            while chunk := upload.read(256 * 1024):
                total += len(chunk)
                if total > limit:
                    raise AudioValidationError(_too_large_message(limit), code="too_large", too_large=True)
                digest.update(chunk)
                tmp.write(chunk)
        except BaseException:
            received.discard()
            raise
    try:
        if total == 0:
            raise AudioValidationError("Tệp ghi âm trống.", code="empty_file")
        from broadcast.audio import render as audio_render

        config = _audio_config()
        audio_render.probe_audio(received.path, _render_settings(config), config.limits)
    except BaseException:
        received.discard()
        raise
    return ReceivedRecording(received.path, digest.hexdigest())


def store_recording(received: ReceivedRecording) -> AudioRendition:
    """The rendition of a received recording: ready if these bytes were processed before, else pending
    (not queued) with the file moved where the render task reads it."""
    key = {
        "source": AudioRendition.Source.RECORDING,
        "text_hash": received.sha256,
        "engine": RECORDING_ENGINE,
        "voice": "",
        "settings_key": inputs.render_profile("").settings_key,  # looked up at call time: tests replace it
    }
    rendition = _get_or_create(key, {})
    if rendition.status == AudioRendition.Status.READY:
        received.discard()
        return rendition
    shutil.move(received.path, _recording_upload_path(rendition))
    _pending_again(rendition)
    return rendition


def discard_unused_recording(rendition_id: int | None) -> bool:
    """A recording nothing refers to any more (replaced by a newer upload, or its text changed): its row
    goes now, its upload and MP3 once the transaction commits. Kept while any revision or playlist item
    refers to it (the same bytes uploaded for another bulletin, an approved revision). True when removed."""
    rendition = AudioRendition.objects.filter(pk=rendition_id, source=AudioRendition.Source.RECORDING).first()
    if rendition is None:
        return False
    files = [_recording_upload_path(rendition)]
    if rendition.file:
        files.append(Path(settings.MEDIA_ROOT) / rendition.file)
    try:
        with transaction.atomic():
            rendition.delete()
    except ProtectedError:
        return False

    def remove() -> None:
        for path in files:
            path.unlink(missing_ok=True)

    transaction.on_commit(remove)
    return True


def _too_large_message(limit: int) -> str:
    return f"Tệp ghi âm quá lớn: tối đa {limit // (1024 * 1024)} MB."
