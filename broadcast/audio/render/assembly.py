"""Program assembly: lead silence, jingles, speech pieces joined with fixed gaps, tail silence."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from pydub import AudioSegment

from .. import segments
from ..chime import default_chime_segment
from ..errors import (
    RenderError,
    ToolMissingError,
)
from .options import RenderSettings


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


def _assemble(
    speech: list[_Segment], settings: RenderSettings
) -> tuple[np.ndarray, list[tuple[int, int, str]]]:
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
    bound = sum(
        frames_of(g + _EDGE_FADE_MS) + frames_of(a + _EDGE_FADE_MS) for g, a in zip(gaps, afters, strict=True)
    )
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
