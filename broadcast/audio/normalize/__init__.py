"""Bulletin text -> speakable text: what a Vietnamese speech engine should read aloud.

Deterministic, pure functions, free of Django. One pass per concern, most specific first:
web and e-mail addresses, document codes, road chainage, identifiers and telephone numbers
(`identifiers`), times, dates and date-like fractions (`dates`), money, units, per-unit slashes
(`amounts`), the editors' lexicon and the abbreviation table (`abbreviations`), codes, ranges and
plain numbers (`numbers`), and last, unknown abbreviations spelled letter by letter. Each rule leaves
a span (source offsets, spoken form, rule) so an editor can check every rewritten token (`spans`);
guesses come with a Vietnamese warning. The editor's capitalization is kept; punctuation is kept
where it makes the engine pause (`sentences`).
"""

from __future__ import annotations

from ..lexicon import DEFAULT_LEXICON
from .abbreviations import is_vietnamese_syllable
from .numbers import read_digits, read_number
from .pipeline import read_text, speakable_text
from .sentences import DEFAULT_MAX_SENTENCE_CHARS, pack_words, split_sentences
from .spans import Reading, ReadingWarning, Span

__all__ = [
    "DEFAULT_LEXICON",
    "DEFAULT_MAX_SENTENCE_CHARS",
    "Reading",
    "ReadingWarning",
    "Span",
    "is_vietnamese_syllable",
    "pack_words",
    "read_digits",
    "read_number",
    "read_text",
    "speakable_text",
    "split_sentences",
]
