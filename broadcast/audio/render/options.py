"""What a render is asked for and what it returns: processing settings (their cache key), input
limits, the result."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from ..engines import Attempt

PIPELINE_VERSION = "1"  # bump when the processing changes what comes out for the same settings
_BLOCK = 64  # limiter/true-peak block, samples
_CHUNK = 1 << 16  # streaming chunk, samples
_FS = 32768.0


@dataclass(frozen=True)
class RenderSettings:
    """How audio is processed. Everything that changes the output is part of ``cache_key``."""

    target_lufs: float = -16.0
    true_peak_dbtp: float = -1.0
    sample_rate: int = 22050
    bitrate: str = "64k"
    channels: int = 1
    lead_silence_ms: int = 300
    tail_silence_ms: int = 700
    sentence_gap_ms: int = 300
    jingle_gap_ms: int = 250
    intro_jingle: Path | None = None
    outro_jingle: Path | None = None
    use_default_chime: bool = True
    jingle_level_lu: float = -4.0  # jingles sit this much below the speech
    limiter_margin_db: float = 1.5  # headroom for MP3 encoding overshoot; verified afterwards
    sentence_max_chars: int = 300
    # operational knobs: do not change the audio, so not in cache_key
    ffmpeg_binary: str = field(default="ffmpeg", compare=False)
    ffprobe_binary: str = field(default="ffprobe", compare=False)
    tool_timeout_s: float = field(default=600.0, compare=False)
    workers: int = field(default=2, compare=False)

    def __post_init__(self) -> None:
        if self.channels not in (1, 2):
            raise ValueError("channels must be 1 or 2")
        if not 8000 <= self.sample_rate <= 48000:
            raise ValueError("sample_rate must be between 8000 and 48000")
        if not -40.0 <= self.target_lufs <= -5.0:
            raise ValueError("target_lufs must be between -40 and -5")
        if not -10.0 <= self.true_peak_dbtp <= 0.0:
            raise ValueError("true_peak_dbtp must be between -10 and 0")
        if not str(self.bitrate).rstrip("k").isdigit():
            raise ValueError("bitrate must look like '64k'")

    def processing_dict(self) -> dict:
        data = {k: v for k, v in asdict(self).items() if k not in _OPERATIONAL}
        data["intro_jingle"] = _file_fingerprint(self.intro_jingle)
        data["outro_jingle"] = _file_fingerprint(self.outro_jingle)
        data["pipeline"] = PIPELINE_VERSION
        return data

    def cache_key(self) -> str:
        """Stable hash of the processing settings (jingles by content), for rendition dedup."""
        blob = json.dumps(self.processing_dict(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:32]


_OPERATIONAL = {"ffmpeg_binary", "ffprobe_binary", "tool_timeout_s", "workers"}


def _file_fingerprint(path: Path | None) -> str | None:
    if path is None:
        return None
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        return f"missing:{p}"
    return _hash_file_cached(str(p), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=32)
def _hash_file_cached(path: str, size: int, mtime_ns: int) -> str:
    return _sha256_file(Path(path))


@dataclass(frozen=True)
class RenderLimits:
    """Input limits: bad input fails before any work is done."""

    max_text_chars: int = 20_000
    max_upload_bytes: int = 50 * 1024 * 1024
    min_recording_s: float = 1.0
    max_recording_s: float = 1800.0
    # Decoding cost grows with channels × rate × duration: a tiny FLAC of 30 minutes of 7.1-channel 192 kHz
    # silence would cost seconds of CPU. Refused from the probe, before any decoding; the decoder also
    # runs under a CPU-time limit for what the probe cannot see.
    max_recording_channels: int = 2
    max_recording_rate: int = 48_000
    decode_cpu_s: float = 60.0


@dataclass(frozen=True)
class RenderResult:
    path: Path
    sha256: str
    duration_ms: int
    size_bytes: int
    loudness_lufs: float
    true_peak_dbtp: float
    engine: str
    voice: str
    attempts: list[Attempt]
    cache_key: str = ""
    sample_rate: int = 22050
    bitrate: str = "64k"
    render_seconds: float = 0.0
    waveform: list[int] = field(default_factory=list)  # peaks of the file, 0–100 (render/waveform.py)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["path"] = str(self.path)
        data["attempts"] = [a.as_dict() for a in self.attempts]
        return data


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
