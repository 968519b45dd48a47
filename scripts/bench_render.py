"""Benchmark Loa's speech render against a bare espeak-ng + ffmpeg baseline, in the same run.

    .venv/bin/python scripts/bench_render.py [--repeat N] [--text FILE]

Renders the long demo article (broadcast/demo/article.txt, about 9,000 characters) and prints wall time, audio seconds, real-time factor, peak memory (this process
and its children) and the ratio of Loa's full render (normalize text, synthesize in parallel
pieces joined by pydub, loudness + true-peak limiting, MP3 with an independent decode-and-measure
running while it is encoded) to the baseline (espeak-ng CLI to WAV, then ffmpeg to the same MP3
settings, no normalization). ``--repeat 4`` makes a ~30-minute text to check memory stays bounded.
The load average is printed too: on a busy 2-core machine the ratio tends to the CPU-time ratio.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from broadcast.audio.engines import EspeakEngine  # noqa: E402
from broadcast.audio.normalize import speakable_text  # noqa: E402
from broadcast.audio.render import RenderLimits, RenderSettings, render_speech  # noqa: E402
from broadcast.demo import ARTICLE  # noqa: E402


def peak_rss_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def baseline(speakable: str, engine: EspeakEngine, settings: RenderSettings, workdir: Path) -> float:
    """espeak-ng CLI to WAV, ffmpeg to the same MP3 settings; no normalization."""
    wav, mp3 = workdir / "base.wav", workdir / "base.mp3"
    started = time.perf_counter()
    subprocess.run(
        [engine.binary, "-v", "vi", "-s", str(engine.rate), "-p", str(engine.pitch), "-b", "1", "-w", str(wav)],
        input=speakable.encode(), check=True,
    )  # fmt: skip
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-ac", str(settings.channels), "-ar",
         str(settings.sample_rate), "-c:a", "libmp3lame", "-b:a", settings.bitrate, str(mp3)],
        check=True,
    )  # fmt: skip
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", type=Path, default=ARTICLE)
    parser.add_argument("--repeat", type=int, default=1, help="repeat the text N times (4 ~ 30 minutes)")
    args = parser.parse_args()
    if not args.text.is_file():
        print(f"text not found: {args.text}", file=sys.stderr)
        return 2
    text = "\n\n".join([args.text.read_text(encoding="utf-8")] * args.repeat)
    engine = EspeakEngine()
    settings = RenderSettings()
    limits = RenderLimits(max_text_chars=max(len(text) * 2, 20_000))

    with tempfile.TemporaryDirectory(prefix="loa-bench-") as tmp:
        workdir = Path(tmp)
        # Warm-up outside the timings: imports, the one-off encoder calibration.
        render_speech("Xin chào.", workdir / "warm.mp3", engine=engine, voice="vi", settings=settings)

        t0 = time.perf_counter()
        spoken = speakable_text(text, max_chars=limits.max_text_chars)
        t_text = time.perf_counter() - t0
        result = render_speech(spoken, workdir / "loa.mp3", engine=engine, voice="vi", settings=settings,
                               limits=limits)  # fmt: skip
        loa = time.perf_counter() - t0

        base = baseline(spoken, engine, settings, workdir)
        own, children = peak_rss_mb()

    audio_s = result.duration_ms / 1000
    print(f"text:              {args.text.name} x{args.repeat} ({len(text)} chars, {len(spoken)} speakable)")
    print(f"audio:             {audio_s:.1f} s ({audio_s / 60:.1f} min)")
    print(f"loa wall time:     {loa:.2f} s (speakable text {t_text:.2f} s)")
    print(f"real-time factor:  {loa / audio_s:.4f}  ({audio_s / loa:.0f}x faster than real time)")
    print(f"baseline:          {base:.2f} s (espeak-ng -w + ffmpeg mp3, no normalization)")
    print(f"ratio loa/base:    {loa / base:.2f}  (target <= 1.5)")
    print(f"peak RSS:          {own:.0f} MB self, {children:.0f} MB largest child (target <= 300 MB)")
    print(f"load average:      {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    print(f"result:            {result.loudness_lufs:.2f} LUFS, {result.true_peak_dbtp:.2f} dBTP, "
          f"{result.size_bytes} bytes")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
