"""Benchmark the text normalization (written text -> speakable text with spans) against a plain regex
tokenization of the same text, in the same run.

    .venv/bin/python scripts/bench_normalize.py [--runs N]

Texts: the long demo article (broadcast/demo/article.txt, about 9,000 characters of prose) and the
reading corpus joined into one notice-dense text (every sentence full of numbers, codes and
abbreviations). Prints the median and worst time per text over ``--runs`` warm runs (the first,
cold call, which compiles the patterns, is printed apart) and the ratio to the baseline
(``re.findall(r"\\w+|[^\\w\\s]", text)``). The budget for the article is 50 ms.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from broadcast.audio.normalize import read_text  # noqa: E402
from broadcast.demo import ARTICLE  # noqa: E402

CORPUS = REPO / "tests" / "audio" / "reading_corpus.tsv"
_TOKEN_RE = re.compile(r"\w+|[^\w\s]")


def timed(fn, text: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn(text)
        times.append(time.perf_counter() - start)
    return times


def corpus_text() -> str:
    rows = [line.split("\t") for line in CORPUS.read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")][1:]
    return "\n".join(row[1] for row in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    texts = {"article": ARTICLE.read_text(encoding="utf-8"), "corpus": corpus_text()}
    for name, text in texts.items():
        cold = timed(read_text, text, 1)[0]
        ours = timed(read_text, text, args.runs)
        base = timed(_TOKEN_RE.findall, text, args.runs)
        reading = read_text(text)
        median, base_median = statistics.median(ours), statistics.median(base)
        print(f"{name:8} {len(text):6} chars  {len(reading.spans):5} spans  "
              f"normalize median {median * 1000:6.2f} ms (worst {max(ours) * 1000:6.2f}, cold {cold * 1000:6.2f})  "
              f"baseline {base_median * 1000:5.2f} ms  ratio {median / base_median:5.1f}x")
    article = statistics.median(timed(read_text, texts["article"], args.runs)) * 1000
    print(f"article within the 50 ms budget: {'yes' if article < 50 else 'NO'} ({article:.2f} ms)")


if __name__ == "__main__":
    main()
