"""Text to a broadcast-ready MP3."""

from __future__ import annotations

import time
from pathlib import Path

from ..engines import SpeechEngine
from ..errors import (
    EmptyTextError,
    NoSpeakableTextError,
    TextTooLongError,
)
from ..normalize import split_sentences
from ..tools import resolve_tool
from .assembly import (
    _assemble,
    _speech_segments,
)
from .encoding import _produce
from .options import RenderLimits, RenderResult, RenderSettings
from .synthesis import _synthesize


def render_speech(
    speakable: str,
    out_path: Path,
    *,
    engine: SpeechEngine,
    voice: str,
    settings: RenderSettings,
    limits: RenderLimits | None = None,
) -> RenderResult:
    """Synthesize ``speakable`` (output of ``speakable_text``) into a normalized MP3 at ``out_path``.

    Raises a ``SpeakableTextError`` for bad text, an ``EngineError`` subclass when synthesis fails
    (``AllEnginesFailedError`` for a chain, with ``attempts``), ``ToolMissingError`` /
    ``RenderError`` for processing problems. Nothing is left at ``out_path`` on failure.
    """
    started = time.monotonic()
    limits = limits or RenderLimits()
    if speakable is None or not speakable.strip():
        raise EmptyTextError()
    if len(speakable) > limits.max_text_chars:
        raise TextTooLongError(len(speakable), limits.max_text_chars)
    sentences = split_sentences(speakable, settings.sentence_max_chars)
    if not sentences:
        raise NoSpeakableTextError()
    resolve_tool(settings.ffmpeg_binary)
    pieces, used, attempts = _synthesize(engine, voice, sentences, settings)
    program, spans = _assemble(_speech_segments(pieces, settings), settings)
    del pieces
    return _produce(
        program, spans, out_path, settings, engine=used, voice=voice, attempts=attempts, started=started
    )
