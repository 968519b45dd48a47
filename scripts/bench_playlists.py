#!/usr/bin/env python
"""Benchmark of the distribution area (issue 5).

(a) Builds a synthetic national-size registry (default 12,000 stations in 700 districts) and 20 active
    schedules, then times one day's playlist build for all stations and counts its SQL queries; the
    same build for a tenth of the stations is counted too, to show the count does not grow with the
    number of stations. A second, no-change rebuild is timed as well.
(b) Serves the project with gunicorn on 127.0.0.1 and measures requests/second of the station playlist
    endpoint (200, and 304 with If-None-Match) against a bare Django JSON view mounted in the same
    server, from a separate load process (bounded number of requests, keep-alive off).

Runs only against a throwaway database whose name or path contains "bench" (it is flushed!):
    LOA_VAR_DIR=/tmp/bench-playlists .venv/bin/python scripts/bench_playlists.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/loa_bench_playlists .venv/bin/python scripts/bench_playlists.py
Needs gunicorn (pip install gunicorn) for part (b); `--skip-http` runs part (a) only.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import multiprocessing as mp
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
from _bench_common import guard_database  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "broadcast.settings")

SERVER_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-playlists-not-secret",
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",
    "SECURE_HSTS_SECONDS": "0",
    "STATION_THROTTLE_RATE": "100000000/min",
    "LOG_LEVEL": "WARNING",
}


# ---------------------------------------------------------------- WSGI entry for gunicorn

def _wsgi_app():  # noqa: ANN202
    import django
    from django.core.wsgi import get_wsgi_application

    django.setup()
    from django.http import JsonResponse
    from django.urls import path

    from broadcast import urls

    def bare(request):  # noqa: ANN001, ANN202 - the baseline: Django + middleware, no DB, no DRF
        return JsonResponse({"ok": True, "station": "T00001", "version": 1})

    urls.urlpatterns.append(path("bench/bare/", bare))
    return get_wsgi_application()


if os.environ.get("LOA_BENCH_WSGI") == "1":
    application = _wsgi_app()


# ---------------------------------------------------------------- (a) the build

def make_registry(n_stations: int, n_districts: int, n_schedules: int) -> None:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from broadcast.models import AudioRendition, Bulletin, BulletinRevision, Schedule
    from broadcast.selectors.playlists import local_today
    from stations.models import District, Station

    rng = random.Random(5)
    districts = District.objects.bulk_create(
        [District(code=f"D{i:04d}", name=f"Huyện {i}", kind="Huyện") for i in range(n_districts)], batch_size=1000)
    stations = []
    for i in range(n_stations):
        kind = "district_center" if i < n_districts else "commune"
        stations.append(Station(code=f"S{i:05d}", name=f"Đài {i}", kind=kind, district=districts[i % n_districts],
                                admin_code=f"A{i:05d}"))
    Station.objects.bulk_create(stations, batch_size=1000)
    User = get_user_model()
    author = User.objects.create(username="bench-author")
    approver = User.objects.create(username="bench-approver")
    now = timezone.now()
    today = local_today()
    codes = [s.code for s in stations]
    for i in range(n_schedules):
        priority = "emergency" if i < 2 else "high" if i < 6 else "normal"
        rendition = AudioRendition.objects.create(
            text_hash=hashlib.sha256(f"bench-{i}".encode()).hexdigest(), engine="bench", voice="vi",
            settings_key="bench", status="ready", file=f"bench/{i}.mp3",
            sha256=hashlib.sha256(f"audio-{i}".encode()).hexdigest(), duration_ms=rng.randint(60, 240) * 1000,
            size_bytes=1_000_000)
        bulletin = Bulletin.objects.create(title=f"Bản tin {i}", priority=priority, author=author, status="approved")
        revision = BulletinRevision.objects.create(
            bulletin=bulletin, number=1, title=bulletin.title, body="Nội dung.", created_by=author,
            submitted_at=now, rendition=rendition, approved_by=approver, approved_at=now,
            approved_sha256=rendition.sha256)
        Bulletin.objects.filter(pk=bulletin.pk).update(live_revision=revision, current_revision=revision)
        kind = i % 4
        targets = (
            {"all": True} if kind == 0
            else {"districts": [d.code for d in rng.sample(districts, min(50, len(districts)))]} if kind == 1
            else {"kinds": ["district_center"]} if kind == 2
            else {"stations": rng.sample(codes, min(200, len(codes))), "districts": [districts[0].code]}
        )
        Schedule.objects.create(
            bulletin=bulletin, start_date=today, end_date=today + __import__("datetime").timedelta(days=30),
            slots=[["morning"], ["evening"], ["morning", "evening"]][i % 3], plays_per_slot=1 + (i % 5 == 0),
            targets=targets, created_by=author)


def bench_build(n_stations: int) -> dict:
    import datetime as dt

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from broadcast.models import PlaylistItem
    from broadcast.selectors.playlists import local_today
    from broadcast.services.playlists import rebuild_playlists
    from stations.models import Station

    today = local_today()
    tomorrow = today + dt.timedelta(days=1)
    ids = list(Station.objects.order_by("pk").values_list("pk", flat=True))
    tenth = ids[: max(1, len(ids) // 10)]
    now = dt.datetime.combine(today, dt.time(0, 1), tzinfo=dt.UTC) - dt.timedelta(hours=7)  # 00:01 local

    with CaptureQueriesContext(connection) as small:
        rebuild_playlists(tenth, [tomorrow], now=now)
    t0 = time.perf_counter()
    with CaptureQueriesContext(connection) as full:
        stats = rebuild_playlists(None, [today], now=now)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    with CaptureQueriesContext(connection) as again:
        stats2 = rebuild_playlists(None, [today], now=now)
    rebuild_s = time.perf_counter() - t0
    items = PlaylistItem.objects.filter(playlist__date=today)

    def kinds(ctx: CaptureQueriesContext) -> str:
        counts: dict[str, int] = {}
        for q in ctx.captured_queries:
            word = q["sql"].split(None, 1)[0].upper()
            counts[word] = counts.get(word, 0) + 1
        return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))

    return {
        "kinds": kinds(full), "kinds_tenth": kinds(small),
        "stations": len(ids), "build_s": build_s, "queries": len(full.captured_queries),
        "queries_tenth": len(small.captured_queries), "tenth": len(tenth),
        "items": items.count(), "unplaced": items.filter(position__isnull=True).count(),
        "created": stats.playlists_created, "rebuild_s": rebuild_s, "rebuild_queries": len(again.captured_queries),
        "rebuild_unchanged": stats2.playlists_unchanged,
    }


# ---------------------------------------------------------------- (b) HTTP

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _load(args: tuple[int, str, list[tuple[dict, str]], int, int]) -> tuple[int, int, float]:
    port, _, requests, start, count = args
    ok = bad = 0
    t0 = time.perf_counter()
    for i in range(count):
        headers, path = requests[(start + i) % len(requests)]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        resp.read()
        conn.close()
        if resp.status in (200, 304):
            ok += 1
        else:
            bad += 1
    return ok, bad, time.perf_counter() - t0


def measure(port: int, requests: list[tuple[dict, str]], total: int, concurrency: int) -> tuple[float, int]:
    per = total // concurrency
    with mp.Pool(concurrency) as pool:
        _load((port, "", requests, 0, min(50, total)))  # warm-up
        t0 = time.perf_counter()
        results = pool.map(_load, [(port, "", requests, k * per, per) for k in range(concurrency)])
        elapsed = time.perf_counter() - t0
    ok = sum(r[0] for r in results)
    bad = sum(r[1] for r in results)
    return ok / elapsed, bad


def bench_http(total: int, concurrency: int, workers: int) -> dict:
    from broadcast.models import Playlist
    from broadcast.selectors.playlists import local_today
    from stations.models import Station
    from stations.services import issue_station_token

    today = local_today().isoformat()
    stations = list(Station.objects.order_by("pk")[:50])
    tokens = {s.pk: issue_station_token(s) for s in stations}
    etags = dict(Playlist.objects.filter(station__in=stations, date=today).values_list("station_id", "etag"))
    path = f"/api/v1/station/playlist/?date={today}"
    full = [({"Authorization": f"Bearer {tokens[s.pk]}"}, path) for s in stations]
    cond = [({"Authorization": f"Bearer {tokens[s.pk]}", "If-None-Match": etags[s.pk]}, path) for s in stations]
    bare = [({}, "/bench/bare/")]

    port = _free_port()
    env = {**os.environ, **SERVER_ENV, "LOA_BENCH_WSGI": "1", "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--chdir", str(ROOT / "scripts"), "-w", str(workers), "-b",
         f"127.0.0.1:{port}", "--log-level", "warning", "bench_playlists:application"],
        cwd=ROOT, env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/bench/bare/")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.3)
        # Sanity: the conditional path really answers 304.
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request("GET", path, headers=cond[0][0])
        status = conn.getresponse().status
        assert status == 304, f"expected 304, got {status}"
        out = {}
        for name, reqs in (("bare", bare), ("playlist_200", full), ("playlist_304", cond), ("bare_again", bare)):
            out[name], out[f"{name}_errors"] = measure(port, reqs, total, concurrency)
        return out
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stations", type=int, default=12_000)
    parser.add_argument("--districts", type=int, default=700)
    parser.add_argument("--schedules", type=int, default=20)
    parser.add_argument("--requests", type=int, default=3000, help="requests per HTTP measurement")
    parser.add_argument("--concurrency", type=int, default=4, help="load processes")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    where = guard_database()
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    print(f"database: {where}")
    t0 = time.perf_counter()
    make_registry(args.stations, args.districts, args.schedules)
    print(f"registry: {args.stations} stations, {args.districts} districts, {args.schedules} schedules "
          f"({time.perf_counter() - t0:.1f} s to create)")

    b = bench_build(args.stations)
    print(f"(a) build one day, {b['stations']} stations: {b['build_s']:.1f} s, {b['queries']} SQL queries; "
          f"{b['items']} items ({b['unplaced']} unplaced), {b['created']} playlists")
    print(f"    by kind: {b['kinds']}")
    print(f"    same build for {b['tenth']} stations: {b['queries_tenth']} SQL queries "
          f"(ratio of query counts {b['queries'] / max(1, b['queries_tenth']):.2f} for 10x the stations; "
          "must be 1.00)")
    print(f"    by kind: {b['kinds_tenth']}")
    print(f"    no-change rebuild: {b['rebuild_s']:.1f} s, {b['rebuild_queries']} SQL queries, "
          f"{b['rebuild_unchanged']} playlists unchanged (same version and ETag)")
    import resource

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"    peak RSS of this process {peak_mb:.0f} MB; load average {load} ({os.cpu_count()} CPUs)")
    if args.skip_http:
        return
    h = bench_http(args.requests, args.concurrency, args.workers)
    base = (h["bare"] + h["bare_again"]) / 2
    print(f"(b) HTTP, gunicorn {args.workers} sync workers, {args.concurrency} load processes, "
          f"{args.requests} requests each:")
    print(f"    bare Django JSON view : {base:7.0f} req/s (before {h['bare']:.0f}, after {h['bare_again']:.0f})")
    print(f"    station playlist 200  : {h['playlist_200']:7.0f} req/s  ratio {h['playlist_200'] / base:.2f}")
    print(f"    station playlist 304  : {h['playlist_304']:7.0f} req/s  ratio {h['playlist_304'] / base:.2f}")
    errors = sum(v for k, v in h.items() if k.endswith("_errors"))
    if errors:
        print(f"    non-2xx/304 answers: {errors}")


if __name__ == "__main__":
    main()
