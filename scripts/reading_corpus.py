#!/usr/bin/env python3
"""Run the reading corpus (tests/audio/reading_corpus.tsv): print each failure (text, expected, got)
and the pass count per class. Exit status 1 when a case fails.

    .venv/bin/python scripts/reading_corpus.py [--class weather] [--quiet]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from broadcast.audio.errors import AudioError  # noqa: E402
from broadcast.audio.normalize import speakable_text  # noqa: E402
from tests.audio.test_reading_corpus import load_corpus  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--class", dest="cls", help="only this class")
    parser.add_argument("--quiet", action="store_true", help="counts only, no failure details")
    args = parser.parse_args()

    total, passed = Counter(), Counter()
    for cls, text, expected in load_corpus():
        if args.cls and cls != args.cls:
            continue
        total[cls] += 1
        try:
            got = speakable_text(text)
        except AudioError as exc:
            got = f"<{type(exc).__name__}: {exc}>"
        if got == expected:
            passed[cls] += 1
        elif not args.quiet:
            print(f"[{cls}] {text}\n  expected: {expected}\n  got:      {got}\n")
    for cls in sorted(total):
        print(f"{cls:14} {passed[cls]:4} / {total[cls]}")
    print(f"{'total':14} {sum(passed.values()):4} / {sum(total.values())}")
    return 0 if passed == total else 1


if __name__ == "__main__":
    sys.exit(main())
