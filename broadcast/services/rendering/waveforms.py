"""The waveform of renditions rendered before waveforms were stored: decoded once from the file that airs."""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings

from broadcast.audio import render as audio_render
from broadcast.audio.errors import AudioError
from broadcast.audio.render.waveform import WaveformMeter
from broadcast.models import AudioRendition

from .inputs import _audio_config, _render_settings

log = logging.getLogger(__name__)


def missing_waveforms():
    return AudioRendition.objects.filter(status=AudioRendition.Status.READY, waveform=[]).exclude(file="")


def fill_missing_waveforms(*, limit: int | None = None) -> tuple[int, list[str]]:
    """Draws the waveform of ready renditions that have none, from their stored file; returns (filled,
    problems). Safe to run twice or alongside itself: a waveform is only ever written where none is."""
    render_settings = _render_settings(_audio_config())
    filled, problems = 0, []
    ids = list(missing_waveforms().order_by("pk").values_list("pk", "file")[:limit])
    for pk, relative in ids:
        path = Path(settings.MEDIA_ROOT) / relative
        meter = WaveformMeter()
        try:
            audio_render.measure_file(path, render_settings, wave=meter)
        except (AudioError, OSError) as exc:
            problems.append(f"bản âm thanh #{pk} ({relative}): {exc}")
            continue
        peaks = meter.peaks()
        if peaks:
            filled += AudioRendition.objects.filter(pk=pk, waveform=[]).update(waveform=peaks)
    return filled, problems
