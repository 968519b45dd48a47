"""Prosody punctuation of the spoken text and splitting it into sentence-sized pieces."""

from __future__ import annotations

import re

DEFAULT_MAX_SENTENCE_CHARS = 300

_PUNCT_RUN_RE = re.compile(r"[,.;:!?](?:\s*[,.;:!?])+")
_PUNCT_RANK = {"?": 6, "!": 5, ".": 4, ";": 3, ":": 2, ",": 1}


def _collapse_punct(m: re.Match[str]) -> str:
    marks = [c for c in m.group(0) if c in _PUNCT_RANK]
    return max(marks, key=lambda c: _PUNCT_RANK[c])


def finish_line(line: str) -> str:
    line = re.sub(r"^[\s\-•*+·,.;:]+", "", line)  # list bullets and stray leading marks
    line = re.sub(r"[ \t]+", " ", line).strip()
    line = re.sub(r"\s+([,.;:!?])", r"\1", line)
    line = _PUNCT_RUN_RE.sub(_collapse_punct, line)
    line = re.sub(r"([,.;:!?])(?=[^\s\d])", r"\1 ", line)
    line = line.strip()
    if not any(c.isalpha() for c in line):
        return ""
    if line[-1] in ",;:":
        line = line[:-1] + "."
    elif line[-1] not in ".!?":
        line += "."  # headings and titles: end with a pause
    return line


_SENTENCE_END_RE = re.compile(r"(?<=[.!?;:])\s+")


def pack_words(parts: list[str], max_chars: int) -> list[str]:
    """Join consecutive parts with spaces into pieces of at most ``max_chars`` (a part that is longer
    on its own stays whole)."""
    pieces: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current} {part}".strip()
        if current and len(candidate) > max_chars:
            pieces.append(current)
            current = part
        else:
            current = candidate
    if current:
        pieces.append(current)
    return pieces


def _split_long(sentence: str, max_chars: int) -> list[str]:
    if len(sentence) <= max_chars:
        return [sentence]
    # Prefer commas (a natural pause), then spaces; never cut inside a word.
    parts: list[str] = []
    for clause in re.split(r"(?<=,)\s+", sentence):
        parts.extend(pack_words(clause.split(" "), max_chars) if len(clause) > max_chars else [clause])
    return pack_words(parts, max_chars)


def split_sentences(speakable: str, max_chars: int = DEFAULT_MAX_SENTENCE_CHARS) -> list[str]:
    """Split speakable text into sentence-sized pieces (at . ! ? ; : and line ends).

    Pieces longer than ``max_chars`` are cut at commas, then between words. Pieces without any
    letter are dropped. Joining the result with spaces gives back the words in order.
    """
    if max_chars < 20:
        raise ValueError("max_chars must be at least 20")
    out: list[str] = []
    for line in speakable.split("\n"):
        for sentence in _SENTENCE_END_RE.split(line.strip()):
            sentence = sentence.strip()
            if not sentence or not any(c.isalpha() for c in sentence):
                continue
            out.extend(_split_long(sentence, max_chars))
    return out
