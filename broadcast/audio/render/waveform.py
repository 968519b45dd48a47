"""The waveform picture of a rendered file: a short list of peak levels a page draws as bars.

Computed from the samples the encoder's verification already decodes (no extra pass over the MP3), so it
shows the file as broadcast: `WaveformMeter` keeps the peak of each block of the stream (a few bytes per
second of audio) and `peaks` reduces any sample array to `bars` integers 0–100 (percent of full scale).
"""

from __future__ import annotations

import numpy as np

BARS = 200
_BLOCK = 64  # samples per kept block: 200 bars from 1 s at 22.05 kHz; 30 minutes keep 2.5 MB


def peaks(samples: np.ndarray, bars: int = BARS) -> list[int]:
    """Peak |sample| of `bars` equal slices of `samples`, as integers 0–100 (fewer bars for a shorter input:
    one per sample). Silence gives zeros; empty input an empty list."""
    x = np.abs(np.asarray(samples, dtype=np.float32).ravel())
    if x.size == 0 or bars <= 0:
        return []
    bars = min(bars, x.size)
    edges = np.linspace(0, x.size, bars + 1).astype(np.int64)
    maxima = np.maximum.reduceat(x, edges[:-1])
    return [int(v) for v in np.clip(np.rint(maxima * 100.0), 0, 100)]


class WaveformMeter:
    """Fed the decoded stream chunk by chunk; `peaks()` at the end."""

    def __init__(self) -> None:
        self._maxima: list[np.ndarray] = []
        self._carry = np.zeros(0, dtype=np.float32)

    def feed(self, x: np.ndarray) -> None:
        x = np.abs(np.concatenate([self._carry, np.asarray(x, dtype=np.float32)]))
        whole = x.size - x.size % _BLOCK
        if whole:
            self._maxima.append(x[:whole].reshape(-1, _BLOCK).max(axis=1))
        self._carry = x[whole:]

    def peaks(self, bars: int = BARS) -> list[int]:
        parts = [*self._maxima]
        if self._carry.size:
            parts.append(np.array([self._carry.max()], dtype=np.float32))
        if not parts:
            return []
        return peaks(np.concatenate(parts), bars)
