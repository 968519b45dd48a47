"""Audio renditions of bulletin revisions: dedup by input key, claim, render, record the result.

One rendition per (source, text_hash, engine, voice, settings_key): the same speakable text with the
same engine, voice and processing settings is synthesized once, whoever asks for it. Rendering runs
in a Celery task (`broadcast.tasks.rendering`), which calls `render_rendition`; it is safe to run
twice: only one caller can claim a rendition, and a ready rendition is never rendered again.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError, Q
from django.utils import timezone

from broadcast.audio.errors import (
    AudioError,
    AudioValidationError,
    EngineError,
    SpeakableTextError,
    TemporaryEngineError,
)
from broadcast.models import AudioRendition, BulletinRevision
from broadcast.selectors.bulletins import lexicon_overrides

log = logging.getLogger(__name__)

__all__ = [
    "RenderProfile",
    "RetryLater",
    "check_voice",
    "claim",
    "discard_unused_recording",
    "enqueue_render",
    "heartbeat",
    "ensure_tts_rendition",
    "ReceivedRecording",
    "mark_failed",
    "receive_recording",
    "render_profile",
    "render_rendition",
    "requeue_stale_renditions",
    "release_worker_claims",
    "reset_failed",
    "retry_rendition",
    "speakable_for",
    "store_recording",
]

RECORDING_ENGINE = "recording"


@dataclass(frozen=True)
class RenderProfile:
    engine: str
    voice: str
    settings_key: str


def _audio_config() -> Any:
    from broadcast.audio.config import AudioConfig

    return AudioConfig.from_django_settings()


def _render_settings(config: Any) -> Any:
    return config.render_settings()


def render_profile(voice: str = "") -> RenderProfile:
    """The engine, voice and processing-settings key that a new rendition would use now."""
    config = _audio_config()
    return RenderProfile(engine=config.engine, voice=voice or config.voice,
                         settings_key=_render_settings(config).cache_key())


def speakable_for(title: str, body: str) -> str:
    """What the engine reads: the title, a pause, then the body, with the lexicon applied.

    Raises SpeakableTextError (Vietnamese message) when there is nothing to read or too much.
    """
    from broadcast.audio.errors import TextTooLongError
    from broadcast.audio.normalize import speakable_text

    limit = _audio_config().limits.max_text_chars
    text = f"{title.strip()}.\n\n{body}" if title.strip() else body
    speakable = speakable_text(text, lexicon_overrides(), max_chars=limit)  # the written text first: cheap
    if len(speakable) > limit:  # the renderer measures what it reads
        raise TextTooLongError(len(speakable), limit, spoken=True)
    return speakable


def check_voice(voice: str) -> None:
    """Raises UnknownVoiceError (Vietnamese message) when the configured engine has no such voice.
    Blank means the default voice."""
    from broadcast.audio.engines import supports_voice
    from broadcast.audio.errors import UnknownVoiceError

    if not voice:
        return
    config = _audio_config()
    engine = config.build_engine(config.engine)
    if not supports_voice(engine, voice):
        voices = ", ".join(getattr(engine, "voices", ()))
        raise UnknownVoiceError(
            f"Giọng đọc “{voice}” không có trong bộ đọc “{config.engine}” (các giọng có: {voices}).",
            engine=config.engine,
        )


def _get_or_create(key: dict[str, str], defaults: dict[str, Any]) -> AudioRendition:
    """get_or_create that survives the race where two requests insert the same key at once."""
    try:
        with transaction.atomic():
            rendition, _ = AudioRendition.objects.get_or_create(**key, defaults=defaults)
    except IntegrityError:
        rendition = AudioRendition.objects.get(**key)
    return rendition


def ensure_tts_rendition(revision: BulletinRevision) -> AudioRendition:
    """The rendition of this revision's speakable text, created (pending) if it does not exist yet.

    A rendition that failed before is reset to pending, so submitting again retries it.
    """
    speakable = speakable_for(revision.title, revision.body)
    profile = render_profile(revision.voice or revision.bulletin.voice)
    key = {
        "source": AudioRendition.Source.TTS,
        "text_hash": hashlib.sha256(speakable.encode("utf-8")).hexdigest(),
        "engine": profile.engine,
        "voice": profile.voice,
        "settings_key": profile.settings_key,
    }
    rendition = _get_or_create(key, {"speakable_text": speakable})
    _pending_again(rendition)  # the caller queues it, as any pending rendition
    return rendition


def _pending_again(rendition: AudioRendition) -> bool:
    """A failed rendition back to pending (with a fresh retry budget), not queued. True when this call
    moved it."""
    if rendition.status != AudioRendition.Status.FAILED:
        return False
    updated = AudioRendition.objects.filter(pk=rendition.pk, status=AudioRendition.Status.FAILED).update(
        status=AudioRendition.Status.PENDING, error="", render_attempts=0
    )
    if updated:
        rendition.status, rendition.error, rendition.render_attempts = AudioRendition.Status.PENDING, "", 0
    return bool(updated)


def reset_failed(rendition: AudioRendition) -> bool:
    """Put a failed rendition back in the queue. True when it was failed (and is now pending)."""
    if not _pending_again(rendition):
        return False
    enqueue_render(rendition.pk)
    return True


def retry_rendition(rendition: AudioRendition) -> bool:
    """A person asks again for a failed rendition or one stuck in rendering (`AudioRendition.can_retry`):
    back to pending with a fresh retry budget, the old claim dropped (a worker that still holds it can no
    longer write its result), and queued. False when its state changed meanwhile."""
    if not rendition.can_retry(timezone.now()):
        return False
    updated = AudioRendition.objects.filter(
        pk=rendition.pk, status=rendition.status, claimed_by=rendition.claimed_by
    ).update(status=AudioRendition.Status.PENDING, error="", render_attempts=0, claimed_by="", heartbeat_at=None)
    if updated:
        enqueue_render(rendition.pk)
    return bool(updated)


def enqueue_render(rendition_id: int) -> None:
    """Queue the render task once the surrounding transaction commits."""
    from broadcast.tasks.rendering import render_rendition_task

    AudioRendition.objects.filter(pk=rendition_id).update(queued_at=timezone.now())
    transaction.on_commit(lambda: render_rendition_task.delay(rendition_id))


class RetryLater(TemporaryEngineError):
    """A temporary engine failure with retries left: the task retries after `countdown` seconds."""

    def __init__(self, cause: EngineError, countdown: int) -> None:
        super().__init__(str(cause), engine=cause.engine, code=cause.code)
        self.countdown = countdown


def claim(rendition_id: int, task_id: str = "", worker: str = "") -> AudioRendition | None:
    """Atomically move a claimable rendition (`AudioRendition.claimable`) to rendering, owned by `task_id`
    (a fresh token without one) on `worker` (the Celery node name). None if someone else has it, or if
    it is ready.

    A rendition whose workers died on it more often than the retry limit is failed instead (a text that
    kills the worker must not take it down forever).
    """
    now = timezone.now()
    with transaction.atomic():
        rendition = (AudioRendition.objects.select_for_update()
                     .filter(AudioRendition.claimable(now, task_id), pk=rendition_id).first())  # fmt: skip
        if rendition is None:
            return None
        if (rendition.status != AudioRendition.Status.FAILED
                and rendition.render_attempts > settings.BULLETIN_RENDER_MAX_RETRIES):
            rendition.status = AudioRendition.Status.FAILED
            rendition.error = "Quá trình xử lý âm thanh bị dừng đột ngột nhiều lần; hãy thử lại hoặc rút gọn nội dung."
            rendition.finished_at, rendition.claimed_by, rendition.heartbeat_at = now, "", None
            rendition.save(update_fields=["status", "error", "finished_at", "claimed_by", "heartbeat_at"])
            return None
        rendition.status = AudioRendition.Status.RENDERING
        rendition.started_at = rendition.heartbeat_at = now
        rendition.claimed_by = AudioRendition.claim_owner(worker, task_id or str(uuid.uuid4()))
        rendition.render_attempts += 1
        rendition.error = ""
        rendition.save(update_fields=["status", "started_at", "heartbeat_at", "claimed_by", "render_attempts",
                                      "error"])
    return rendition


def _own_claim(rendition: AudioRendition) -> Any:
    """The rendition's row while `rendition` still holds the claim (an ousted worker changes nothing)."""
    return AudioRendition.objects.filter(
        pk=rendition.pk, status=AudioRendition.Status.RENDERING, claimed_by=rendition.claimed_by
    )


def heartbeat(rendition: AudioRendition) -> bool:
    """Say the claim's worker is alive. False when the claim was lost (taken over, retried, finished)."""
    return bool(_own_claim(rendition).update(heartbeat_at=timezone.now()))


class _Heartbeat:
    """Refreshes the claim from a thread while the render runs (synthesis and ffmpeg hold no Python
    lock for long), so a claim that stops being refreshed means its worker died."""

    def __init__(self, rendition: AudioRendition) -> None:
        self.rendition = rendition
        self.interval = float(settings.BULLETIN_RENDER_HEARTBEAT_SECONDS)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"render-heartbeat-{rendition.pk}", daemon=True)

    def _run(self) -> None:
        try:
            while not self.stop.wait(self.interval):
                if not heartbeat(self.rendition):
                    return
        except Exception:  # a database hiccup: the claim may time out, the render goes on
            log.warning("heartbeat of rendition %s stopped", self.rendition.pk, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def _output_path(rendition: AudioRendition) -> tuple[Path, str]:
    relative = f"audio/{rendition.text_hash[:2]}/{rendition.text_hash[:24]}-r{rendition.pk}.mp3"
    return Path(settings.MEDIA_ROOT) / relative, relative


def _finish(rendition: AudioRendition, result: Any, relative: str) -> AudioRendition:
    attempts = [a.as_dict() if hasattr(a, "as_dict") else a for a in (result.attempts or [])]
    _own_claim(rendition).update(
        status=AudioRendition.Status.READY,
        file=relative,
        sha256=result.sha256,
        duration_ms=result.duration_ms,
        size_bytes=result.size_bytes,
        loudness_lufs=result.loudness_lufs,
        true_peak_dbtp=result.true_peak_dbtp,
        engine_used=result.engine or "",
        engine_attempts=_jsonable(attempts),
        error="",
        finished_at=timezone.now(),
        claimed_by="",
        heartbeat_at=None,
    )
    rendition.refresh_from_db()
    return rendition


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def mark_failed(rendition_id: int, error: str, *, claimed_by: str | None = None) -> None:
    """Failed with the editor's message; with `claimed_by`, only while that claim still holds it."""
    rows = AudioRendition.objects.filter(pk=rendition_id).exclude(status=AudioRendition.Status.READY)
    if claimed_by is not None:
        rows = rows.filter(status=AudioRendition.Status.RENDERING, claimed_by=claimed_by)
    rows.update(status=AudioRendition.Status.FAILED, error=error[:2000], finished_at=timezone.now(), claimed_by="",
                heartbeat_at=None)


def render_rendition(rendition_id: int, *, task_id: str = "", worker: str = "",
                     final_attempt: bool | None = True) -> AudioRendition:
    """Render one rendition if it still needs it; returns it in its resulting state.

    A temporary engine problem (including every engine of a chain failing temporarily) puts it back to
    `pending` and raises RetryLater (a TemporaryEngineError) with the back-off, unless this is the final
    attempt, where it is marked `failed`. `final_attempt=None` lets the rendition's own attempt count decide
    (BULLETIN_RENDER_MAX_RETRIES), so re-queued tasks never get a fresh budget. Any other audio error marks
    it `failed` with the (Vietnamese) message for the editor.
    """
    rendition = claim(rendition_id, task_id, worker)
    if rendition is None:
        return AudioRendition.objects.get(pk=rendition_id)
    out_path, relative = _output_path(rendition)
    try:
        with _Heartbeat(rendition):
            result = _render(rendition, out_path)
    except AudioError as exc:
        if isinstance(exc, EngineError) and exc.temporary:
            _temporary_failure(rendition, exc, final_attempt)  # raises RetryLater unless final
        else:
            log.warning("rendition %s failed: %s", rendition.pk, exc)
            mark_failed(rendition.pk, str(exc), claimed_by=rendition.claimed_by)
        rendition.refresh_from_db()
        return rendition
    except Exception as exc:  # an unexpected bug must not leave the rendition stuck in "rendering"
        log.exception("rendition %s crashed", rendition.pk)
        mark_failed(rendition.pk, f"Lỗi hệ thống khi xử lý âm thanh: {exc}", claimed_by=rendition.claimed_by)
        raise
    return _finish(rendition, result, relative)


def _temporary_failure(rendition: AudioRendition, exc: EngineError, final_attempt: bool | None) -> None:
    attempts = rendition.render_attempts
    if final_attempt is None:
        final_attempt = attempts > settings.BULLETIN_RENDER_MAX_RETRIES
    if final_attempt:
        mark_failed(rendition.pk, str(exc), claimed_by=rendition.claimed_by)
        return
    countdown = min(settings.BULLETIN_RENDER_RETRY_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0), 3600)
    _own_claim(rendition).update(
        status=AudioRendition.Status.PENDING, error=str(exc)[:2000], claimed_by="", heartbeat_at=None,
        queued_at=timezone.now() + timedelta(seconds=countdown),
    )
    raise RetryLater(exc, countdown) from exc


def _render(rendition: AudioRendition, out_path: Path) -> Any:
    from broadcast.audio import render as audio_render
    out_path.parent.mkdir(parents=True, exist_ok=True)
    config = _audio_config()
    render_settings = _render_settings(config)
    if rendition.source == AudioRendition.Source.RECORDING:
        source = _recording_upload_path(rendition)
        if not source.exists():
            raise AudioValidationError("Không tìm thấy tệp ghi âm đã tải lên.", code="recording_missing")
        result = audio_render.render_recording(source, out_path, settings=render_settings, limits=config.limits)
        source.unlink(missing_ok=True)
        return result
    engine = config.build_engine(rendition.engine)
    return audio_render.render_speech(
        rendition.speakable_text, out_path, engine=engine, voice=rendition.voice, settings=render_settings,
        limits=config.limits,
    )


# ------------------------------------------------------------------------------------------ recordings


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
        "settings_key": render_profile("").settings_key,
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


def release_worker_claims(worker: str) -> int:
    """A worker starting under the node name `worker` runs nothing yet, so every claim held under that name
    is from a previous life that died (SIGKILL, OOM, power): back to pending and queued at once, without
    waiting for the claim to time out. Returns how many."""
    if not worker:
        return 0
    held = AudioRendition.claimed_by_worker(worker)
    released = 0
    for rendition_id in AudioRendition.objects.filter(held).values_list("pk", flat=True):
        if AudioRendition.objects.filter(held, pk=rendition_id).update(
            status=AudioRendition.Status.PENDING, claimed_by="", heartbeat_at=None
        ):
            enqueue_render(rendition_id)
            released += 1
    if released:
        log.warning("worker %s restarted: %d render(s) it held queued again", worker, released)
    return released


def requeue_stale_renditions() -> int:
    """Re-queue renditions whose task was lost: `rendering` with a claim no longer refreshed (its worker
    died; the embedded SQLite broker never redelivers the message of a killed worker), or `pending` long
    after its task was due. A rendition waiting out a back-off is due only when the back-off ends, and its
    attempt count stays on the rendition, so the sweep never extends the retry limit."""
    now = timezone.now()
    due_before = now - timedelta(seconds=settings.BULLETIN_RENDER_REQUEUE_AFTER_SECONDS)
    claim_lost_before = now - timedelta(seconds=settings.BULLETIN_RENDER_CLAIM_TIMEOUT_SECONDS)
    lost_pending = Q(status=AudioRendition.Status.PENDING) & (
        Q(queued_at__lt=due_before) | Q(queued_at__isnull=True, created_at__lt=due_before)
    )
    # Once per claim timeout, not every sweep, while no worker takes it.
    abandoned = AudioRendition.abandoned_claims(now) & (Q(queued_at__isnull=True) | Q(queued_at__lt=claim_lost_before))
    ids = list(AudioRendition.objects.filter(lost_pending | abandoned).order_by("pk").values_list("pk", flat=True)[:500])
    if not ids:
        return 0
    AudioRendition.objects.filter(pk__in=ids).update(queued_at=now)
    from broadcast.tasks.rendering import render_rendition_task

    for rendition_id in ids:
        render_rendition_task.delay(rendition_id)
    return len(ids)


__all__ += ["SpeakableTextError"]
