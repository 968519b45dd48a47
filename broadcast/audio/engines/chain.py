"""The fallback chain: engines tried in order, each attempt recorded."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from ..errors import AllEnginesFailedError, EngineError, UnknownVoiceError
from .base import Attempt, SpeechEngine, supports_voice


class ChainEngine:
    """Tries engines in order; the first that succeeds produces the audio.

    ``synthesize_with_report`` also says which engine spoke and why the earlier ones failed.
    The renderer uses ``engines`` directly so a long text is read by one voice from start to end.
    """

    name = "chain"

    def __init__(self, engines: Sequence[SpeechEngine]) -> None:
        if not engines:
            raise ValueError("a chain needs at least one engine")
        self.engines = list(engines)

    @property
    def voices(self) -> tuple[str, ...]:
        seen: list[str] = []
        for engine in self.engines:
            for v in getattr(engine, "voices", ()):
                if v not in seen:
                    seen.append(v)
        return tuple(seen)

    def synthesize_with_report(self, text: str, voice: str) -> tuple[bytes, str, list[Attempt]]:
        return first_that_works(self.engines, voice, lambda engine: engine.synthesize(text, voice))

    def synthesize(self, text: str, voice: str) -> bytes:
        return self.synthesize_with_report(text, voice)[0]


def first_that_works[T](
    engines: Sequence[SpeechEngine], voice: str, work: Callable[[SpeechEngine], T]
) -> tuple[T, str, list[Attempt]]:
    """``work(engine)`` with each engine in turn until one succeeds: (its result, its name, every attempt).

    Engines without ``voice`` are skipped; an ``EngineError`` moves on to the next engine.
    """
    attempts: list[Attempt] = []
    for engine in engines:
        if not supports_voice(engine, voice):
            attempts.append(Attempt(engine.name, voice, False, "giọng không hỗ trợ", "unknown_voice"))
            continue
        started = time.monotonic()
        try:
            result = work(engine)
        except EngineError as exc:
            attempts.append(
                Attempt(engine.name, voice, False, str(exc), exc.code, exc.temporary, time.monotonic() - started)
            )
            continue
        attempts.append(Attempt(engine.name, voice, True, seconds=time.monotonic() - started))
        return result, engine.name, attempts
    raise _chain_failure(voice, attempts)


def _chain_failure(voice: str, attempts: list[Attempt]) -> EngineError:
    if all(a.code == "unknown_voice" for a in attempts):
        return UnknownVoiceError(f"Không bộ đọc nào có giọng '{voice}'.", engine="chain")
    summary = "; ".join(f"{a.engine}: {a.error}" for a in attempts)
    return AllEnginesFailedError(
        f"Tất cả bộ đọc đều lỗi — {summary}",
        attempts=attempts,
        temporary=any(a.temporary for a in attempts),
    )
