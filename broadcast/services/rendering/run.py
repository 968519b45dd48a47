"""Rendering one claimed rendition: the audio pipeline, then the result or the failure recorded while the
claim still holds."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from broadcast.audio.errors import (
    AudioError,
    AudioValidationError,
    EngineError,
    TemporaryEngineError,
)
from broadcast.models import AudioRendition

from .claims import _Heartbeat, _own_claim, claim, mark_failed
from .inputs import _audio_config, _render_settings
from .recordings import _recording_upload_path

log = logging.getLogger(__name__)


class RetryLater(TemporaryEngineError):
    """A temporary engine failure with retries left: the task retries after `countdown` seconds."""

    def __init__(self, cause: EngineError, countdown: int) -> None:
        super().__init__(str(cause), engine=cause.engine, code=cause.code)
        self.countdown = countdown


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
        waveform=list(getattr(result, "waveform", None) or []),
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


def render_rendition(
    rendition_id: int, *, task_id: str = "", worker: str = "", final_attempt: bool | None = True
) -> AudioRendition:
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
        status=AudioRendition.Status.PENDING,
        error=str(exc)[:2000],
        claimed_by="",
        heartbeat_at=None,
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
        result = audio_render.render_recording(
            source, out_path, settings=render_settings, limits=config.limits
        )
        source.unlink(missing_ok=True)
        return result
    engine = config.build_engine(rendition.engine)
    return audio_render.render_speech(
        rendition.speakable_text,
        out_path,
        engine=engine,
        voice=rendition.voice,
        settings=render_settings,
        limits=config.limits,
    )
