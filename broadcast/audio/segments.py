"""pydub glue: the audio assembly layer (decoding files, silences, fades and crossfaded joins).

Every segment in the pipeline is 16-bit mono PCM at the output rate. numpy sees the same bytes
without a copy (``as_array``); pydub gets numpy results back through ``from_array``.

Timeouts: pydub runs ffmpeg/ffprobe without one. So pydub only ever decodes input that our own
ffprobe call (with a timeout) has already validated: a local file or an in-memory buffer of a known
single-file audio format, with the demuxer and decoder forced from the probe (``format``/``codec``;
passing ``codec`` also stops pydub from running its own, untimed ffprobe). Such a decode reads one
finite input and cannot wait on anything else, so it ends in time proportional to the input size,
which is bounded (jingles: ``MAX_JINGLE_S``; engine answers: one HTTP response).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
from pydub import AudioSegment
from pydub.exceptions import CouldntDecodeError

from .errors import RenderError
from .tools import run_tool
from .wav import resample_int16

MAX_JINGLE_S = 60.0
# Demuxers that read other files or URLs named inside the input: never handed to a decoder.
_INDIRECT_FORMATS = {"concat", "ffconcat", "hls", "applehttp", "dash", "image2", "lavfi", "tty", "sdp", "rtsp"}


def from_array(samples: np.ndarray, rate: int) -> AudioSegment:
    """int16 mono samples -> AudioSegment (one copy, into the segment's bytes)."""
    data = np.ascontiguousarray(samples, dtype="<i2").tobytes()
    return AudioSegment(data=data, sample_width=2, frame_rate=rate, channels=1)


def as_array(segment: AudioSegment) -> np.ndarray:
    """The segment's samples as a read-only int16 view (no copy). Mono 16-bit segments only."""
    if segment.sample_width != 2 or segment.channels != 1:
        segment = segment.set_sample_width(2).set_channels(1)
    return np.frombuffer(segment.raw_data, dtype="<i2")


def silence(ms: float, rate: int) -> AudioSegment:
    return AudioSegment.silent(duration=ms, frame_rate=rate).set_sample_width(2)


def frames(segment: AudioSegment) -> int:
    return len(segment.raw_data) // segment.frame_width


def to_output_format(segment: AudioSegment, rate: int) -> AudioSegment:
    """Any decoded segment -> 16-bit mono at ``rate``.

    Channels are mixed down by pydub; the rate change goes through scipy's polyphase resampler,
    because pydub's ``set_frame_rate`` (audioop.ratecv) has no anti-aliasing filter.
    """
    segment = segment.set_sample_width(2).set_channels(1)
    if segment.frame_rate == rate:
        return segment
    return from_array(resample_int16(as_array(segment), segment.frame_rate, rate), rate)


def join_with_silence(before_ms: float, piece: AudioSegment, after_ms: float, fade_ms: int) -> AudioSegment:
    """``before_ms`` of silence, ``piece``, ``after_ms`` of silence, crossfaded so neither edge
    clicks: pydub fades the piece in from the silence and out into the next one.

    The silences are lengthened by the crossfade, so the piece keeps its full length and the gaps
    their nominal one. Units built like this are laid end to end silence against silence, so a
    whole program needs no crossfade across pieces (pydub's append copies its whole left side,
    which would make joining hundreds of pieces quadratic).
    """
    rate = piece.frame_rate
    fade_ms = int(min(fade_ms, len(piece) // 2))
    if fade_ms <= 0:
        return silence(before_ms, rate) + piece + silence(after_ms, rate)
    head = silence(before_ms + fade_ms, rate)
    tail = silence(after_ms + fade_ms, rate)
    return head.append(piece, crossfade=fade_ms).append(tail, crossfade=fade_ms)


def probe(source: Path | bytes, *, ffprobe: str, timeout: float, what: str) -> dict:
    """ffprobe (with a timeout) of a file or an in-memory buffer; RenderError if it is not audio."""
    args = [ffprobe, "-v", "error", "-show_entries",
            "format=duration,format_name,probe_score:stream=codec_type,codec_name,duration,sample_rate,channels",
            "-of", "json"]  # fmt: skip
    if isinstance(source, bytes):
        raw = run_tool([*args, "pipe:0"], input=source, timeout=timeout, what=what)
    else:
        raw = run_tool([*args, str(source)], timeout=timeout, what=what)
    try:
        info = json.loads(raw or b"{}")
    except ValueError:
        raise RenderError(f"{what}: ffprobe trả về dữ liệu không đọc được.", code="not_audio") from None
    audio = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
    if not audio:
        raise RenderError(f"{what}: không có âm thanh.", code="no_audio_stream")
    formats = set(str(info.get("format", {}).get("format_name", "")).split(","))
    if formats & _INDIRECT_FORMATS:
        raise RenderError(f"{what}: định dạng không được phép.", code="not_audio")
    info["audio"] = audio[0]
    return info


def decode_validated(source: Path | bytes, info: dict, rate: int, *, what: str) -> AudioSegment:
    """Decode with pydub input that ``probe`` accepted (see the module note on timeouts)."""
    demuxer = str(info.get("format", {}).get("format_name", "")).split(",")[0] or None
    codec = info["audio"].get("codec_name") or None
    try:
        segment = AudioSegment.from_file(
            io.BytesIO(source) if isinstance(source, bytes) else str(source), format=demuxer, codec=codec
        )
    except (CouldntDecodeError, IndexError, ValueError, OSError) as exc:
        raise RenderError(f"{what}: không giải mã được ({type(exc).__name__}).", code="decode_failed") from None
    if frames(segment) == 0:
        raise RenderError(f"{what}: không có âm thanh.", code="decode_failed")
    return to_output_format(segment, rate)
