"""Print what the speech engine would read for a text: `manage.py speakable FILE|-`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from broadcast.audio.cli import load_lexicon_file, read_text_arg
from broadcast.audio.errors import AudioError
from broadcast.audio.normalize import read_text, split_sentences


class Command(BaseCommand):
    help = "In văn bản sẽ được đọc (speakable text) cho một tệp văn bản hoặc stdin."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", nargs="?", default="-", help="text file, or - for stdin (default)")
        parser.add_argument("--lexicon", help="pronunciation file (JSON object, or 'term = spoken' lines)")
        parser.add_argument("--sentences", action="store_true", help="one sentence-sized piece per line")
        parser.add_argument("--spans", action="store_true",
                            help="then every rewritten piece (offsets, rule, written -> spoken) and the warnings")

    def handle(self, *args: object, **options: object) -> None:
        try:
            text = read_text_arg(str(options["source"]))
            lexicon = load_lexicon_file(str(options["lexicon"])) if options.get("lexicon") else None
            reading = read_text(text, lexicon)
            spoken = reading.text
        except (AudioError, ValueError, OSError) as exc:
            raise CommandError(str(exc)) from None
        if options.get("sentences"):
            spoken = "\n".join(split_sentences(spoken))
        self.stdout.write(spoken)
        if options.get("spans"):
            self.stdout.write("")
            for span in reading.spans:
                rule = f"{span.rule}:{span.term}" if span.term else span.rule
                self.stdout.write(f"{span.start}-{span.end}\t{rule}\t{span.source} -> {span.spoken}")
            for warning in reading.warnings:
                self.stdout.write(f"{warning.start}-{warning.end}\tcảnh báo\t{warning.message}")
