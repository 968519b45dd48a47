"""Streaming loudness (ITU-R BS.1770 / EBU R128) and true-peak measurement.

pyloudnorm's meter needs the whole signal as float64 several times over (~1.3 GB for 30 minutes
of audio), so we stream: pyloudnorm's own K-weighting coefficients, filtered chunk by chunk with
carried state, 100 ms sub-block energies, and BS.1770 gating on 400 ms blocks (75 % overlap).
True peak: 4x oversampling with a 48-tap interpolation filter, as in BS.1770 Annex 2.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.signal import firwin, sosfilt, sosfilt_zi

ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
SILENCE_LUFS = -120.0


@lru_cache(maxsize=8)
def kweighting_sos(rate: int) -> np.ndarray:
    """K-weighting as second-order sections, using pyloudnorm's filter design."""
    import pyloudnorm

    meter = pyloudnorm.Meter(rate)
    rows = []
    for stage in meter._filters.values():  # noqa: SLF001 - coefficients only exposed here
        b = np.asarray(stage.b, dtype=np.float64)
        a = np.asarray(stage.a, dtype=np.float64)
        rows.append(np.concatenate([b / a[0], a / a[0]]))
    return np.vstack(rows)


class LoudnessMeter:
    """Feed mono float chunks (full scale = 1.0); read integrated loudness at any time."""

    def __init__(self, rate: int, *, fine_block: int | None = None) -> None:
        self.rate = rate
        # Optional finer energy resolution (e.g. the limiter's block), to predict gain effects.
        self.fine = fine_block
        self._fine_carry = np.zeros(0, dtype=np.float64)
        self._fine: list[np.ndarray] = []
        self.sos = kweighting_sos(rate)
        self.zi = sosfilt_zi(self.sos) * 0.0
        self.sub = max(1, round(rate * 0.1))  # 100 ms sub-blocks
        self._carry = np.zeros(0, dtype=np.float64)
        self._energies: list[np.ndarray] = []
        self.samples = 0

    def feed(self, chunk: np.ndarray) -> None:
        if chunk.size == 0:
            return
        y, self.zi = sosfilt(self.sos, chunk.astype(np.float64, copy=False), zi=self.zi)
        self.samples += chunk.size
        sq = y * y
        if self.fine:
            fsq = np.concatenate([self._fine_carry, sq]) if self._fine_carry.size else sq
            fwhole = fsq.size // self.fine * self.fine
            if fwhole:
                self._fine.append(fsq[:fwhole].reshape(-1, self.fine).sum(axis=1))
            self._fine_carry = fsq[fwhole:].copy()
        if self._carry.size:
            sq = np.concatenate([self._carry, sq])
        whole = sq.size // self.sub * self.sub
        if whole:
            self._energies.append(sq[:whole].reshape(-1, self.sub).sum(axis=1))
        self._carry = sq[whole:].copy()

    def subblock_energies(self) -> np.ndarray:
        """Sum of squared K-weighted samples per 100 ms sub-block."""
        if not self._energies:
            return np.zeros(0)
        if len(self._energies) > 1:
            self._energies = [np.concatenate(self._energies)]
        return self._energies[0]

    def fine_energies(self) -> np.ndarray:
        """Energy per fine block (the last partial block included)."""
        parts = [*self._fine, np.array([self._fine_carry.sum()])] if self._fine_carry.size else list(self._fine)
        return np.concatenate(parts) if parts else np.zeros(0)

    def integrated(self) -> float:
        return integrated_from_subblocks(self.subblock_energies(), self.sub)


def integrated_from_subblocks(energies: np.ndarray, sub: int) -> float:
    """BS.1770 gated loudness from 100 ms sub-block energy sums (4 sub-blocks per gating block)."""
    if energies.size < 4:
        return SILENCE_LUFS
    block_ms = np.convolve(energies, np.ones(4), mode="valid") / (4 * sub)
    with np.errstate(divide="ignore"):
        block_lufs = -0.691 + 10 * np.log10(block_ms)
    gated = block_ms[block_lufs >= ABSOLUTE_GATE_LUFS]
    if gated.size == 0:
        return SILENCE_LUFS
    relative = -0.691 + 10 * np.log10(gated.mean()) + RELATIVE_GATE_LU
    final = block_ms[(block_lufs > relative) & (block_lufs >= ABSOLUTE_GATE_LUFS)]
    if final.size == 0:
        return SILENCE_LUFS
    return float(-0.691 + 10 * np.log10(final.mean()))


@lru_cache(maxsize=1)
def _interp_phases() -> np.ndarray:
    """Polyphase 4x interpolation filter: 4 phases of 12 taps."""
    h = firwin(48, 0.25 * 0.98, window=("kaiser", 8.0)) * 4
    return h.reshape(12, 4).T.copy()


def block_sample_peaks(x: np.ndarray, block: int) -> np.ndarray:
    """|max| per block of ``block`` samples (the last partial block included)."""
    whole = x.size // block * block
    peaks = np.abs(x[:whole]).reshape(-1, block).max(axis=1) if whole else np.zeros(0, dtype=x.dtype)
    if whole < x.size:
        peaks = np.append(peaks, np.abs(x[whole:]).max())
    return peaks


def oversampled_block_peaks(x: np.ndarray, starts: np.ndarray, block: int) -> np.ndarray:
    """4x-oversampled |max| of the blocks of ``x`` beginning at sample offsets ``starts`` (FS = 1.0).

    Oversampling everything costs ~0.1 s per minute of audio; only blocks that can matter are
    computed, gathered into a 2-D array so numpy works on all of them at once.
    """
    phases = _interp_phases().astype(np.float32)
    taps = phases.shape[1]
    span = block + taps  # outputs past the block end cover the filter delay
    offsets = np.arange(-(taps - 1), span)
    idx = starts.astype(np.int64)[:, None] + offsets[None, :]
    seg = x[np.clip(idx, 0, x.size - 1)].astype(np.float32)
    seg[(idx < 0) | (idx >= x.size)] = 0.0
    inside = seg[:, taps - 1 : taps - 1 + block]
    peak = np.abs(inside).max(axis=1)
    for phase in phases:
        y = np.zeros((starts.size, span), dtype=np.float32)
        for j in range(taps):
            y += phase[j] * seg[:, taps - 1 - j : taps - 1 - j + span]
        np.maximum(peak, np.abs(y).max(axis=1), out=peak)
    return peak


# Inter-sample peaks of band-limited audio exceed the sample peak by far less than this, so a
# block whose sample peak is this far under the loudest one cannot hold the true peak.
CANDIDATE_WINDOW_DB = 6.0


class TruePeakMeter:
    """Streaming maximum true peak (4x oversampling, only where it can be the maximum)."""

    def __init__(self, block: int = 64) -> None:
        self.block = block
        self.history = _interp_phases().shape[1] + 1
        self._tail = np.zeros(0, dtype=np.float32)
        self.max_linear = 0.0

    def feed(self, chunk: np.ndarray) -> None:
        if chunk.size == 0:
            return
        buf = np.concatenate([self._tail, chunk.astype(np.float32, copy=False)])
        peaks = block_sample_peaks(buf, self.block)
        floor = max(self.max_linear, float(peaks.max())) * 10 ** (-CANDIDATE_WINDOW_DB / 20)
        candidates = np.flatnonzero(peaks >= floor)
        if candidates.size:
            self.max_linear = max(self.max_linear, float(oversampled_block_peaks(buf, candidates * self.block, self.block).max()))
        self._tail = buf[-self.history :].copy()

    def max_dbtp(self) -> float:
        return float(20 * np.log10(self.max_linear)) if self.max_linear > 0 else -120.0


def measure(samples: np.ndarray, rate: int, *, chunk: int = 1 << 16) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of a whole mono float signal (FS = 1.0)."""
    meter = LoudnessMeter(rate)
    tp = TruePeakMeter()
    for start in range(0, samples.size, chunk):
        part = samples[start : start + chunk]
        meter.feed(part)
        tp.feed(part)
    return meter.integrated(), tp.max_dbtp()
