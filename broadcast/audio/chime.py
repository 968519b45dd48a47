"""A generated two-note chime (Loa's default intro/outro), so no binary jingle ships in the repo."""

from __future__ import annotations

import numpy as np

# Bell-like partials (ratio, relative amplitude, decay rate per second).
_PARTIALS = ((1.0, 1.0, 3.0), (2.0, 0.45, 4.5), (2.76, 0.25, 6.0), (5.4, 0.08, 9.0))


def _bell(freq: float, seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate), dtype=np.float64) / rate
    tone = np.zeros_like(t)
    for ratio, amp, decay in _PARTIALS:
        if freq * ratio < rate / 2 * 0.9:
            tone += amp * np.exp(-decay * t) * np.sin(2 * np.pi * freq * ratio * t)
    attack = np.minimum(1.0, t / 0.005)  # 5 ms onset: no click
    return tone * attack


def default_chime(rate: int, *, descending: bool = True) -> np.ndarray:
    """Two bell notes (G5 then E5, or the reverse), about 1.4 s, peak at -6 dBFS, int16."""
    notes = (784.0, 659.25) if descending else (659.25, 784.0)
    first = _bell(notes[0], 1.4, rate)
    second = _bell(notes[1], 1.0, rate)
    out = first.copy()
    offset = int(0.4 * rate)
    out[offset : offset + second.size] += second[: out.size - offset]
    fade = int(0.05 * rate)
    out[-fade:] *= np.linspace(1.0, 0.0, fade)
    out *= 0.5 / np.max(np.abs(out))
    return np.round(out * 32767).astype(np.int16)
