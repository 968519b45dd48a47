"""The order of the rules: the most specific reading first, plain numbers and spelling last."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from ..errors import EmptyTextError, NoSpeakableTextError, TextTooLongError
from .abbreviations import apply_lexicon, merged_table, spell_unknown
from .amounts import read_amounts, read_ranges_and_numbers
from .dates import read_counted_words, read_dashes_between, read_dates, read_hour_words, read_times
from .identifiers import (
    read_addresses,
    read_chainage,
    read_code_tokens,
    read_doc_codes,
    read_identifiers,
    read_phones,
)
from .sentences import finish_line
from .spans import PH_CHARS_RE, Doc, Reading

# Each replacement keeps the length, so offsets into the (NFC) source stay valid.
_CHAR_MAP = str.maketrans({"\r": "\n", "\u00a0": " ", "\u200b": " ", "\u00d0": "Đ", "\u2013": "-",
                           "\u2014": "-", "\u2212": "-", "\t": " "})  # fmt: skip
_DIGIT_RE = re.compile(r"\d")
_QUOTES_RE = re.compile(r"[\"“”„‟«»]|(?<!\w)['‘’]|['‘’](?!\w)")
_ELLIPSIS_RE = re.compile(r"(?:\.{3,}|…)(?=(\s*)(.?))")


def _sub_ellipsis(m: re.Match[str]) -> str:
    following = m.group(2)
    # "a, b, c..." inside a sentence is a list pause; before a capital or the end, a full stop.
    mark = "." if following == "" or following.isupper() or following == "\n" else ","
    return mark + " " * (len(m.group(0)) - 1)


def _prepare(text: str) -> str:
    text = text.translate(_CHAR_MAP)
    text = PH_CHARS_RE.sub(" ", text)
    text = _QUOTES_RE.sub(" ", text)
    return _ELLIPSIS_RE.sub(_sub_ellipsis, text)


def read_text(text: str, lexicon: Mapping[str, str] | None = None, *, max_chars: int | None = None) -> Reading:
    """What a speech engine should read for ``text``, with every rewritten span and the guesses.

    ``lexicon`` (term -> spoken, case-sensitive, whole words) extends and overrides the built-in
    abbreviation table; it never applies inside a unit, code or address a built-in rule has read.
    Raises ``EmptyTextError``, ``NoSpeakableTextError`` or ``TextTooLongError``.
    """
    if text is None or not str(text).strip():
        raise EmptyTextError()
    source = unicodedata.normalize("NFC", str(text))
    if max_chars is not None and len(source) > max_chars:
        raise TextTooLongError(len(source), max_chars)

    doc = Doc(source=source, text=_prepare(source))
    pattern, table = merged_table(lexicon)
    has_digit = _DIGIT_RE.search(source) is not None

    read_addresses(doc)
    if has_digit:
        read_doc_codes(doc, table)
        read_chainage(doc)
        read_identifiers(doc)
        read_phones(doc)
        read_times(doc)
        read_hour_words(doc)
        read_dates(doc)
        read_dashes_between(doc)
    read_amounts(doc)
    read_dashes_between(doc, frozenset({"amount", "unit"}))
    apply_lexicon(doc, pattern, table)
    if has_digit:
        read_code_tokens(doc, table)
    read_counted_words(doc)
    read_ranges_and_numbers(doc)
    spell_unknown(doc)

    spoken, spans = doc.restore()
    spoken = spoken.replace("&", " và ").replace("+", " cộng ").replace("@", " a còng ")
    spoken = re.sub(r"[()\[\]{}]", ",", spoken)
    spoken = re.sub(r"\s+-+\s+|\s+-+|-+\s+", ", ", spoken)  # spaced dash: a pause
    spoken = spoken.replace("-", " ").replace("/", ", ")
    spoken = re.sub(r"[*#_~^|<>=\\`]", " ", spoken)
    lines = [finish_line(line) for line in spoken.split("\n")]
    result = "\n".join(line for line in lines if line)
    if not any(c.isalpha() for c in result):
        raise NoSpeakableTextError()
    warnings = sorted(doc.warnings, key=lambda w: (w.start, w.code))
    return Reading(source=source, text=result, spans=tuple(sorted(spans, key=lambda s: s.start)),
                   warnings=tuple(warnings))


def speakable_text(text: str, lexicon: Mapping[str, str] | None = None, *, max_chars: int | None = None) -> str:
    """Return what a speech engine should read for ``text`` (see ``read_text``)."""
    return read_text(text, lexicon, max_chars=max_chars).text
