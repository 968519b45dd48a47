"""The project's own demo content, shipped as package data so a fresh clone or an installed copy needs
nothing beside it: Vietnamese sample bulletins (seed_demo, audio tests) and a long press-style article
(render benchmarks). Written for Loa; names of people and numbers in them are illustrative.

Free of Django, so the benchmarks and audio tests can read it without settings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DEMO_DIR = Path(__file__).resolve().parent
BULLETINS = DEMO_DIR / "bulletins.json"  # [{title, category, priority, body}]
ARTICLE = DEMO_DIR / "article.txt"  # title on the first line, then the body


def load_bulletins(path: Path | str | None = None) -> list[dict[str, Any]]:
    return json.loads(Path(path or BULLETINS).read_text(encoding="utf-8"))
