"""A generated two-note chime (Loa's default intro/outro), so no binary jingle ships in the repo.

Built with pydub: each bell partial is a ``pydub.generators.Sine`` whose exponential decay is
drawn as short linear fades, the partials and the two notes are overlaid, and the whole is
faded in (no click at the onset) and out. Generating costs ~0.1 s of pure Python per chime, so
the result is cached per sample rate.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from pydub import AudioSegment
from pydub.generators import Sine

# Bell-like partials (ratio, relative amplitude, decay rate per second).
_PARTIALS = ((1.0, 1.0, 3.0), (2.0, 0.45, 4.5), (2.76, 0.25, 6.0), (5.4, 0.08, 9.0))
_STEP_MS = 200  # decay drawn as linear fades of this length (pydub fades >100 ms step per ms)
_PEAK_DBFS = -6.0


def _decaying(tone: AudioSegment, decay: float) -> AudioSegment:
    out = AudioSegment.empty()
    for start in range(0, len(tone), _STEP_MS):
        part = tone[start : start + _STEP_MS]
        g0 = 20 * math.log10(math.exp(-decay * start / 1000))
        g1 = 20 * math.log10(math.exp(-decay * (start + len(part)) / 1000))
        out += part.fade(from_gain=g0, to_gain=g1, start=0, end=len(part))
    return out


def _bell(freq: float, ms: int, rate: int) -> AudioSegment:
    total = sum(amp for ratio, amp, _ in _PARTIALS if freq * ratio < rate / 2 * 0.9)
    bell = AudioSegment.silent(duration=ms, frame_rate=rate)
    for ratio, amp, decay in _PARTIALS:
        if freq * ratio < rate / 2 * 0.9:
            level = 20 * math.log10(0.45 * amp / total)  # the partials' sum stays under -7 dBFS
            tone = Sine(freq * ratio, sample_rate=rate).to_audio_segment(duration=ms, volume=level)
            bell = bell.overlay(_decaying(tone, decay))
    return bell.fade_in(5)  # 5 ms onset: no click


@lru_cache(maxsize=8)
def default_chime_segment(rate: int, *, descending: bool = True) -> AudioSegment:
    """Two bell notes (G5 then E5, or the reverse), 1.4 s, peak at -6 dBFS, 16-bit mono."""
    notes = (784.0, 659.25) if descending else (659.25, 784.0)
    chime = _bell(notes[0], 1400, rate).overlay(_bell(notes[1], 1000, rate), position=400)
    chime = chime.fade_out(50)
    return chime.apply_gain(_PEAK_DBFS - chime.max_dBFS)


def default_chime(rate: int, *, descending: bool = True) -> np.ndarray:
    """The chime as int16 samples (a read-only view of the cached segment)."""
    return np.frombuffer(default_chime_segment(rate, descending=descending).raw_data, dtype="<i2")
