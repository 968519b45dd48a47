"""Speech engines behind one interface: speakable text + voice -> WAV bytes.

Engines are registered by name (``get_engine``); ``chain`` tries several in order and records
why the earlier ones failed. ``espeak`` works offline and is the default fallback; ``gtts`` needs
Google Translate's TTS endpoint (unreachable from Loa's servers today; tests use a local server).
"""

from __future__ import annotations

import base64
import io
import re
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import requests

from . import segments
from .errors import (
    AllEnginesFailedError,
    EngineError,
    EngineTimeoutError,
    EngineUnavailableError,
    RenderError,
    TemporaryEngineError,
    ToolMissingError,
    UnknownEngineError,
    UnknownVoiceError,
)
from .tools import resolve_tool

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
]


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


# --------------------------------------------------------------------------------------------------
# espeak-ng


class EspeakEngine:
    """espeak-ng via subprocess: offline, fast, robotic but intelligible."""

    name = "espeak"
    voices: tuple[str, ...] = ("vi", "vi-vn-x-central", "vi-vn-x-south")
    batch_chars = 600  # several sentences per process (start-up cost), ~30 s of audio (memory)
    max_parallel = 2

    def __init__(
        self,
        *,
        binary: str = "espeak-ng",
        rate: int = 165,
        pitch: int = 50,
        timeout: float = 60.0,
        voices: Sequence[str] | None = None,
    ) -> None:
        if not 80 <= int(rate) <= 450:
            raise ValueError("espeak rate must be between 80 and 450 words per minute")
        if not 0 <= int(pitch) <= 99:
            raise ValueError("espeak pitch must be between 0 and 99")
        self.binary = binary
        self.rate = int(rate)
        self.pitch = int(pitch)
        self.timeout = float(timeout)
        if voices is not None:
            self.voices = tuple(voices)

    def command(self, voice: str) -> list[str]:
        # -b 1: input is UTF-8 whatever the locale; --stdin: text never appears in `ps`.
        return [self.binary, "-v", voice, "-s", str(self.rate), "-p", str(self.pitch), "-b", "1",
                "--stdin", "--stdout"]  # fmt: skip

    def synthesize(self, text: str, voice: str) -> bytes:
        _check_voice(self, voice)
        if not text.strip():
            raise EngineError("Không có văn bản để đọc.", engine=self.name, code="empty_text")
        try:
            exe = resolve_tool(self.binary)
        except ToolMissingError:
            raise EngineUnavailableError(
                f"Không tìm thấy chương trình '{self.binary}' (espeak-ng chưa được cài đặt).", engine=self.name
            ) from None
        cmd = self.command(voice)
        cmd[0] = exe
        try:
            proc = subprocess.run(
                cmd, input=text.encode("utf-8"), capture_output=True, timeout=self.timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise EngineTimeoutError(
                f"espeak-ng không trả lời sau {self.timeout:g} giây.", engine=self.name
            ) from None
        except OSError as exc:
            raise EngineUnavailableError(f"Không chạy được espeak-ng: {exc}.", engine=self.name) from None
        stderr = proc.stderr.decode("utf-8", "replace").strip()
        if proc.returncode != 0:
            how = f"tín hiệu {-proc.returncode}" if proc.returncode < 0 else f"mã {proc.returncode}"
            raise EngineError(
                f"espeak-ng dừng bất thường ({how}){': ' + stderr if stderr else ''}.",
                engine=self.name,
                code="engine_crashed",
            )
        if "does not exist" in stderr:
            raise UnknownVoiceError(f"espeak-ng không có giọng '{voice}'.", engine=self.name)
        if len(proc.stdout) <= 44 or proc.stdout[:4] != b"RIFF":
            raise EngineError(
                f"espeak-ng không tạo ra âm thanh{': ' + stderr if stderr else ''}.",
                engine=self.name,
                code="bad_engine_output",
            )
        return proc.stdout


# --------------------------------------------------------------------------------------------------
# gTTS


_GTTS_PATH = "_/TranslateWebserverUi/data/batchexecute"
_GTTS_AUDIO_RE = re.compile(r'jQ1olc","\[\\"(.*)\\"]')


class GTTSEngine:
    """Google Translate TTS through gTTS, made safe for a server.

    gTTS builds the requests (tokenising at ~100 characters, packaging the RPC); sending is ours,
    so that every request has a timeout (gTTS's default waits forever), network errors and HTTP
    429/5xx are retried a bounded number of times with exponential backoff, and everything else
    is one clear error. MP3 answers are checked by ffprobe and decoded to WAV with pydub.
    """

    name = "gtts"
    voices: tuple[str, ...] = ("vi",)
    batch_chars = 400
    max_parallel = 1  # Google throttles parallel clients with 429

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        connect_timeout: float | None = None,
        retries: int = 2,
        backoff: float = 1.0,
        max_backoff: float = 10.0,
        tld: str = "com.vn",
        base_url: str | None = None,
        slow: bool = False,
        ffmpeg_binary: str = "ffmpeg",
        ffprobe_binary: str = "ffprobe",
        decode_timeout: float = 60.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if timeout <= 0:
            raise ValueError("gtts timeout must be positive")
        if retries < 0:
            raise ValueError("gtts retries must be >= 0")
        self.timeout = (float(connect_timeout or timeout), float(timeout))
        self.retries = int(retries)
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self.tld = tld
        self.base_url = base_url.rstrip("/") if base_url else None
        self.slow = slow
        self.ffmpeg_binary = ffmpeg_binary  # kept for configuration compatibility; pydub runs ffmpeg
        self.ffprobe_binary = ffprobe_binary
        self.decode_timeout = decode_timeout
        self.session = session
        self.sleep = sleep

    # the HTTP part -------------------------------------------------------------------------------

    def _prepared_requests(self, text: str) -> list[requests.PreparedRequest]:
        try:
            from gtts import gTTS
        except ImportError:  # pragma: no cover - gTTS is a declared dependency
            raise EngineUnavailableError("Chưa cài gói gTTS.", engine=self.name) from None
        tts = gTTS(text, lang="vi", tld=self.tld, slow=self.slow, lang_check=False)
        prepared = tts._prepare_requests()  # noqa: SLF001 - gTTS offers no public builder
        if self.base_url:
            for pr in prepared:
                pr.prepare_url(f"{self.base_url}/{_GTTS_PATH}", None)
        return prepared

    def _send(self, session: requests.Session, pr: requests.PreparedRequest) -> bytes:
        settings = session.merge_environment_settings(pr.url, {}, None, None, None)
        response = session.send(pr, timeout=self.timeout, allow_redirects=False, proxies=settings["proxies"])
        status = response.status_code
        if status == 429 or status >= 500:
            retry_after = response.headers.get("Retry-After", "")
            err = TemporaryEngineError(f"Máy chủ Google TTS trả lời HTTP {status}.", engine=self.name)
            err.retry_after = float(retry_after) if retry_after.replace(".", "", 1).isdigit() else None
            raise err
        if status != 200:
            raise EngineError(
                f"Máy chủ Google TTS từ chối yêu cầu (HTTP {status}).", engine=self.name, code="engine_rejected"
            )
        audio = bytearray()
        for line in response.text.splitlines():
            if "jQ1olc" in line:
                found = _GTTS_AUDIO_RE.search(line)
                if not found:
                    raise EngineError(
                        "Google TTS trả lời nhưng không có âm thanh.", engine=self.name, code="bad_engine_output"
                    )
                audio += base64.b64decode(found.group(1))
        if not audio:
            raise EngineError(
                "Google TTS trả lời nhưng không có âm thanh.", engine=self.name, code="bad_engine_output"
            )
        return bytes(audio)

    def _fetch_once(self, text: str) -> bytes:
        session = self.session or requests.Session()
        try:
            return b"".join(self._send(session, pr) for pr in self._prepared_requests(text))
        except requests.Timeout:
            raise EngineTimeoutError(
                f"Google TTS không trả lời sau {self.timeout[1]:g} giây.", engine=self.name
            ) from None
        except requests.RequestException as exc:
            raise TemporaryEngineError(
                f"Không kết nối được tới Google TTS ({type(exc).__name__}).", engine=self.name
            ) from None
        finally:
            if self.session is None:
                session.close()

    def fetch_mp3(self, text: str) -> bytes:
        """MP3 bytes for ``text``, with bounded retries on temporary failures."""
        for attempt in range(self.retries + 1):
            try:
                return self._fetch_once(text)
            except TemporaryEngineError as exc:
                if attempt == self.retries:
                    if self.retries:
                        exc.args = (f"{exc} (đã thử {self.retries + 1} lần)",)
                    raise
                delay = getattr(exc, "retry_after", None) or self.backoff * (2**attempt)
                self.sleep(min(delay, self.max_backoff))
        raise AssertionError("unreachable")  # pragma: no cover

    def synthesize(self, text: str, voice: str) -> bytes:
        _check_voice(self, voice)
        if not text.strip():
            raise EngineError("Không có văn bản để đọc.", engine=self.name, code="empty_text")
        mp3 = self.fetch_mp3(text)
        return self.decode_mp3(mp3)

    def decode_mp3(self, mp3: bytes) -> bytes:
        """Google's MP3 answer -> mono 16-bit WAV, decoded by pydub.

        ffprobe checks the bytes first, with a timeout; pydub (whose ffmpeg call has none) then
        decodes only an MP3 already known to be one, from memory, with the demuxer and decoder
        forced, so it reads nothing but this one bounded buffer (see ``segments``).
        """
        what = "Giải mã âm thanh từ Google TTS"
        try:
            info = segments.probe(mp3, ffprobe=self.ffprobe_binary, timeout=self.decode_timeout, what=what)
            if info["audio"].get("codec_name") != "mp3":
                raise RenderError(f"{what}: không phải MP3.", code="not_audio")
            audio = segments.decode_validated(mp3, {**info, "format": {"format_name": "mp3"}},
                                              int(info["audio"].get("sample_rate") or 24000), what=what)  # fmt: skip
        except ToolMissingError as exc:
            raise EngineUnavailableError(str(exc), engine=self.name) from None
        except RenderError as exc:
            raise EngineError(str(exc), engine=self.name, code="bad_engine_output") from None
        buf = io.BytesIO()
        audio.export(buf, format="wav")  # pydub writes WAV itself, no ffmpeg involved
        return buf.getvalue()


# --------------------------------------------------------------------------------------------------
# chain


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
