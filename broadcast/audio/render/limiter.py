"""Loudness planning: one analysis pass, static gains to the target, a look-ahead true-peak limiter."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import (
    RenderError,
)
from ..loudness import (
    SILENCE_LUFS,
    LoudnessMeter,
    block_sample_peaks,
    integrated_from_subblocks,
    oversampled_block_peaks,
)
from .options import _BLOCK, _CHUNK, _FS, RenderSettings


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


def _static_gains(
    analysis: _Analysis, spans: list[tuple[int, int, str]], settings: RenderSettings
) -> tuple[np.ndarray, np.ndarray, float]:
    """Per-sub-block and per-block static gain (dB): speech to target, jingles under the speech."""
    sub_gain = np.zeros(analysis.energies.size)
    block_gain = np.zeros(analysis.peaks_db.size)

    def loudness(kind: str) -> float:
        mask = np.zeros(analysis.energies.size, dtype=bool)
        for start, end, k in spans:
            if k == kind:
                mask[start // analysis.sub : -(-end // analysis.sub)] = True
        return (
            integrated_from_subblocks(analysis.energies[mask], analysis.sub) if mask.any() else SILENCE_LUFS
        )

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
