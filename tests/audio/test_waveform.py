"""The waveform picture: a pure function over samples, the streaming meter, and the one made at render."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from broadcast.audio.engines import EspeakEngine
from broadcast.audio.render import RenderSettings, render_speech
from broadcast.audio.render.waveform import BARS, WaveformMeter, peaks

from .conftest import tone


def test_silence_is_flat() -> None:
    assert peaks(np.zeros(22050, dtype=np.float32)) == [0] * BARS


def test_a_tone_between_silences_peaks_where_it_sounds() -> None:
    rate = 1000
    x = np.zeros(3 * rate, dtype=np.float32)
    x[rate : 2 * rate] = 0.5 * np.sin(2 * np.pi * 50 * np.arange(rate) / rate)
    bars = peaks(x, bars=30)
    assert bars[:10] == [0] * 10 and bars[20:] == [0] * 10
    assert all(48 <= b <= 50 for b in bars[10:20])


def test_length_is_bounded_and_values_are_percent() -> None:
    loud = np.full(100_000, 3.0, dtype=np.float32)  # beyond full scale: clipped to 100
    assert peaks(loud) == [100] * BARS
    assert len(peaks(np.ones(7, dtype=np.float32))) == 7  # never more bars than samples
    assert peaks(np.zeros(0, dtype=np.float32)) == []
    assert all(isinstance(v, int) for v in peaks(np.random.default_rng(1).uniform(-1, 1, 5000)))


def test_negative_samples_count_by_their_magnitude() -> None:
    assert peaks(np.array([-0.8, 0.1], dtype=np.float32), bars=1) == [80]


def test_streaming_meter_matches_the_whole_array() -> None:
    x = (tone(2.5, 8000) / 32767).astype(np.float32)
    meter = WaveformMeter()
    for start in range(0, x.size, 777):  # chunks that do not align with its blocks
        meter.feed(x[start : start + 777])
    streamed, whole = meter.peaks(), peaks(x)
    assert len(streamed) == len(whole) == BARS
    # However the stream was cut, the same as feeding it whole.
    at_once = WaveformMeter()
    at_once.feed(x)
    assert streamed == at_once.peaks()
    # Bars are regrouped block maxima: each close to the peak of its exact slice.
    assert max(abs(a - b) for a, b in zip(streamed, whole, strict=True)) <= 5


def test_render_stores_the_waveform_of_the_file_written(tmp_path: Path) -> None:
    out = tmp_path / "b.mp3"
    result = render_speech("Thông báo lịch tiêm chủng.", out, engine=EspeakEngine(), voice="vi",
                           settings=RenderSettings())
    assert len(result.waveform) == BARS
    assert max(result.waveform) >= 50  # speech at broadcast loudness peaks near full scale
    assert result.waveform[0] <= 2  # the lead silence
    # The same picture from the file decoded again, independently of the encoder's verification.
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(out), "-ac", "1", "-ar", "22050", "-f", "f32le",
                          "pipe:1"], capture_output=True, check=True).stdout  # fmt: skip
    again = peaks(np.frombuffer(raw, dtype="<f4"))
    # Bars from block maxima differ from exact slices only where the sound starts inside a block.
    close = sum(abs(a - b) <= 3 for a, b in zip(result.waveform, again, strict=True))
    assert close >= BARS * 9 // 10
