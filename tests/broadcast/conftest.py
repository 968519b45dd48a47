"""Fixtures of the editorial workflow tests: a fast stand-in for the audio pipeline.

Unit tests exercise the state machine and the rendering bookkeeping; the stand-in writes a real
(tiny) MP3 so file serving and hashing are real. The end-to-end tests use the real pipeline.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.utils import timezone

from broadcast.services import rendering
from tests.broadcast.factories_reports import make_playlist, plain_bulletin
from tests.factories import make_tone_mp3


@dataclass
class FakeResult:
    path: Path
    sha256: str
    duration_ms: int
    size_bytes: int
    loudness_lufs: float = -16.0
    true_peak_dbtp: float = -1.5
    engine: str = "fake"
    voice: str = "vi"
    attempts: list = field(default_factory=list)


class FakeRenderer:
    """Records each synthesis; `fail_with` makes the next calls raise that exception."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.fail_with: Exception | None = None

    def __call__(self, rendition, out_path: Path) -> FakeResult:  # noqa: ANN001
        self.calls.append(rendition.speakable_text)
        if self.fail_with is not None:
            raise self.fail_with
        out_path.parent.mkdir(parents=True, exist_ok=True)
        # Distinct text gives a distinct tone, so distinct bytes and sha256.
        freq = 300 + int(rendition.text_hash[:4], 16) % 1500
        shutil.copyfile(make_tone_mp3(1.0, freq), out_path)
        data = out_path.read_bytes()
        return FakeResult(path=out_path, sha256=hashlib.sha256(data).hexdigest(), duration_ms=1000,
                          size_bytes=len(data), voice=rendition.voice)


@pytest.fixture
def fake_render(monkeypatch) -> FakeRenderer:
    renderer = FakeRenderer()
    monkeypatch.setattr(rendering.run, "_render", renderer)
    monkeypatch.setattr(
        rendering.inputs, "render_profile",
        lambda voice="": rendering.RenderProfile(engine="espeak", voice=voice or "vi", settings_key="test-key"),
    )
    return renderer


@pytest.fixture
def day():
    """Yesterday: a played day whose reports are plausible at any hour."""
    return timezone.localdate() - dt.timedelta(days=1)


@pytest.fixture
def items(station, day):
    return make_playlist(station, day, [plain_bulletin("Bản tin A"), plain_bulletin("Bản tin B")])
