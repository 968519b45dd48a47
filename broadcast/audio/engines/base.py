"""The engine interface: what the renderer needs from a speech engine, one attempt's record, voice checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from ..errors import UnknownVoiceError


@runtime_checkable
class SpeechEngine(Protocol):
    """What the renderer needs. Optional attributes: ``voices`` (tuple of names), ``batch_chars``
    (how much text one call should carry) and ``max_parallel`` (concurrent calls allowed)."""

    name: str

    def synthesize(self, text: str, voice: str) -> bytes:  # WAV bytes
        ...


@dataclass(frozen=True)
class Attempt:
    """One engine's try at a text: which engine, whether it produced the audio, and why not."""

    engine: str
    voice: str
    ok: bool
    error: str = ""
    code: str = ""
    temporary: bool = False
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "voice": self.voice,
            "ok": self.ok,
            "error": self.error,
            "code": self.code,
            "temporary": self.temporary,
            "seconds": round(self.seconds, 3),
        }


def supports_voice(engine: SpeechEngine, voice: str) -> bool:
    voices = getattr(engine, "voices", None)
    return voices is None or voice in voices


def _check_voice(engine: SpeechEngine, voice: str) -> None:
    if not supports_voice(engine, voice):
        voices = ", ".join(getattr(engine, "voices", ()))
        raise UnknownVoiceError(
            f"Giọng đọc '{voice}' không có trong bộ đọc '{engine.name}' (các giọng có: {voices}).",
            engine=engine.name,
        )
