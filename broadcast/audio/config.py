"""Audio configuration: the ``LOA_AUDIO`` settings dict turned into typed objects.

Core functions never read settings; they take ``RenderSettings``/engines explicitly. This module
is the one bridge, so tests can build an ``AudioConfig`` from a plain mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .engines import SpeechEngine, get_engine
from .render import RenderLimits, RenderSettings


@dataclass(frozen=True)
class AudioConfig:
    engine: str = "espeak"
    chain: tuple[str, ...] = ("gtts", "espeak")
    voice: str = "vi"
    espeak: Mapping[str, Any] = field(default_factory=dict)
    gtts: Mapping[str, Any] = field(default_factory=dict)
    settings: RenderSettings = field(default_factory=RenderSettings)
    limits: RenderLimits = field(default_factory=RenderLimits)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> AudioConfig:
        """Build from a ``LOA_AUDIO``-style dict; missing keys keep their defaults."""
        d = dict(data)
        base_settings = RenderSettings()
        base_limits = RenderLimits()

        def path_or_none(value: Any) -> Path | None:
            return Path(value).expanduser() if value else None

        settings = RenderSettings(
            target_lufs=float(d.get("TARGET_LUFS", base_settings.target_lufs)),
            true_peak_dbtp=float(d.get("TRUE_PEAK_DBTP", base_settings.true_peak_dbtp)),
            sample_rate=int(d.get("SAMPLE_RATE", base_settings.sample_rate)),
            bitrate=str(d.get("BITRATE", base_settings.bitrate)),
            channels=int(d.get("CHANNELS", base_settings.channels)),
            lead_silence_ms=int(d.get("LEAD_SILENCE_MS", base_settings.lead_silence_ms)),
            tail_silence_ms=int(d.get("TAIL_SILENCE_MS", base_settings.tail_silence_ms)),
            sentence_gap_ms=int(d.get("SENTENCE_GAP_MS", base_settings.sentence_gap_ms)),
            intro_jingle=path_or_none(d.get("INTRO_JINGLE")),
            outro_jingle=path_or_none(d.get("OUTRO_JINGLE")),
            use_default_chime=bool(d.get("DEFAULT_CHIME", base_settings.use_default_chime)),
            ffmpeg_binary=str(d.get("FFMPEG_BINARY", base_settings.ffmpeg_binary)),
            ffprobe_binary=str(d.get("FFPROBE_BINARY", base_settings.ffprobe_binary)),
            tool_timeout_s=float(d.get("TOOL_TIMEOUT_S", base_settings.tool_timeout_s)),
            workers=int(d.get("WORKERS", base_settings.workers)),
        )
        limits = RenderLimits(
            max_text_chars=int(d.get("MAX_TEXT_CHARS", base_limits.max_text_chars)),
            max_upload_bytes=int(
                float(d.get("MAX_UPLOAD_MB", base_limits.max_upload_bytes / 1_048_576)) * 1_048_576
            ),
            min_recording_s=float(d.get("MIN_RECORDING_S", base_limits.min_recording_s)),
            max_recording_s=float(d.get("MAX_RECORDING_S", base_limits.max_recording_s)),
            max_recording_channels=int(d.get("MAX_RECORDING_CHANNELS", base_limits.max_recording_channels)),
            max_recording_rate=int(d.get("MAX_RECORDING_RATE", base_limits.max_recording_rate)),
            decode_cpu_s=float(d.get("DECODE_CPU_S", base_limits.decode_cpu_s)),
        )
        espeak = {
            "binary": str(d.get("ESPEAK_BINARY", "espeak-ng")),
            "rate": int(d.get("ESPEAK_RATE", 165)),
            "pitch": int(d.get("ESPEAK_PITCH", 50)),
            "timeout": float(d.get("ESPEAK_TIMEOUT_S", 60.0)),
        }
        gtts = {
            "timeout": float(d.get("GTTS_TIMEOUT_S", 10.0)),
            "retries": int(d.get("GTTS_RETRIES", 2)),
            "backoff": float(d.get("GTTS_BACKOFF_S", 1.0)),
            "tld": str(d.get("GTTS_TLD", "com.vn")),
            "base_url": str(d.get("GTTS_BASE_URL", "")) or None,
            "ffmpeg_binary": settings.ffmpeg_binary,
            "ffprobe_binary": settings.ffprobe_binary,
        }
        chain = tuple(d.get("CHAIN", ("gtts", "espeak")))
        return cls(
            engine=str(d.get("ENGINE", "espeak")),
            chain=chain,
            voice=str(d.get("VOICE", "vi")),
            espeak=espeak,
            gtts=gtts,
            settings=settings,
            limits=limits,
        )

    @classmethod
    def from_django_settings(cls) -> AudioConfig:
        from django.conf import settings as django_settings

        return cls.from_mapping(getattr(django_settings, "LOA_AUDIO", {}) or {})

    def render_settings(self) -> RenderSettings:
        return self.settings

    def engine_options(self, name: str) -> dict[str, Any]:
        if name == "espeak":
            return dict(self.espeak)
        if name == "gtts":
            return dict(self.gtts)
        if name == "chain":
            return {
                "engines": list(self.chain),
                "engine_options": {"espeak": dict(self.espeak), "gtts": dict(self.gtts)},
            }
        return {}

    def build_engine(self, name: str | None = None) -> SpeechEngine:
        """The engine ``name`` (default: the configured one) with its options from settings."""
        name = name or self.engine
        return get_engine(name, **self.engine_options(name))
