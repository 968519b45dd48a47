"""Speech engines behind one interface: speakable text + voice -> WAV bytes.

Engines are registered by name (``get_engine``); ``chain`` tries several in order and records
why the earlier ones failed. ``espeak`` works offline and is the default fallback; ``gtts`` needs
Google Translate's TTS endpoint (unreachable from Loa's servers today; tests use a local server).

One module per concern: ``base`` (the interface, ``Attempt``), ``espeak``, ``google`` (gTTS) and
``chain``; the registry is here, and everything public is imported from this package.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..errors import (
    AllEnginesFailedError,
    EngineError,
    EngineTimeoutError,
    EngineUnavailableError,
    TemporaryEngineError,
    UnknownEngineError,
    UnknownVoiceError,
)
from .base import Attempt, SpeechEngine, supports_voice
from .chain import ChainEngine, first_that_works
from .espeak import EspeakEngine
from .google import GTTSEngine

__all__ = [
    "AllEnginesFailedError",
    "Attempt",
    "ChainEngine",
    "EngineError",
    "EngineTimeoutError",
    "EngineUnavailableError",
    "EspeakEngine",
    "GTTSEngine",
    "SpeechEngine",
    "TemporaryEngineError",
    "UnknownEngineError",
    "UnknownVoiceError",
    "available_engines",
    "first_that_works",
    "get_engine",
    "register_engine",
    "supports_voice",
]


# --------------------------------------------------------------------------------------------------
# registry

EngineFactory = Callable[..., SpeechEngine]
_REGISTRY: dict[str, EngineFactory] = {}


def register_engine(name: str, factory: EngineFactory) -> None:
    """Make an engine available to ``get_engine`` (plugins: a neural engine, a test double)."""
    _REGISTRY[name] = factory


def available_engines() -> list[str]:
    return sorted(_REGISTRY)


def _make_chain(
    *, engines: Sequence[str | SpeechEngine] = ("gtts", "espeak"), engine_options: dict | None = None
) -> ChainEngine:
    engine_options = engine_options or {}
    built: list[SpeechEngine] = []
    for item in engines:
        if isinstance(item, str):
            if item == "chain":
                raise UnknownEngineError("Chuỗi bộ đọc không thể chứa chính nó.", engine="chain")
            built.append(get_engine(item, **engine_options.get(item, {})))
        else:
            built.append(item)
    return ChainEngine(built)


register_engine("espeak", EspeakEngine)
register_engine("gtts", GTTSEngine)
register_engine("chain", _make_chain)


def get_engine(name: str, **options: Any) -> SpeechEngine:
    """Build the engine registered as ``name`` ("gtts", "espeak", "chain", plugins)."""
    factory = _REGISTRY.get(name)
    if factory is None:
        raise UnknownEngineError(
            f"Không có bộ đọc '{name}' (các bộ đọc có: {', '.join(available_engines())}).", engine=name
        )
    try:
        return factory(**options)
    except TypeError as exc:
        raise UnknownEngineError(f"Tùy chọn không hợp lệ cho bộ đọc '{name}': {exc}.", engine=name) from None
