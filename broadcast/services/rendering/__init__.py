"""Audio renditions of bulletin revisions: dedup by input key, claim, render, record the result.

One rendition per (source, text_hash, engine, voice, settings_key): the same speakable text with the
same engine, voice and processing settings is synthesized once, whoever asks for it. Rendering runs
in a Celery task (`broadcast.tasks.rendering`), which calls `render_rendition`; it is safe to run
twice: only one caller can claim a rendition, and a ready rendition is never rendered again.

By concern: `inputs` (what is rendered, the limits an editor can still fix), `claims` (who renders it,
heartbeats, take-over, retries, the sweep), `run` (rendering one claimed rendition), `recordings`
(uploads).
"""

from __future__ import annotations

from broadcast.audio.errors import SpeakableTextError

from .claims import (
    claim,
    enqueue_render,
    heartbeat,
    mark_failed,
    release_worker_claims,
    requeue_stale_renditions,
    reset_failed,
    retry_rendition,
)
from .inputs import (
    RECORDING_ENGINE,
    RenderProfile,
    _audio_config,
    _get_or_create,
    check_voice,
    ensure_tts_rendition,
    render_profile,
    speakable_for,
)
from .recordings import ReceivedRecording, discard_unused_recording, receive_recording, store_recording
from .run import RetryLater, render_rendition

__all__ = [
    "RECORDING_ENGINE",
    "ReceivedRecording",
    "RenderProfile",
    "RetryLater",
    "SpeakableTextError",
    "_audio_config",
    "_get_or_create",
    "check_voice",
    "claim",
    "discard_unused_recording",
    "enqueue_render",
    "ensure_tts_rendition",
    "heartbeat",
    "mark_failed",
    "receive_recording",
    "release_worker_claims",
    "render_profile",
    "render_rendition",
    "requeue_stale_renditions",
    "reset_failed",
    "retry_rendition",
    "speakable_for",
    "store_recording",
]
