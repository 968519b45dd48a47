#!/usr/bin/env python
"""Benchmark of the registry import with the administrative units of both maps.

Times, on an emptied database, a first import of a province (default Hà Nội: both maps' units, the old
districts, the stations, each linked to its unit of the two-level map) and a re-import (nothing to
change), and counts their SQL queries. The baseline, measured in the same run on the same emptied
database: the stations-only import of the same province (the package's old map, no units, no linking:
what the import did before the two-level map). Ratios against it say what the units and the linking cost.
Also times remap_units on a registry made without units (the path of an existing database).

Runs only against a throwaway database whose name or path contains "bench" (it is flushed!):
    LOA_VAR_DIR=/tmp/bench-registry .venv/bin/python scripts/bench_registry.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/loa_bench_registry .venv/bin/python scripts/bench_registry.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
from _bench_common import guard_database  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "broadcast.settings")


def _emptied() -> None:
    from broadcast.models import PlaybackReport, Playlist
    from stations.models import AdminUnit, District, Station

    PlaybackReport.objects.all().delete()
    Playlist.objects.all().delete()
    Station.objects.all().delete()
    AdminUnit.objects.filter(level="commune").delete()
    AdminUnit.objects.all().delete()
    District.objects.all().delete()


def _timed(fn) -> tuple[float, int, object]:  # noqa: ANN001
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - started
    return elapsed, len(queries), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--province", type=int, default=1, help="province of the two-level map (1 = Hà Nội)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each measurement (the median is shown)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    from stations import services
    from stations.models import Station

    where = guard_database()
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    print(f"database: {where}; province {args.province}; median of {args.rounds} rounds")

    def first_import():
        registry = services.registry_from_package(args.province)
        return services.import_rows(registry.rows, units=registry.units)

    def baseline():
        return services.import_rows(services.rows_from_package(args.province))

    # Cold: the first call of the process also loads the package's data modules (as import_registry does).
    cold_s, _, counts = _timed(first_import)
    print(f"cold first import (package data loaded in the same call): {cold_s:.2f} s")
    runs: dict[str, list[tuple[float, int]]] = {"baseline": [], "first": [], "again": [], "remap": [],
                                                "remap_again": []}
    for _ in range(args.rounds):
        _emptied()
        seconds, queries, _ = _timed(baseline)
        runs["baseline"].append((seconds, queries))
        _emptied()
        seconds, queries, counts = _timed(first_import)
        runs["first"].append((seconds, queries))
        seconds, queries, again = _timed(first_import)
        runs["again"].append((seconds, queries))
        assert again.stations_created == again.stations_updated == again.stations_linked == 0, again.summary()
        assert sum(again.units.created.values()) + sum(again.units.updated.values()) == 0, again.summary()
        _emptied()
        baseline()
        seconds, queries, _ = _timed(lambda: services.remap_units(args.province))
        runs["remap"].append((seconds, queries))
        seconds, queries, result = _timed(lambda: services.remap_units(args.province))
        runs["remap_again"].append((seconds, queries))
        assert result.changed == 0, result

    def median(name: str) -> tuple[float, int]:
        return statistics.median(s for s, _ in runs[name]), max(q for _, q in runs[name])

    print("each round (s):", {k: [round(s, 2) for s, _ in v] for k, v in runs.items()})
    base_s, base_q = median("baseline")
    print(f"stations {Station.objects.count()}; {counts.summary()}")
    print(f"baseline, stations only (old map, no units): {base_s:.2f} s, {base_q} SQL queries")
    for name, label in [("first", "first import, both maps + linking"), ("again", "re-import (no change)"),
                        ("remap", "remap_units on a registry without units"), ("remap_again", "remap_units again")]:
        seconds, queries = median(name)
        print(f"{label:42}: {seconds:.2f} s, {queries} SQL queries  ratio {seconds / base_s:.2f}")
    print(f"first import under 2 s, cold: {'yes' if cold_s < 2 else 'NO'}")


if __name__ == "__main__":
    main()
