"""Exceptions of the speech and audio engine.

Messages are in Vietnamese because editors see them in the API and the admin; every exception
also carries a stable English ``code`` for programs (API error payloads, logs, tests).
"""

from __future__ import annotations


class AudioError(Exception):
    """Base class: one clear problem, a Vietnamese message and a machine-readable code."""

    code: str = "audio_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self)


# --- text ----------------------------------------------------------------------------------------


class SpeakableTextError(AudioError, ValueError):
    """The bulletin text cannot be turned into speech."""

    code = "invalid_text"


class EmptyTextError(SpeakableTextError):
    code = "empty_text"

    def __init__(self) -> None:
        super().__init__("Văn bản trống: không có nội dung để đọc.")


class NoSpeakableTextError(SpeakableTextError):
    code = "no_speakable_text"

    def __init__(self) -> None:
        super().__init__("Văn bản không có chữ nào đọc được (chỉ có dấu câu, ký hiệu hoặc khoảng trắng).")


class TextTooLongError(SpeakableTextError):
    code = "text_too_long"

    def __init__(self, length: int, maximum: int, *, spoken: bool = False) -> None:
        self.length = length
        self.maximum = maximum
        if spoken:  # what the engine reads: numbers, abbreviations and dates written out in words
            super().__init__(
                f"Văn bản quá dài khi đọc thành lời (số, chữ viết tắt, ngày tháng được đọc thành chữ): {length} ký tự,"
                f" tối đa cho phép {maximum} ký tự. Hãy rút gọn nội dung."
            )
        else:
            super().__init__(f"Văn bản quá dài: {length} ký tự, tối đa cho phép {maximum} ký tự.")


# --- engines -------------------------------------------------------------------------------------


class EngineError(AudioError):
    """A speech engine failed. ``temporary`` says whether retrying later may succeed."""

    code = "engine_error"
    temporary: bool = False

    def __init__(
        self,
        message: str,
        *,
        engine: str = "",
        code: str | None = None,
        temporary: bool | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.engine = engine
        if temporary is not None:
            self.temporary = temporary


class TemporaryEngineError(EngineError):
    """Network trouble, throttling, a timeout: the same request may work later."""

    code = "engine_temporary"
    temporary = True


class EngineTimeoutError(TemporaryEngineError):
    code = "engine_timeout"


class EngineUnavailableError(EngineError):
    """The engine cannot run here at all (missing binary, missing package)."""

    code = "engine_unavailable"


class UnknownEngineError(EngineError, ValueError):
    code = "unknown_engine"


class UnknownVoiceError(EngineError, ValueError):
    code = "unknown_voice"


class AllEnginesFailedError(EngineError):
    """Every engine of a chain failed; ``attempts`` lists each failure."""

    code = "all_engines_failed"

    def __init__(self, message: str, *, attempts: list, temporary: bool) -> None:
        super().__init__(message, engine="chain", temporary=temporary)
        self.attempts = attempts


# --- audio processing ----------------------------------------------------------------------------


class ToolMissingError(AudioError):
    """ffmpeg/ffprobe (or another external program) is not installed or not on PATH."""

    code = "tool_missing"


class RenderError(AudioError):
    """Audio processing failed for a reason other than bad input."""

    code = "render_error"


class AudioValidationError(AudioError, ValueError):
    """An uploaded recording is unusable. ``too_large`` lets the API answer 413 instead of 400."""

    code = "invalid_audio"

    def __init__(self, message: str, *, code: str = "invalid_audio", too_large: bool = False) -> None:
        super().__init__(message, code=code)
        self.too_large = too_large
