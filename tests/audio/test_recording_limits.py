"""An uploaded recording costs bounded CPU: refused by its probed format before any decoding, and the
decoder itself runs under a CPU-time limit."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from broadcast.audio.config import AudioConfig
from broadcast.audio.errors import AudioValidationError, RenderError
from broadcast.audio.render import RenderLimits, RenderSettings, probe_audio, render_recording
from broadcast.audio.tools import run_tool


def _silence(path: Path, *, seconds: float, rate: int, layout: str) -> Path:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"anullsrc=r={rate}:cl={layout}", "-t", str(seconds), "-c:a", "flac", str(path)], check=True)
    return path


def test_a_many_channel_upload_is_refused_before_decoding(tmp_path):
    flac = _silence(tmp_path / "71.flac", seconds=3, rate=48000, layout="7.1")
    with pytest.raises(AudioValidationError) as caught:
        probe_audio(flac, RenderSettings(), RenderLimits())
    assert caught.value.code == "too_many_channels" and "kênh" in str(caught.value)


def test_a_high_sample_rate_upload_is_refused_before_decoding(tmp_path):
    flac = _silence(tmp_path / "hi.flac", seconds=3, rate=192000, layout="mono")
    with pytest.raises(AudioValidationError) as caught:
        probe_audio(flac, RenderSettings(), RenderLimits())
    assert caught.value.code == "sample_rate_too_high" and "kHz" in str(caught.value)


def test_an_ordinary_stereo_recording_is_accepted(tmp_path):
    flac = _silence(tmp_path / "st.flac", seconds=2, rate=44100, layout="stereo")
    assert probe_audio(flac, RenderSettings(), RenderLimits())["duration_s"] == pytest.approx(2, abs=0.1)


def test_the_worker_refuses_it_too_without_decoding(tmp_path, monkeypatch):
    """A file stored before the limits existed, or under other limits, is refused by the render too."""
    from broadcast.audio.render import recording

    flac = _silence(tmp_path / "71.flac", seconds=3, rate=192000, layout="7.1")
    decoded = []
    monkeypatch.setattr(recording, "run_tool", lambda *a, **k: decoded.append(a) or b"")
    with pytest.raises(AudioValidationError):
        render_recording(flac, tmp_path / "out.mp3", settings=RenderSettings(), limits=RenderLimits())
    assert decoded == []


def test_a_tool_past_its_cpu_budget_is_stopped(tmp_path):
    started = time.monotonic()
    with pytest.raises(RenderError) as caught:
        run_tool([sys.executable, "-c", "while True: pass"], timeout=60, what="Giải mã", cpu_seconds=1)
    assert caught.value.code == "tool_cpu_limit" and "Giải mã" in str(caught.value)
    assert time.monotonic() - started < 10


def test_limits_come_from_settings():
    config = AudioConfig.from_mapping({"MAX_RECORDING_CHANNELS": 1, "MAX_RECORDING_RATE": 16000,
                                       "DECODE_CPU_S": 7})
    assert (config.limits.max_recording_channels, config.limits.max_recording_rate) == (1, 16000)
    assert config.limits.decode_cpu_s == 7
