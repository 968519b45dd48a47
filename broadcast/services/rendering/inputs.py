"""What a rendition is made from: the speakable text (checked against the renderer's limit), the engine,
voice and processing settings that key it, so the same input is synthesized once."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from broadcast.models import AudioRendition, BulletinRevision
from broadcast.selectors.bulletins import lexicon_overrides

from .claims import _pending_again

log = logging.getLogger(__name__)


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
    return RenderProfile(
        engine=config.engine, voice=voice or config.voice, settings_key=_render_settings(config).cache_key()
    )


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
