"""Speech or a recording -> broadcast-ready MP3 at a steady loudness.

Signal path: sentence-sized pieces from the engine (trimmed, faded, joined with a fixed gap) ->
lead silence, intro jingle, speech, outro jingle, tail silence -> one analysis pass (K-weighted
100 ms energies, 4x-oversampled peaks per 64-sample block) -> gains planned on those block
statistics (static gain to the loudness target, jingles a few LU under the speech, a look-ahead
true-peak limiter) -> one streaming pass into ffmpeg/libmp3lame -> the MP3 is decoded and
measured independently, and re-rendered with corrected gain if it missed -> atomic rename.

Memory stays around two bytes per output sample (int16 program) plus small per-block arrays, so
a 30-minute text fits well under 300 MB. ffmpeg encodes while numpy computes the next chunk.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO

import numpy as np
from pydub import AudioSegment
from pydub.exceptions import CouldntDecodeError
from scipy.signal import butter, sosfilt

from . import segments
from .chime import default_chime_segment
from .engines import Attempt, ChainEngine, SpeechEngine, first_that_works
from .errors import (
    AudioValidationError,
    EmptyTextError,
    NoSpeakableTextError,
    RenderError,
    TextTooLongError,
    ToolMissingError,
)
from .loudness import (
    SILENCE_LUFS,
    LoudnessMeter,
    TruePeakMeter,
    block_sample_peaks,
    integrated_from_subblocks,
    oversampled_block_peaks,
)
from .normalize import pack_words, split_sentences
from .tools import resolve_tool, run_tool
from .wav import read_wav

__all__ = [
    "AudioValidationError",
    "RenderLimits",
    "RenderResult",
    "RenderSettings",
    "probe_audio",
    "render_recording",
    "render_speech",
]

log = logging.getLogger(__name__)

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

    def as_dict(self) -> dict:
        data = asdict(self)
        data["path"] = str(self.path)
        data["attempts"] = [a.as_dict() for a in self.attempts]
        return data


# --------------------------------------------------------------------------------------------------
# synthesis


@lru_cache(maxsize=4)
def _band_limit_sos(rate: int) -> np.ndarray:
    # libmp3lame at 64 kbit/s cuts near 10 kHz (22.05 kHz output). Removing that band ourselves
    # means we measure and limit what listeners will get, so the MP3 lands on the target.
    return butter(8, min(9500.0, 0.43 * rate), btype="low", fs=rate, output="sos")


def _band_limit(samples: np.ndarray, rate: int) -> np.ndarray:
    y = sosfilt(_band_limit_sos(rate), samples.astype(np.float32))
    np.rint(y, out=y)
    np.clip(y, -32768, 32767, out=y)
    return y.astype(np.int16)


def _decode_engine_wav(wav: bytes, rate: int) -> AudioSegment:
    """Engine WAV -> 16-bit mono AudioSegment at ``rate``.

    pydub parses the WAV (espeak-ng's streamed WAV with bogus size fields included); the few
    layouts it refuses (float WAV) go through the tolerant numpy reader instead.
    """
    try:
        segment = AudioSegment.from_wav(io.BytesIO(wav))
    except (CouldntDecodeError, ValueError, IndexError, struct.error):
        samples, source_rate = read_wav(wav)
        segment = segments.from_array(samples, source_rate)
    return segments.to_output_format(segment, rate)


def _prepare_piece(wav: bytes, rate: int) -> AudioSegment:
    """Engine WAV -> band-limited 16-bit mono AudioSegment at ``rate``, trimmed to the voice.

    The edges are faded when the piece is joined (``segments.join_with_silence``).
    """
    samples = segments.as_array(_decode_engine_wav(wav, rate))
    del wav
    samples = _band_limit(samples, rate)
    # First and last sample above ~ -50 dBFS, found block-wise to avoid big index arrays.
    loud_blocks = np.flatnonzero(block_sample_peaks(samples, 256) > 100)
    if loud_blocks.size == 0:
        return segments.silence(0, rate)
    start = max(0, int(loud_blocks[0]) * 256 - int(0.02 * rate))
    end = min(samples.size, (int(loud_blocks[-1]) + 1) * 256 + int(0.06 * rate))
    return segments.from_array(samples[start:end], rate)


def _synthesize_with(
    engine: SpeechEngine, voice: str, batches: list[str], rate: int, workers: int
) -> list[AudioSegment]:
    def one(text: str) -> AudioSegment:
        return _prepare_piece(engine.synthesize(text, voice), rate)

    parallel = max(1, min(workers, int(getattr(engine, "max_parallel", 1)), len(batches)))
    if parallel == 1:
        return [one(b) for b in batches]
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="loa-tts") as pool:
        futures = [pool.submit(one, b) for b in batches]
        try:
            return [f.result() for f in futures]
        except BaseException:
            for f in futures:
                f.cancel()
            raise


def _synthesize(
    engine: SpeechEngine, voice: str, sentences: list[str], settings: RenderSettings
) -> tuple[list[AudioSegment], str, list[Attempt]]:
    """Synthesize all sentences with one engine (a chain falls back engine by engine, so a bulletin
    is never read by two voices)."""

    def read_all(candidate: SpeechEngine) -> list[AudioSegment]:
        batches = pack_words(sentences, int(getattr(candidate, "batch_chars", 1000)))
        return _synthesize_with(candidate, voice, batches, settings.sample_rate, settings.workers)

    if isinstance(engine, ChainEngine):
        return first_that_works(engine.engines, voice, read_all)
    started = time.monotonic()
    pieces = read_all(engine)
    return pieces, engine.name, [Attempt(engine.name, voice, True, seconds=time.monotonic() - started)]


# --------------------------------------------------------------------------------------------------
# program assembly


@dataclass
class _Segment:
    audio: AudioSegment  # 16-bit mono at the output rate
    kind: str  # "speech" or "jingle"


_EDGE_FADE_MS = 8  # crossfade between a piece and the silence around it: no click at either edge


def _load_jingle(path: Path, settings: RenderSettings) -> AudioSegment:
    """A jingle file in any format ffmpeg reads, validated by ffprobe (with a timeout) first, then
    decoded by pydub (see ``segments`` on why that needs no timeout of its own)."""
    path = Path(path)
    if not path.is_file():
        raise RenderError(f"Không tìm thấy tệp nhạc hiệu: {path}.", code="jingle_missing")
    what = f"Đọc tệp nhạc hiệu {path.name}"
    try:
        info = segments.probe(path, ffprobe=settings.ffprobe_binary, timeout=min(settings.tool_timeout_s, 60.0),
                              what=what)  # fmt: skip
        duration = float(info.get("format", {}).get("duration") or info["audio"].get("duration") or 0.0)
        if duration > segments.MAX_JINGLE_S:
            raise RenderError(f"{what}: dài {duration:.0f} giây, tối đa {segments.MAX_JINGLE_S:g} giây.",
                              code="jingle_invalid")  # fmt: skip
        jingle = segments.decode_validated(path, info, settings.sample_rate, what=what)
    except ToolMissingError:
        raise
    except RenderError as exc:
        raise RenderError(f"Tệp nhạc hiệu không dùng được: {path} ({exc}).", code="jingle_invalid") from None
    if jingle.max == 0:
        raise RenderError(f"Tệp nhạc hiệu không có âm thanh: {path}.", code="jingle_invalid")
    return jingle


def _jingles(settings: RenderSettings) -> tuple[AudioSegment | None, AudioSegment | None]:
    intro = outro = None
    if settings.intro_jingle:
        intro = _load_jingle(settings.intro_jingle, settings)
    elif settings.use_default_chime:
        intro = default_chime_segment(settings.sample_rate, descending=False)
    if settings.outro_jingle:
        outro = _load_jingle(settings.outro_jingle, settings)
    elif settings.use_default_chime:
        outro = default_chime_segment(settings.sample_rate, descending=True)
    return intro, outro


@lru_cache(maxsize=1)
def _libc_trim() -> Callable[[int], int] | None:
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to do
        return None


def _release_freed_memory() -> None:
    """Give freed heap pages back to the OS (glibc keeps freed heap memory otherwise), so a long
    render never holds the pieces and the program at once."""
    trim = _libc_trim()
    if trim is not None:
        trim(0)


def _assemble(speech: list[_Segment], settings: RenderSettings) -> tuple[np.ndarray, list[tuple[int, int, str]]]:
    """Lead silence, intro, speech pieces, outro, tail silence -> one int16 program.

    Each piece is joined to the silence before it (and the last one to the tail) by pydub with a
    short crossfade, so no edge clicks. The joined units meet silence against silence and are laid
    end to end into one preallocated buffer: summing AudioSegments would copy the growing program
    once per piece. Returns the program and the (start, end, kind) spans of the non-silent parts.
    """
    rate = settings.sample_rate
    intro, outro = _jingles(settings)
    items: list[_Segment | None] = []
    if intro is not None:
        items.append(_Segment(intro, "jingle"))
    items += speech
    speech.clear()  # only `items` refers to the audio now; it is released while copying
    if outro is not None:
        items.append(_Segment(outro, "jingle"))
    if not items:
        raise RenderError("Bộ đọc chỉ tạo ra im lặng.", code="silent_output")

    kinds = [it.kind for it in items]

    def gap_before(i: int) -> int:
        if i == 0:
            return settings.lead_silence_ms
        if kinds[i] != kinds[i - 1]:
            return settings.jingle_gap_ms
        return settings.sentence_gap_ms

    n = len(items)
    gaps = [gap_before(i) for i in range(n)]
    afters = [0] * (n - 1) + [settings.tail_silence_ms]

    def frames_of(ms: int) -> int:
        return segments.frames(segments.silence(ms, rate))

    # Crossfades only shorten a unit, so this bound holds; the few spare samples are cut off below.
    bound = sum(frames_of(g + _EDGE_FADE_MS) + frames_of(a + _EDGE_FADE_MS) for g, a in zip(gaps, afters, strict=True))
    program = np.empty(bound + sum(segments.frames(it.audio) for it in items), dtype=np.int16)
    spans: list[tuple[int, int, str]] = []
    pos = 0
    copied = 0
    for i in range(n):
        item, items[i] = items[i], None  # each piece is released once it is in the program
        unit = segments.join_with_silence(gaps[i], item.audio, afters[i], _EDGE_FADE_MS)
        samples = segments.as_array(unit)
        program[pos : pos + samples.size] = samples
        offset, length = frames_of(gaps[i]), segments.frames(item.audio)
        spans.append((pos + offset, min(pos + offset + length, pos + samples.size), item.kind))
        pos += samples.size
        copied += samples.size
        del item, unit, samples
        if copied > 2 * rate * 60:  # every ~2 minutes of audio
            _release_freed_memory()
            copied = 0
    items.clear()
    program = program[:pos]
    _release_freed_memory()
    return program, spans


def _speech_segments(pieces: list[AudioSegment], settings: RenderSettings) -> list[_Segment]:
    out = [_Segment(piece, "speech") for piece in pieces if segments.frames(piece) > 0]
    pieces.clear()  # the segments own the audio now: keep one copy in memory, not two
    if not out:
        raise RenderError("Bộ đọc chỉ tạo ra im lặng.", code="silent_output")
    return out


# --------------------------------------------------------------------------------------------------
# loudness planning and the limiter


@dataclass
class _Analysis:
    rate: int
    sub: int  # samples per 100 ms sub-block
    energies: np.ndarray  # K-weighted energy per sub-block (FS = 1.0)
    fine: np.ndarray  # K-weighted energy per limiter block
    peaks_db: np.ndarray  # true peak per block, dBFS
    samples: int


def _analyse(program: np.ndarray, rate: int) -> _Analysis:
    """K-weighted energies and sample peaks in one streaming pass (true peaks come later)."""
    meter = LoudnessMeter(rate, fine_block=_BLOCK)
    peaks: list[np.ndarray] = []
    for start in range(0, program.size, _CHUNK):  # _CHUNK is a multiple of _BLOCK
        chunk = program[start : start + _CHUNK].astype(np.float32) / _FS
        meter.feed(chunk)
        peaks.append(block_sample_peaks(chunk, _BLOCK))
    peak_lin = np.concatenate(peaks) if peaks else np.zeros(0, dtype=np.float32)
    with np.errstate(divide="ignore"):
        peaks_db = 20 * np.log10(np.maximum(peak_lin, 1e-9)).astype(np.float64)
    fine = meter.fine_energies()[: peaks_db.size]
    return _Analysis(rate, meter.sub, meter.subblock_energies(), fine, peaks_db, program.size)


def _refine_true_peaks(analysis: _Analysis, program: np.ndarray, spans: list[tuple[int, int, str]],
                       settings: RenderSettings) -> None:  # fmt: skip
    """Replace sample peaks by 4x-oversampled true peaks wherever the limiter might act."""
    _, block_static, speech_lufs = _static_gains(analysis, spans, settings)
    gain = settings.target_lufs - speech_lufs
    threshold = settings.true_peak_dbtp - settings.limiter_margin_db - 8.0  # generous: trims stay small
    candidates = np.flatnonzero(analysis.peaks_db + block_static + gain > threshold)
    if candidates.size == 0:
        return
    true_peaks = np.empty(candidates.size, dtype=np.float32)
    for first in range(0, candidates.size, 4096):  # bounded temporary arrays
        part = candidates[first : first + 4096]
        lo = max(0, int(part[0]) * _BLOCK - 32)
        hi = (int(part[-1]) + 2) * _BLOCK + 32
        window = program[lo:hi].astype(np.float32) / _FS
        true_peaks[first : first + part.size] = oversampled_block_peaks(window, part * _BLOCK - lo, _BLOCK)
    with np.errstate(divide="ignore"):
        analysis.peaks_db[candidates] = np.maximum(
            analysis.peaks_db[candidates], 20 * np.log10(np.maximum(true_peaks, 1e-9))
        )


def _limiter_db(required_db: np.ndarray, rate: int) -> np.ndarray:
    """Smooth gain (dB, <= 0) under ``required_db`` per block: look-ahead attack, slower release.

    g[b] = min_k(required[k] + slope * |b - k|), with a steep slope towards earlier blocks (the
    gain is already down when the peak arrives) and a gentle one afterwards. Both envelopes are
    cumulative minima, so the whole thing is vectorised.
    """
    if required_db.size == 0:
        return required_db
    block_s = _BLOCK / rate
    attack = 12.0 * block_s / 0.005  # up to 12 dB within 5 ms before a peak
    release = 12.0 * block_s / 0.150  # recover 12 dB over 150 ms
    held = required_db.copy()
    np.minimum(held[1:], required_db[:-1], out=held[1:])  # neighbours too: interpolation stays under
    np.minimum(held[:-1], required_db[1:], out=held[:-1])
    k = np.arange(held.size, dtype=np.float64)
    rel = k * -release
    rel += held
    np.minimum.accumulate(rel, out=rel)
    att = k * attack
    att += held
    del held
    att = np.minimum.accumulate(att[::-1])[::-1]
    k *= attack
    att -= k
    k *= release / attack
    rel += k
    del k
    np.minimum(rel, att, out=rel)
    del att
    return np.minimum(rel, 0.0, out=rel)


def _static_gains(analysis: _Analysis, spans: list[tuple[int, int, str]], settings: RenderSettings) -> tuple[
    np.ndarray, np.ndarray, float
]:
    """Per-sub-block and per-block static gain (dB): speech to target, jingles under the speech."""
    sub_gain = np.zeros(analysis.energies.size)
    block_gain = np.zeros(analysis.peaks_db.size)

    def loudness(kind: str) -> float:
        mask = np.zeros(analysis.energies.size, dtype=bool)
        for start, end, k in spans:
            if k == kind:
                mask[start // analysis.sub : -(-end // analysis.sub)] = True
        return integrated_from_subblocks(analysis.energies[mask], analysis.sub) if mask.any() else SILENCE_LUFS

    speech_lufs = loudness("speech")
    if speech_lufs <= SILENCE_LUFS:
        raise RenderError("Âm thanh gần như im lặng, không thể chuẩn hóa độ lớn.", code="silent_output")
    jingle_lufs = loudness("jingle")
    for start, end, kind in spans:
        if kind == "jingle" and jingle_lufs > SILENCE_LUFS:
            gain = (speech_lufs + settings.jingle_level_lu) - jingle_lufs
            # Jingles ride on the speech's gain later; only the relative offset goes here.
            sub_gain[start // analysis.sub : -(-end // analysis.sub)] = gain
            block_gain[start // _BLOCK : -(-end // _BLOCK)] = gain
    return sub_gain, block_gain, speech_lufs


def _plan(analysis: _Analysis, spans: list[tuple[int, int, str]], settings: RenderSettings, *,
          trim_db: float = 0.0, extra_margin_db: float = 0.0) -> tuple[np.ndarray, float]:  # fmt: skip
    """Per-block linear gains and the predicted integrated loudness of the result."""
    sub_static, block_static, speech_lufs = _static_gains(analysis, spans, settings)
    ceiling = settings.true_peak_dbtp - settings.limiter_margin_db - extra_margin_db
    gain = settings.target_lufs - speech_lufs + trim_db
    predicted = SILENCE_LUFS
    for _ in range(12):
        base = block_static + gain
        limiter = _limiter_db(np.minimum(0.0, ceiling - (analysis.peaks_db + base)), analysis.rate)
        total_db = base + limiter
        # Predicted loudness: K-weighted energy per limiter block times that block's power gain,
        # summed into 100 ms sub-blocks (the gain is nearly constant within 64 samples).
        weighted = analysis.fine[: total_db.size] * 10 ** (total_db[: analysis.fine.size] / 10)
        sub_of_block = (np.arange(weighted.size) * _BLOCK) // analysis.sub
        sub_energy = np.bincount(sub_of_block, weights=weighted, minlength=analysis.energies.size)
        predicted = integrated_from_subblocks(sub_energy[: analysis.energies.size], analysis.sub)
        miss = settings.target_lufs + trim_db - predicted
        if abs(miss) < 0.02:
            break
        gain += miss
    del sub_static
    return 10 ** (total_db / 20), predicted


# --------------------------------------------------------------------------------------------------
# encoding, verification, atomic write


def _encode_args(settings: RenderSettings, dest: Path) -> list[str]:
    return [
        settings.ffmpeg_binary, "-v", "error", "-y", "-f", "s16le", "-ar", str(settings.sample_rate), "-ac", "1",
        "-i", "pipe:0", "-ac", str(settings.channels), "-ar", str(settings.sample_rate), "-c:a", "libmp3lame",
        "-b:a", settings.bitrate, "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact",
        "-f", "mp3", str(dest),
    ]  # fmt: skip


def _gain_chunks(program: np.ndarray, gains: np.ndarray) -> Iterator[bytes]:
    """The program with the planned per-block gains applied, as little-endian int16 chunks."""
    centers = np.arange(gains.size, dtype=np.float64) * _BLOCK + _BLOCK / 2
    for start in range(0, program.size, _CHUNK):
        x = program[start : start + _CHUNK].astype(np.float32)
        idx = np.arange(start, start + x.size, dtype=np.float64)
        # Only the blocks around this chunk: np.interp copies its tables on every call.
        lo, hi = max(0, start // _BLOCK - 1), min(gains.size, (start + x.size) // _BLOCK + 2)
        g = np.interp(idx, centers[lo:hi], gains[lo:hi]).astype(np.float32)
        yield np.clip(np.rint(x * g), -32768, 32767).astype("<i2").tobytes()


def _decode_args(settings: RenderSettings) -> list[str]:
    return [settings.ffmpeg_binary, "-v", "error", "-f", "mp3", "-i", "pipe:0", "-ac", "1", "-ar",
            str(settings.sample_rate), "-f", "f32le", "pipe:1"]  # fmt: skip


def _encode_and_verify(
    program: np.ndarray, gains: np.ndarray, settings: RenderSettings, dest: Path
) -> tuple[float, float, int]:
    """Encode into ``dest`` while an independent ffmpeg decodes what the encoder has written so far;
    return the decoded stream's (integrated LUFS, true peak dBTP, samples).

    libmp3lame is single-threaded, so the verification (decode + metering) runs on the other core
    and finishes a moment after the encoder instead of adding a full decode afterwards. The bytes
    checked are the file's own, read back as ffmpeg writes them (it seeks back only to fill in the
    first frame's Xing/LAME tag, which carries no audio).
    """
    enc_exe = resolve_tool(settings.ffmpeg_binary)
    enc_args, dec_args = _encode_args(settings, dest), _decode_args(settings)
    with open(dest, "wb"):
        pass  # empty before the encoder starts: the reader never sees a previous attempt's bytes
    meter = LoudnessMeter(settings.sample_rate)
    tp = TruePeakMeter(_BLOCK)
    errors: list[BaseException] = []
    with tempfile.TemporaryFile() as enc_err, open(dest, "rb") as written:
        enc = subprocess.Popen([enc_exe, *enc_args[1:]], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               stderr=enc_err)  # fmt: skip
        try:
            dec = subprocess.Popen([enc_exe, *dec_args[1:]], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL)  # fmt: skip
        except BaseException:
            enc.kill()  # not left waiting on its stdin
            enc.wait()
            raise
        expired = threading.Event()

        def kill_all() -> None:
            expired.set()
            for proc in (enc, dec):
                if proc.poll() is None:
                    proc.kill()

        timer = threading.Timer(settings.tool_timeout_s, kill_all)

        def feed() -> None:
            try:
                for chunk in _gain_chunks(program, gains):
                    enc.stdin.write(chunk)
            except BrokenPipeError:
                pass  # the encoder died; its exit code and stderr say why
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                errors.append(exc)
                kill_all()
            finally:
                try:
                    enc.stdin.close()
                except BrokenPipeError:
                    pass

        def relay() -> None:
            try:
                while True:
                    data = written.read(1 << 16)
                    if data:
                        dec.stdin.write(data)
                    elif enc.poll() is not None:
                        rest = written.read()  # the encoder has exited: all it wrote is there
                        if rest:
                            dec.stdin.write(rest)
                        break
                    else:
                        time.sleep(0.005)
            except BrokenPipeError:
                pass
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
                kill_all()
            finally:
                try:
                    dec.stdin.close()
                except BrokenPipeError:
                    pass

        threads = [threading.Thread(target=feed, name="loa-encode"), threading.Thread(target=relay, name="loa-verify")]
        timer.start()
        samples = 0
        try:
            for t in threads:
                t.start()
            samples = _meter_f32_stream(dec.stdout, meter, tp)
            for t in threads:
                t.join()
            enc.wait()
            dec.wait()
        except BaseException:
            kill_all()
            for t in threads:
                if t.is_alive():
                    t.join()
            enc.wait()
            dec.wait()
            raise
        finally:
            timer.cancel()
        if errors:
            raise errors[0]
        if enc.returncode != 0:
            enc_err.seek(0)
            detail = enc_err.read().decode("utf-8", "replace").strip().splitlines()
            reason = detail[-1] if detail else f"mã {enc.returncode}"
            if expired.is_set():
                reason = f"quá thời gian {settings.tool_timeout_s:g} giây"
            elif enc.returncode < 0 and not detail:
                reason = "bị dừng"
            raise RenderError(f"Mã hóa MP3: lỗi ({reason}).", code="tool_failed")
        if dec.returncode != 0 or expired.is_set():
            raise RenderError("Không giải mã được tệp MP3 vừa tạo để kiểm tra.", code="verify_failed")
    return meter.integrated(), tp.max_dbtp(), samples


def _meter_f32_stream(stream: IO[bytes], meter: LoudnessMeter, tp: TruePeakMeter) -> int:
    """Feeds raw little-endian float32 mono samples from `stream` to both meters; returns the count."""
    samples = 0
    carry = b""
    while True:
        data = stream.read(_CHUNK * 4)
        if not data:
            return samples
        data = carry + data
        usable = len(data) - len(data) % 4
        carry = data[usable:]
        x = np.frombuffer(data[:usable], dtype="<f4")
        samples += x.size
        meter.feed(x)
        tp.feed(x)


def measure_file(path: Path, settings: RenderSettings) -> tuple[float, float, int]:
    """Decode ``path`` with ffmpeg and measure it: (integrated LUFS, true peak dBTP, samples)."""
    exe = resolve_tool(settings.ffmpeg_binary)
    rate = settings.sample_rate
    args = [exe, "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(rate), "-f", "f32le", "pipe:1"]
    meter = LoudnessMeter(rate)
    tp = TruePeakMeter(_BLOCK)
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    timer = threading.Timer(settings.tool_timeout_s, proc.kill)
    timer.start()
    samples = 0
    try:
        samples = _meter_f32_stream(proc.stdout, meter, tp)
        proc.wait()
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise RenderError("Không giải mã được tệp MP3 vừa tạo để kiểm tra.", code="verify_failed")
    return meter.integrated(), tp.max_dbtp(), samples


@lru_cache(maxsize=8)
def _encoder_gain_db(ffmpeg: str, rate: int, bitrate: str, channels: int) -> float:
    """Level change of encode+decode (libmp3lame scales by ~0.95, -0.45 dB): measured once with a
    test tone so the first encode already lands on the target instead of needing a second one."""
    t = np.arange(int(rate * 1.5)) / rate
    tone = np.round(0.25 * 32767 * np.sin(2 * np.pi * 997.0 * t)).astype("<i2")
    settings = RenderSettings(sample_rate=rate, bitrate=bitrate, channels=channels, ffmpeg_binary=ffmpeg)
    with tempfile.TemporaryDirectory() as tmpdir:
        dest = Path(tmpdir) / "cal.mp3"
        run_tool(_encode_args(settings, dest), input=tone.tobytes(), timeout=60.0, what="Hiệu chuẩn MP3")
        raw = run_tool([ffmpeg, "-v", "error", "-i", str(dest), "-ac", "1", "-f", "f32le", "pipe:1"],
                       timeout=60.0, what="Hiệu chuẩn MP3")  # fmt: skip
    decoded = np.frombuffer(raw, dtype="<f4")
    mid = slice(int(rate * 0.4), int(rate * 1.1))
    if decoded.size < int(rate * 1.1):
        return 0.0
    ratio = np.sqrt(np.mean(decoded[mid] ** 2)) / np.sqrt(np.mean((tone[mid] / _FS) ** 2))
    return float(np.clip(20 * np.log10(ratio), -3.0, 3.0))


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _temp_path(out_path: Path) -> Path:
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{out_path.name}.", suffix=".part", dir=out_path.parent)
    os.close(fd)
    return Path(name)


def _commit(tmp: Path, out_path: Path) -> None:
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, out_path)
    try:
        dir_fd = os.open(out_path.parent, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _produce(
    program: np.ndarray,
    spans: list[tuple[int, int, str]],
    out_path: Path,
    settings: RenderSettings,
    *,
    engine: str,
    voice: str,
    attempts: list[Attempt],
    started: float,
) -> RenderResult:
    resolve_tool(settings.ffmpeg_binary)  # fail before any work if ffmpeg is missing
    out_path = Path(out_path)
    analysis = _analyse(program, settings.sample_rate)
    _refine_true_peaks(analysis, program, spans, settings)
    tmp = _temp_path(out_path)
    try:
        trim = -_encoder_gain_db(settings.ffmpeg_binary, settings.sample_rate, settings.bitrate, settings.channels)
        margin = 0.0
        for _ in range(3):
            gains, _predicted = _plan(analysis, spans, settings, trim_db=trim, extra_margin_db=margin)
            _release_freed_memory()  # the planner's temporaries
            lufs, peak, decoded = _encode_and_verify(program, gains, settings, tmp)
            if decoded < program.size:  # the decoder saw less than was encoded: a broken file
                raise RenderError("Tệp MP3 vừa tạo bị thiếu dữ liệu.", code="verify_failed")
            log.debug("render attempt: %.2f LUFS, %.2f dBTP (trim %.2f, margin %.2f)", lufs, peak, trim, margin)
            loud_ok = abs(lufs - settings.target_lufs) <= 0.5
            peak_ok = peak <= settings.true_peak_dbtp
            if loud_ok and peak_ok:
                break
            # The encoder moved loudness or peaks: correct from the measured file and redo.
            if not loud_ok:
                trim += settings.target_lufs - lufs
            if not peak_ok:
                margin += peak - settings.true_peak_dbtp + 0.3
        else:
            if abs(lufs - settings.target_lufs) > 1.0 or peak > settings.true_peak_dbtp + 0.5:
                raise RenderError(
                    f"Không đạt độ lớn chuẩn ({lufs:.1f} LUFS, đỉnh {peak:.1f} dBTP).", code="loudness_failed"
                )
        _commit(tmp, out_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return RenderResult(
        path=out_path,
        sha256=_sha256_file(out_path),
        duration_ms=round(program.size * 1000 / settings.sample_rate),
        size_bytes=out_path.stat().st_size,
        loudness_lufs=round(float(lufs), 2),
        true_peak_dbtp=round(float(peak), 2),
        engine=engine,
        voice=voice,
        attempts=attempts,
        cache_key=settings.cache_key(),
        sample_rate=settings.sample_rate,
        bitrate=settings.bitrate,
        render_seconds=round(time.monotonic() - started, 3),
    )


# --------------------------------------------------------------------------------------------------
# public entry points


def render_speech(
    speakable: str,
    out_path: Path,
    *,
    engine: SpeechEngine,
    voice: str,
    settings: RenderSettings,
    limits: RenderLimits | None = None,
) -> RenderResult:
    """Synthesize ``speakable`` (output of ``speakable_text``) into a normalized MP3 at ``out_path``.

    Raises a ``SpeakableTextError`` for bad text, an ``EngineError`` subclass when synthesis fails
    (``AllEnginesFailedError`` for a chain, with ``attempts``), ``ToolMissingError`` /
    ``RenderError`` for processing problems. Nothing is left at ``out_path`` on failure.
    """
    started = time.monotonic()
    limits = limits or RenderLimits()
    if speakable is None or not speakable.strip():
        raise EmptyTextError()
    if len(speakable) > limits.max_text_chars:
        raise TextTooLongError(len(speakable), limits.max_text_chars)
    sentences = split_sentences(speakable, settings.sentence_max_chars)
    if not sentences:
        raise NoSpeakableTextError()
    resolve_tool(settings.ffmpeg_binary)
    pieces, used, attempts = _synthesize(engine, voice, sentences, settings)
    program, spans = _assemble(_speech_segments(pieces, settings), settings)
    del pieces
    return _produce(program, spans, out_path, settings, engine=used, voice=voice, attempts=attempts, started=started)


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
        raise AudioValidationError("Tệp tải lên không phải âm thanh hoặc đã bị hỏng.", code="not_audio") from None
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
            f"Bản ghi quá ngắn: {duration:.1f} giây, tối thiểu {limits.min_recording_s:g} giây.", code="too_short"
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

