"""Speech synthesis: sentence pieces from the engine(s), band-limited and trimmed, one voice from start to
end."""

from __future__ import annotations

import io
import struct
import time
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numpy as np
from pydub import AudioSegment
from pydub.exceptions import CouldntDecodeError
from scipy.signal import butter, sosfilt

from .. import segments
from ..engines import Attempt, ChainEngine, SpeechEngine, first_that_works
from ..loudness import (
    block_sample_peaks,
)
from ..normalize import pack_words
from ..wav import read_wav
from .options import RenderSettings


@lru_cache(maxsize=4)
def _band_limit_sos(rate: int) -> np.ndarray:
    # libmp3lame at 64 kbit/s cuts near 10 kHz (22.05 kHz output). Removing that band ourselves
    # means we measure and limit what listeners will get, so the MP3 lands on the target.
    return butter(8, min(9500.0, 0.43 * rate), btype="low", fs=rate, output="sos")


def _band_limit(samples: np.ndarray, rate: int) -> np.ndarray:
    y = sosfilt(_band_limit_sos(rate), samples.astype(np.float32))
    np.rint(y, out=y)
    np.clip(y, -32768, 32767, out=y)
    return y.astype(np.int16)


def _decode_engine_wav(wav: bytes, rate: int) -> AudioSegment:
    """Engine WAV -> 16-bit mono AudioSegment at ``rate``.

    pydub parses the WAV (espeak-ng's streamed WAV with bogus size fields included); the few
    layouts it refuses (float WAV) go through the tolerant numpy reader instead.
    """
    try:
        segment = AudioSegment.from_wav(io.BytesIO(wav))
    except (CouldntDecodeError, ValueError, IndexError, struct.error):
        samples, source_rate = read_wav(wav)
        segment = segments.from_array(samples, source_rate)
    return segments.to_output_format(segment, rate)


def _prepare_piece(wav: bytes, rate: int) -> AudioSegment:
    """Engine WAV -> band-limited 16-bit mono AudioSegment at ``rate``, trimmed to the voice.

    The edges are faded when the piece is joined (``segments.join_with_silence``).
    """
    samples = segments.as_array(_decode_engine_wav(wav, rate))
    del wav
    samples = _band_limit(samples, rate)
    # First and last sample above ~ -50 dBFS, found block-wise to avoid big index arrays.
    loud_blocks = np.flatnonzero(block_sample_peaks(samples, 256) > 100)
    if loud_blocks.size == 0:
        return segments.silence(0, rate)
    start = max(0, int(loud_blocks[0]) * 256 - int(0.02 * rate))
    end = min(samples.size, (int(loud_blocks[-1]) + 1) * 256 + int(0.06 * rate))
    return segments.from_array(samples[start:end], rate)


def _synthesize_with(
    engine: SpeechEngine, voice: str, batches: list[str], rate: int, workers: int
) -> list[AudioSegment]:
    def one(text: str) -> AudioSegment:
        return _prepare_piece(engine.synthesize(text, voice), rate)

    parallel = max(1, min(workers, int(getattr(engine, "max_parallel", 1)), len(batches)))
    if parallel == 1:
        return [one(b) for b in batches]
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="loa-tts") as pool:
        futures = [pool.submit(one, b) for b in batches]
        try:
            return [f.result() for f in futures]
        except BaseException:
            for f in futures:
                f.cancel()
            raise


def _synthesize(
    engine: SpeechEngine, voice: str, sentences: list[str], settings: RenderSettings
) -> tuple[list[AudioSegment], str, list[Attempt]]:
    """Synthesize all sentences with one engine (a chain falls back engine by engine, so a bulletin
    is never read by two voices)."""

    def read_all(candidate: SpeechEngine) -> list[AudioSegment]:
        batches = pack_words(sentences, int(getattr(candidate, "batch_chars", 1000)))
        return _synthesize_with(candidate, voice, batches, settings.sample_rate, settings.workers)

    if isinstance(engine, ChainEngine):
        return first_that_works(engine.engines, voice, read_all)
    started = time.monotonic()
    pieces = read_all(engine)
    return pieces, engine.name, [Attempt(engine.name, voice, True, seconds=time.monotonic() - started)]
