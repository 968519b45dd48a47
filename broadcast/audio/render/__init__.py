"""Speech or a recording -> broadcast-ready MP3 at a steady loudness.

Signal path: sentence-sized pieces from the engine (trimmed, faded, joined with a fixed gap) ->
lead silence, intro jingle, speech, outro jingle, tail silence -> one analysis pass (K-weighted
100 ms energies, 4x-oversampled peaks per 64-sample block) -> gains planned on those block
statistics (static gain to the loudness target, jingles a few LU under the speech, a look-ahead
true-peak limiter) -> one streaming pass into ffmpeg/libmp3lame -> the MP3 is decoded and
measured independently, and re-rendered with corrected gain if it missed -> atomic rename.

Memory stays around two bytes per output sample (int16 program) plus small per-block arrays, so
a 30-minute text fits well under 300 MB. ffmpeg encodes while numpy computes the next chunk.

The stages live in one module each: ``options`` (settings, limits, result), ``synthesis``, ``assembly``,
``limiter``, ``encoding``, ``speech`` and ``recording`` (the two entry points).
"""

from __future__ import annotations

from ..errors import AudioValidationError
from .encoding import measure_file
from .options import PIPELINE_VERSION, RenderLimits, RenderResult, RenderSettings
from .recording import probe_audio, render_recording
from .speech import render_speech

__all__ = [
    "PIPELINE_VERSION",
    "AudioValidationError",
    "RenderLimits",
    "RenderResult",
    "RenderSettings",
    "measure_file",
    "probe_audio",
    "render_recording",
    "render_speech",
]
