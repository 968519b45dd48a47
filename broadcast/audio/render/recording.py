"""An uploaded recording to a broadcast-ready MP3: checked from its probe before any decoding, decoded
under a time and CPU limit, then processed like speech."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .. import segments
from ..errors import (
    AudioValidationError,
    RenderError,
    ToolMissingError,
)
from ..tools import resolve_tool, run_tool
from .assembly import (
    _assemble,
    _Segment,
)
from .encoding import _produce
from .options import RenderLimits, RenderResult, RenderSettings
from .synthesis import _band_limit

_MIN_PROBE_SCORE = 50


def probe_audio(source: Path, settings: RenderSettings, limits: RenderLimits) -> dict:
    """Check an upload is real audio within limits; return ffprobe's facts about it."""
    source = Path(source)
    try:
        size = source.stat().st_size
    except OSError:
        raise AudioValidationError("Không tìm thấy tệp ghi âm.", code="missing_file") from None
    if size > limits.max_upload_bytes:
        raise AudioValidationError(
            f"Tệp ghi âm quá lớn: {size / 1_048_576:.1f} MB, tối đa {limits.max_upload_bytes / 1_048_576:.0f} MB.",
            code="too_large",
            too_large=True,
        )
    if size == 0:
        raise AudioValidationError("Tệp ghi âm rỗng.", code="empty_file")
    # The same probe as jingles: it also refuses playlists (concat, HLS) that would make the decoder
    # read other files, such as other uploads beside this one.
    try:
        info = segments.probe(source, ffprobe=settings.ffprobe_binary, timeout=min(settings.tool_timeout_s, 60.0),
                              what="Đọc thông tin tệp ghi âm")  # fmt: skip
    except ToolMissingError:
        raise
    except RenderError as exc:
        if exc.code == "no_audio_stream":
            raise AudioValidationError("Tệp tải lên không có âm thanh.", code="not_audio") from None
        raise AudioValidationError(
            "Tệp tải lên không phải âm thanh hoặc đã bị hỏng.", code="not_audio"
        ) from None
    audio = info["audio"]
    # ffprobe guesses leniently: plain text probes as headerless AMR-WB with a weak score (26 for the
    # sample text in tests). Containers score 99-100 and raw MP3/ADTS 51, so require at least 50
    # (ffmpeg's AVPROBE_SCORE_EXTENSION, the certainty of a matching file extension).
    if int(info.get("format", {}).get("probe_score", 0) or 0) < _MIN_PROBE_SCORE:
        raise AudioValidationError("Tệp tải lên không phải âm thanh hoặc đã bị hỏng.", code="not_audio")
    duration = None
    for candidate in (info.get("format", {}).get("duration"), audio.get("duration")):
        try:
            duration = float(candidate)
            break
        except (TypeError, ValueError):
            continue
    if duration is not None:
        _check_duration(duration, limits)
    _check_format(audio, limits)
    return {"size_bytes": size, "duration_s": duration, "codec": audio.get("codec_name"),
            "format": info.get("format", {}).get("format_name")}  # fmt: skip


def _check_format(audio: dict, limits: RenderLimits) -> None:
    try:
        channels = int(audio.get("channels") or 0)
        rate = int(audio.get("sample_rate") or 0)
    except (TypeError, ValueError):
        raise AudioValidationError(
            "Tệp tải lên không phải âm thanh hoặc đã bị hỏng.", code="not_audio"
        ) from None
    if channels > limits.max_recording_channels:
        raise AudioValidationError(
            f"Bản ghi có {channels} kênh âm thanh, tối đa {limits.max_recording_channels} kênh (mono hoặc stereo).",
            code="too_many_channels",
        )
    if rate > limits.max_recording_rate:
        raise AudioValidationError(
            f"Tần số lấy mẫu {rate / 1000:g} kHz quá cao, tối đa {limits.max_recording_rate / 1000:g} kHz.",
            code="sample_rate_too_high",
        )


def _check_duration(duration: float, limits: RenderLimits) -> None:
    if duration < limits.min_recording_s:
        raise AudioValidationError(
            f"Bản ghi quá ngắn: {duration:.1f} giây, tối thiểu {limits.min_recording_s:g} giây.",
            code="too_short",
        )
    if duration > limits.max_recording_s:
        raise AudioValidationError(
            f"Bản ghi quá dài: {duration / 60:.1f} phút, tối đa {limits.max_recording_s / 60:g} phút.",
            code="too_long",
        )


def render_recording(
    source: Path,
    out_path: Path,
    *,
    settings: RenderSettings,
    limits: RenderLimits | None = None,
) -> RenderResult:
    """Validate an uploaded recording (any format ffmpeg reads), then process it like speech."""
    started = time.monotonic()
    limits = limits or RenderLimits()
    resolve_tool(settings.ffprobe_binary)
    resolve_tool(settings.ffmpeg_binary)
    probe_audio(source, settings, limits)
    # Uploads are decoded by our own ffmpeg call, not pydub's from_file: it has a timeout, and it
    # resamples and mixes down inside ffmpeg. pydub would decode at the source's rate and channels
    # and copy the result several times (a 30-minute 44.1 kHz stereo upload: >1 GB).
    try:
        raw = run_tool(
            [settings.ffmpeg_binary, "-v", "error", "-i", str(source), "-vn", "-ac", "1", "-ar",
             str(settings.sample_rate), "-t", str(limits.max_recording_s + 1), "-f", "s16le", "pipe:1"],
            timeout=settings.tool_timeout_s,
            what="Giải mã tệp ghi âm",
            cpu_seconds=limits.decode_cpu_s,
        )  # fmt: skip
    except RenderError as exc:
        if exc.code == "tool_cpu_limit":
            raise AudioValidationError(
                "Giải mã tệp ghi âm tốn quá nhiều thời gian xử lý; hãy tải lên bản MP3 hoặc WAV thông thường.",
                code="decode_too_costly",
            ) from None
        raise AudioValidationError("Tệp ghi âm bị hỏng, không giải mã được.", code="corrupt_audio") from None
    samples = np.frombuffer(raw, dtype="<i2")
    _check_duration(samples.size / settings.sample_rate, limits)
    piece = _prepare_piece_pcm(_band_limit(samples, settings.sample_rate))
    del raw, samples
    if piece.size == 0:
        raise AudioValidationError("Bản ghi chỉ có im lặng.", code="silent_audio")
    recording = segments.from_array(piece, settings.sample_rate)
    del piece
    program, spans = _assemble([_Segment(recording, "speech")], settings)
    del recording
    try:
        return _produce(
            program, spans, out_path, settings, engine="recording", voice="", attempts=[], started=started
        )
    except RenderError as exc:
        if exc.code == "silent_output":
            raise AudioValidationError("Bản ghi chỉ có im lặng.", code="silent_audio") from None
        raise


def _prepare_piece_pcm(samples: np.ndarray) -> np.ndarray:
    # Recordings keep their own pauses; only a DC offset (cheap recorders) is removed.
    if samples.size == 0:
        return samples
    offset = float(samples.mean())
    if abs(offset) > 1.0:
        samples = np.clip(np.rint(samples.astype(np.float32) - offset), -32768, 32767).astype(np.int16)
    if not np.any(np.abs(samples.astype(np.int32)) > 30):
        return np.zeros(0, dtype=np.int16)
    return samples
