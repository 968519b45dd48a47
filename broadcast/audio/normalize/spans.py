"""The working text of one reading and the record of what was rewritten.

Every rule replaces what it reads with a placeholder (private-use characters: neither word
characters nor digits, so no later rule matches inside them) that remembers the spoken form, the
rule and where the replaced text sits in the source. Raw text is never changed in length before the
last pass, so a position in the working text maps back to the source by adding up how much each
earlier placeholder shortened it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field

PH_OPEN, PH_CLOSE = "\ue000", "\ue001"
_PH_BASE = 0xF0000  # supplementary private-use plane: room for 65,000 spans
PH = f"{PH_OPEN}[\U000f0000-\U000ffffd]{PH_CLOSE}"
PH_RE = re.compile(f"{PH_OPEN}([\U000f0000-\U000ffffd]){PH_CLOSE}")
PH_CHARS_RE = re.compile(f"[{PH_OPEN}{PH_CLOSE}\U000f0000-\U000ffffd]")


@dataclass(frozen=True)
class Span:
    """One rewritten piece: ``source[start:end]`` is read as ``spoken`` because of ``rule``
    (``lexicon`` with the editor's ``term``)."""

    start: int
    end: int
    source: str
    spoken: str
    rule: str
    term: str | None = None


@dataclass(frozen=True)
class ReadingWarning:
    """A reading that is a guess the editor should check (message in Vietnamese)."""

    code: str
    message: str
    start: int
    end: int
    source: str


@dataclass(frozen=True)
class Reading:
    """``text`` is what the engine reads; offsets of spans and warnings are in ``source`` (the input,
    Unicode NFC)."""

    source: str
    text: str
    spans: tuple[Span, ...] = ()
    warnings: tuple[ReadingWarning, ...] = ()


@dataclass
class _Item:
    start: int
    end: int
    spoken: str
    rule: str
    term: str | None


@dataclass
class Doc:
    source: str
    text: str
    items: list[_Item] = field(default_factory=list)
    warnings: list[ReadingWarning] = field(default_factory=list)
    memo: dict[str, str] = field(default_factory=dict)  # one reading per token in one text
    _ends: list[int] = field(default_factory=list)
    _shift: list[int] = field(default_factory=list)

    # --- positions

    def _index(self) -> None:
        ends, shifts, total = [], [], 0
        if PH_OPEN in self.text:
            for m in PH_RE.finditer(self.text):
                item = self.items[ord(m.group(1)) - _PH_BASE]
                total += (item.end - item.start) - 3
                ends.append(m.end())
                shifts.append(total)
        self._ends, self._shift = ends, shifts

    def src(self, pos: int) -> int:
        """Source offset of a position in the working text as it was when the current pass began."""
        i = bisect_right(self._ends, pos)
        return pos + (self._shift[i - 1] if i else 0)

    # --- passes

    def sub(self, pattern: re.Pattern[str], fn: Callable[[re.Match[str]], str]) -> None:
        self._index()
        self.text = pattern.sub(fn, self.text)

    def protect(self, m: re.Match[str], spoken: str, rule: str, group: int | str = 0,
                term: str | None = None) -> str:
        return self.place(self.src(m.start(group)), self.src(m.end(group)), spoken, rule, term)

    def place(self, start: int, end: int, spoken: str, rule: str, term: str | None = None) -> str:
        self.items.append(_Item(start, end, spoken, rule, term))
        return f"{PH_OPEN}{chr(_PH_BASE + len(self.items) - 1)}{PH_CLOSE}"

    def rule_of(self, placeholder: str) -> str:
        return self.items[ord(placeholder[1]) - _PH_BASE].rule

    def warn(self, m: re.Match[str], code: str, message: str, group: int | str = 0) -> None:
        start, end = self.src(m.start(group)), self.src(m.end(group))
        self.warnings.append(ReadingWarning(code, message, start, end, self.source[start:end]))

    # --- result

    def _spoken(self, index: int) -> str:
        spoken = self.items[index].spoken
        if PH_OPEN in spoken:
            spoken = PH_RE.sub(lambda m: f" {self._spoken(ord(m.group(1)) - _PH_BASE)} ", spoken)
            spoken = re.sub(r"\s+", " ", spoken).strip()
        return spoken

    def restore(self) -> tuple[str, list[Span]]:
        spans: list[Span] = []

        def put(m: re.Match[str]) -> str:
            index = ord(m.group(1)) - _PH_BASE
            item = self.items[index]
            spoken = self._spoken(index)
            spans.append(Span(item.start, item.end, self.source[item.start : item.end], spoken, item.rule,
                              item.term))
            return f" {spoken} "

        text = PH_RE.sub(put, self.text)
        return text, spans
