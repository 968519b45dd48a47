"""Google Translate's TTS through gTTS: timeouts, bounded retries, MP3 checked and decoded to WAV."""

from __future__ import annotations

import base64
import io
import re
import time
from collections.abc import Callable

import requests

from .. import segments
from ..errors import (
    EngineError,
    EngineTimeoutError,
    EngineUnavailableError,
    RenderError,
    TemporaryEngineError,
    ToolMissingError,
)
from .base import _check_voice

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
