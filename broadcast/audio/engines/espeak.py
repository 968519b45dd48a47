"""espeak-ng, run as a subprocess: the offline engine and the default fallback."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

from ..errors import (
    EngineError,
    EngineTimeoutError,
    EngineUnavailableError,
    ToolMissingError,
    UnknownVoiceError,
)
from ..tools import resolve_tool
from .base import _check_voice


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
