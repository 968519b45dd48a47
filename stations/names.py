"""Unit names compared the way people write them: without diacritics, case or the unit's type."""

from __future__ import annotations

import re
import unicodedata

# The type a name starts with ("Phường Ba Đình", "Huyện Đông Anh"), folded; longest first.
_TYPE_PREFIXES = ("thanh pho", "thi tran", "thi xa", "dac khu", "phuong", "huyen", "quan", "tinh", "xa")
_NON_WORD = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lower case, no diacritics (đ → d), words separated by one space: 'Phường Đồng Xuân' → 'phuong dong xuan'."""
    decomposed = unicodedata.normalize("NFD", (text or "").replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return _NON_WORD.sub(" ", bare).strip()


def bare_name(name: str) -> str:
    """The folded name without its unit type: 'Thị trấn Đông Anh' → 'dong anh'."""
    folded = fold(name)
    for prefix in _TYPE_PREFIXES:
        if folded.startswith(prefix + " "):
            return folded[len(prefix) + 1:]
    return folded


def carries(name: str, other: str) -> bool:
    """Whether `name` holds the words of `other` (both without type, diacritics or case), in a row:
    'Phường Ba Đình' carries 'Quận Ba Đình'; 'Phường 12' does not carry 'Phường 1'."""
    words, wanted = bare_name(name).split(), bare_name(other).split()
    if not wanted:
        return False
    return any(words[i:i + len(wanted)] == wanted for i in range(len(words) - len(wanted) + 1))


def matches_search(name: str, code: str, term: str) -> bool:
    """A search term's every word found in a unit's folded name or code (diacritics-insensitive)."""
    haystack = f"{fold(name)} {code}"
    return all(word in haystack for word in fold(term).split())
