"""Fixtures for the audio tier: a local stand-in for Google's TTS endpoint and generated tones.

Google is unreachable from Loa's machines, so gTTS is tested against an HTTP server on 127.0.0.1
speaking the same batchexecute format. Audio served by it is a generated tone (test-only).
"""

from __future__ import annotations

import base64
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from broadcast.audio.wav import pcm16_to_wav


def tone(seconds: float, rate: int = 22050, freq: float = 440.0, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    # a little vibrato and a second partial so the loudness meter sees something speech-like
    sig = np.sin(2 * np.pi * freq * t + 3 * np.sin(2 * np.pi * 5 * t)) + 0.3 * np.sin(2 * np.pi * 3 * freq * t)
    return np.round(amp * 32767 * sig / 1.3).astype(np.int16)


@pytest.fixture(scope="session")
def tone_mp3(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    d = tmp_path_factory.mktemp("tone")
    wav = d / "tone.wav"
    wav.write_bytes(pcm16_to_wav(tone(1.5, 24000), 24000))
    mp3 = d / "tone.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-b:a", "32k", str(mp3)], check=True)
    return mp3.read_bytes()


class FakeGoogle:
    """Behaviour per request: 'ok', 'hang', '429', '500', '403', 'empty'; counts requests."""

    def __init__(self, audio: bytes) -> None:
        self.audio = audio
        self.script: list[str] = ["ok"]
        self.requests = 0
        self.hang_seconds = 5.0
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def next_mode(self) -> str:
        mode = self.script[min(self.requests, len(self.script) - 1)]
        self.requests += 1
        return mode

    def body(self) -> bytes:
        b64 = base64.b64encode(self.audio).decode()
        return (')]}\'\n\n[["wrb.fr","jQ1olc","[\\"' + b64 + '\\"]",null,null,null,"generic"]]\n').encode()


@pytest.fixture
def fake_google(tone_mp3: bytes, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGoogle]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    fake = FakeGoogle(tone_mp3)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server API
            length = int(self.headers.get("Content-Length", 0))
            self.rfile.read(length)
            mode = fake.next_mode()
            if mode == "hang":
                time.sleep(fake.hang_seconds)
                return
            if mode in {"429", "500", "403"}:
                self.send_response(int(mode))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            payload = b")]}'\n\n[]\n" if mode == "empty" else fake.body()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake._server = server
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake_binary(tmp_path: Path):  # noqa: ANN201
    """Write an executable shell script standing in for a tool (hangs, crashes...)."""

    def make(name: str, script: str) -> str:
        path = tmp_path / name
        path.write_text("#!/bin/sh\n" + script + "\n")
        path.chmod(0o755)
        return str(path)

    return make
