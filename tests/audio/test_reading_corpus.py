"""Every case of the reading corpus (tests/audio/reading_corpus.tsv): a sentence from a notice and the
exact words an announcer says. `scripts/reading_corpus.py` prints the failures and a count per class."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from broadcast.audio.normalize import speakable_text

CORPUS = Path(__file__).with_name("reading_corpus.tsv")


def load_corpus(path: Path = CORPUS) -> list[tuple[str, str, str]]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    rows = list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [(row["class"], row["text"], row["spoken"]) for row in rows]


CASES = load_corpus()


def test_the_corpus_is_large_and_covers_every_genre() -> None:
    per_class = Counter(cls for cls, _, _ in CASES)
    assert len(CASES) >= 300
    assert {"weather", "health", "fees", "schedule", "traffic", "legal", "contact", "abbreviation"} <= set(per_class)
    assert len({text for _, text, _ in CASES}) == len(CASES), "duplicate sentences"


@pytest.mark.parametrize(("cls", "text", "spoken"), CASES, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(CASES)])
def test_reading_corpus(cls: str, text: str, spoken: str) -> None:
    assert speakable_text(text) == spoken
