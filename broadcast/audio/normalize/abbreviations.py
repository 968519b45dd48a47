"""Abbreviations, the editors' lexicon and letter spelling.

Order of precedence (also stated in the API description): the built-in structural rules (addresses,
document codes, identifiers and telephone numbers, times, dates, amounts and units) read first; then
the editors' pronunciation entries, on whole words only, which override the built-in abbreviation
table (abbreviations.tsv); then codes, ranges and plain numbers; last, an upper-case abbreviation
nobody listed is spelled letter by letter and flagged. One text reads one token one way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

from ..lexicon import DEFAULT_LEXICON, LETTER_NAMES
from .spans import Doc

_ONSETS = ("ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu", "th", "tr", "b", "c", "d", "g", "h",
           "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "")  # fmt: skip
_RIME_RE = re.compile(r"[aeiouy]{1,3}(?:ng|nh|ch|c|m|n|p|t)?")


def _strip_marks(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn").lower()


@lru_cache(maxsize=4096)
def is_vietnamese_syllable(word: str) -> bool:
    """True if the letters form a possible Vietnamese syllable ("KHẨN" yes, "UBND" no)."""
    base = _strip_marks(word)
    if not base.isalpha() or not base.isascii():
        return False
    for onset in _ONSETS:
        if base.startswith(onset) and _RIME_RE.fullmatch(base[len(onset) :]):
            return True
    return False


def spell_letters(letters: str) -> str:
    return " ".join(LETTER_NAMES.get(ch.upper(), ch) for ch in letters if ch.strip())


def _end_assertion(term: str) -> str:
    if term[-1].isalnum():
        return r"(?![\w/@]|\.\w)"  # not the head of a longer word, a unit ("km/h") or an address
    if term.endswith("."):
        return r"(?=[ \t]*\w)"  # "TP." is an abbreviation only when a word follows
    return ""


def _trie_pattern(terms: list[str]) -> str:
    """One regex for many terms, shared prefixes merged (a plain alternation of a few hundred terms
    is tried term by term at every position)."""
    trie: dict = {}
    for term in terms:
        node = trie
        for ch in term:
            node = node.setdefault(ch, {})
        node[""] = _end_assertion(term)

    def build(node: dict) -> str:
        # Longer continuations first: the longest term wins.
        alternatives = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if "" in node:
            alternatives.append(node[""])
        if len(alternatives) == 1:
            return alternatives[0]
        return "(?:" + "|".join(alternatives) + ")"

    return build(trie)


@lru_cache(maxsize=64)
def _compile(items: tuple[tuple[str, str, bool], ...]) -> tuple[re.Pattern[str] | None, dict[str, tuple[str, bool]]]:
    table = {term: (spoken, editor) for term, spoken, editor in items}
    words = [t for t in table if t[0].isalnum()]
    others = [t for t in table if not t[0].isalnum()]
    parts = []
    if words:
        # A whole word: not the tail of a word, a unit, an address or a code ("1/QĐ").
        parts.append(r"(?<![\w/@.])" + _trie_pattern(words))
    if others:
        parts.append(_trie_pattern(others))
    if not parts:
        return None, table
    return re.compile("|".join(parts)), table


def merged_table(lexicon: Mapping[str, str] | None) -> tuple[re.Pattern[str] | None, dict[str, tuple[str, bool]]]:
    """The built-in abbreviations with the editors' entries over them: term -> (spoken, is_editor's)."""
    merged = {term: (spoken, False) for term, spoken in DEFAULT_LEXICON.items()}
    for term, spoken in (lexicon or {}).items():
        term = unicodedata.normalize("NFC", str(term)).strip()
        spoken = unicodedata.normalize("NFC", str(spoken)).strip()
        if term and spoken:
            merged[term] = (spoken, True)
    return _compile(tuple(sorted((t, s, e) for t, (s, e) in merged.items())))


def apply_lexicon(doc: Doc, pattern: re.Pattern[str] | None, table: Mapping[str, tuple[str, bool]]) -> None:
    if pattern is None:
        return

    def sub(m: re.Match[str]) -> str:
        term = m.group(0)
        spoken, editor = table[term]
        if editor:
            return doc.protect(m, spoken, "lexicon", term=term)
        return doc.protect(m, doc.memo.setdefault(term, spoken), "abbreviation")

    doc.sub(pattern, sub)


def read_letters(doc: Doc, run: str, table: Mapping[str, tuple[str, bool]]) -> tuple[str, bool]:
    """A run of letters inside a code ("KP" of "KP3"): the table, else as a word, else spelled.
    Returns the reading and whether it was a guess (spelled)."""
    if run in doc.memo:
        return doc.memo[run], False
    if run in table:
        return doc.memo.setdefault(run, table[run][0]), False
    if is_vietnamese_syllable(run) and not run.isupper():
        return run, False
    spoken = spell_letters(run)
    doc.memo[run] = spoken
    return spoken, len(run) > 1


_ACRONYM_RE = re.compile(r"(?<![\w])[^\W\d_]{2,}(?![\w])")


def spell_unknown(doc: Doc) -> None:
    """Upper-case abbreviations nobody listed: spelled rather than left to the engine's English guess."""
    warned: set[str] = set()

    def sub(m: re.Match[str]) -> str:
        word = m.group(0)
        if word.islower() or word[1:].islower() or sum(1 for c in word if c.isupper()) < 2 or is_vietnamese_syllable(word):
            return word
        spoken = doc.memo.setdefault(word, spell_letters(word))
        if word not in warned:
            warned.add(word)
            doc.warn(m, "unknown_abbreviation",
                     f"Chữ viết tắt “{word}” chưa có trong từ điển nên sẽ được đánh vần: “{spoken}”. "
                     "Nếu cần đọc khác, hãy thêm mục phát âm.")
        return doc.protect(m, spoken, "spelled")

    doc.sub(_ACRONYM_RE, sub)
