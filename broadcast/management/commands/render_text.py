"""Render a text to a broadcast-ready MP3 without the API: `manage.py render_text FILE|- -o out.mp3`."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from broadcast.audio.cli import load_lexicon_file, read_text_arg
from broadcast.audio.config import AudioConfig
from broadcast.audio.errors import AudioError
from broadcast.audio.normalize import speakable_text
from broadcast.audio.render import render_speech


class Command(BaseCommand):
    help = "Đọc một văn bản (tệp hoặc stdin) thành tệp MP3 đã chuẩn hóa độ lớn."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", nargs="?", default="-", help="text file, or - for stdin (default)")
        parser.add_argument("-o", "--output", required=True, help="MP3 file to write")
        parser.add_argument("--engine", help="engine name: espeak, gtts, chain (default: settings)")
        parser.add_argument("--voice", help="voice, e.g. vi, vi-vn-x-central, vi-vn-x-south (default: settings)")
        parser.add_argument("--lexicon", help="pronunciation file (JSON object, or 'term = spoken' lines)")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: object, **options: object) -> None:
        config = AudioConfig.from_django_settings()
        try:
            text = read_text_arg(str(options["source"]))
            lexicon = load_lexicon_file(str(options["lexicon"])) if options.get("lexicon") else None
            spoken = speakable_text(text, lexicon, max_chars=config.limits.max_text_chars)
            engine = config.build_engine(str(options["engine"]) if options.get("engine") else None)
            result = render_speech(
                spoken,
                Path(str(options["output"])),
                engine=engine,
                voice=str(options.get("voice") or config.voice),
                settings=config.render_settings(),
                limits=config.limits,
            )
        except (AudioError, ValueError, OSError) as exc:
            raise CommandError(str(exc)) from None
        if options.get("json"):
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
            return
        for attempt in result.attempts:
            if not attempt.ok:
                self.stderr.write(f"{attempt.engine}: {attempt.error}")
        self.stdout.write(
            f"{result.path}  {result.duration_ms / 1000:.1f} s  {result.size_bytes} bytes  "
            f"{result.loudness_lufs:.1f} LUFS  {result.true_peak_dbtp:.1f} dBTP  "
            f"engine={result.engine} voice={result.voice}  sha256={result.sha256}"
        )
