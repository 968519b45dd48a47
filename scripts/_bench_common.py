"""What the benchmarks that empty a database share (imported by scripts/bench_*.py, run from this folder)."""

from __future__ import annotations

import sys


def guard_database() -> str:
    """Exits unless the configured database is a throwaway one (its name or path contains 'bench');
    returns "engine name" for the report."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    name = str(db["NAME"])
    if "bench" not in name:
        sys.exit(f"refusing to flush database {name!r}: use one whose name or path contains 'bench'")
    return f"{db['ENGINE'].rsplit('.', 1)[-1]} {name}"
