"""What changed between two versions of a bulletin, for the approver: a word-level diff of texts and the
comparison of a field or of the audio. Pure functions over plain values (no database), tested directly."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

__all__ = ["AudioChange", "FieldChange", "Segment", "audio_change", "field_change", "word_diff"]

# Words, runs of punctuation and runs of spaces are separate tokens, so "15/3" → "16/3" marks only what
# differs and the spaces between words are kept as written (line breaks too).
_TOKEN = re.compile(r"\w+|[^\w\s]+|\s+")


@dataclass(frozen=True)
class Segment:
    """A piece of the new text: `equal` (in both), `insert` (only in the new) or `delete` (only in the old)."""

    op: str
    text: str

    @property
    def changed(self) -> bool:
        return self.op != "equal"


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text or "")


def word_diff(old: str, new: str) -> list[Segment]:
    """The new text as segments against the old, word by word; a run of changes is its deletion then its
    insertion ("a b c" → "x y z" is one of each, not word by word around the shared spaces). Neighbouring
    segments of the same kind are merged, so the markup stays small."""
    a, b = _tokens(old), _tokens(new)
    raw: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            raw.append(("equal", "".join(a[i1:i2])))
            continue
        if tag in ("delete", "replace"):
            raw.append(("delete", "".join(a[i1:i2])))
        if tag in ("insert", "replace"):
            raw.append(("insert", "".join(b[j1:j2])))

    segments: list[Segment] = []

    def add(op: str, text: str) -> None:
        if not text:
            return
        if segments and segments[-1].op == op:
            segments[-1] = Segment(op, segments[-1].text + text)
        else:
            segments.append(Segment(op, text))

    removed = added = ""

    def flush() -> None:
        nonlocal removed, added
        # A side made only of the spaces taken into the run has nothing of its own to show.
        if removed.strip():
            add("delete", removed)
        if added.strip():
            add("insert", added)
        removed = added = ""

    for index, (op, text) in enumerate(raw):
        if op == "equal":
            in_run = bool(removed or added)
            next_changed = index + 1 < len(raw) and raw[index + 1][0] != "equal"
            if in_run and next_changed and text.isspace():
                removed += text
                added += text
                continue
            flush()
            add("equal", text)
        elif op == "delete":
            removed += text
        else:
            added += text
    flush()
    return segments


@dataclass(frozen=True)
class FieldChange:
    old: str
    new: str

    @property
    def changed(self) -> bool:
        return self.old != self.new


def field_change(old: str, new: str) -> FieldChange:
    return FieldChange(old or "", new or "")


@dataclass(frozen=True)
class AudioChange:
    """The audio of the version compared against and of the one in review: the file (sha256) and the
    duration. Unknown values (no audio yet) count as a change."""

    old_sha256: str
    new_sha256: str
    old_duration_ms: int | None
    new_duration_ms: int | None

    @property
    def changed(self) -> bool:
        return not self.new_sha256 or self.old_sha256 != self.new_sha256

    @property
    def duration_changed(self) -> bool:
        return self.old_duration_ms != self.new_duration_ms

    @property
    def duration_delta_seconds(self) -> int | None:
        if self.old_duration_ms is None or self.new_duration_ms is None:
            return None
        return round((self.new_duration_ms - self.old_duration_ms) / 1000)


def audio_change(old_sha256: str | None, new_sha256: str | None, old_duration_ms: int | None,
                 new_duration_ms: int | None) -> AudioChange:
    return AudioChange(old_sha256 or "", new_sha256 or "", old_duration_ms, new_duration_ms)
