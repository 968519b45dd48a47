#!/usr/bin/env python3
"""Proof-of-play benchmark on a throwaway PostgreSQL database (default loa_bench_reports; it is wiped).

1. HTTP ingest: N reports (default 200,000) POSTed in batches of 1,000 to a real `runserver` over
   HTTP with real station tokens, versus a plain psycopg bulk INSERT of the same rows, same run.
   Target: ratio ≥ 0.3.
2. Coverage: a national-size history (12,000 stations × 30 days × 10 plays, built with
   generate_series in SQL) and the time of the coverage query for one day, grouped by the map in force
   (a recent day: about 3,000 commune-level units). Target < 300 ms.
3. --dashboard: 600 stations × 30 days × 10 plays with their reports; time of GET /dashboard/.
   Target < 1 s.

    python scripts/bench_reports.py [--scale 0.1] [--reports 200000] [--skip-ingest] [--skip-coverage] [--dashboard]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _setup(db_url: str) -> None:
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "broadcast.settings")
    os.environ.setdefault("LOA_VAR_DIR", "/tmp/loa_bench_reports_var")
    import django

    django.setup()


def _reset_db(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _content():
    """One approved bulletin with a ready rendition (FK targets for the generated items)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from broadcast.models import AudioRendition, Bulletin, BulletinRevision

    User = get_user_model()
    author = User.objects.create(username="bench-author")
    approver = User.objects.create(username="bench-approver")
    rendition = AudioRendition.objects.create(
        text_hash="b" * 64, engine="bench", voice="vi", settings_key="b", status="ready",
        file="audio/bench.mp3", sha256="a" * 64, duration_ms=60000, size_bytes=480000,
    )
    bulletin = Bulletin.objects.create(title="Bản tin đo hiệu năng", author=author, status="approved")
    now = timezone.now()
    revision = BulletinRevision.objects.create(
        bulletin=bulletin, number=1, title=bulletin.title, body="Nội dung.", created_by=author, submitted_at=now,
        rendition=rendition, approved_by=approver, approved_at=now, approved_sha256=rendition.sha256,
    )
    bulletin.live_revision = bulletin.current_revision = revision
    bulletin.save()
    return bulletin, revision, rendition


def _generate(cur, *, stations: int, days: int, plays: int, first_day: str, prefix: str, district_count: int,
              bulletin_id: int, revision_id: int, rendition_id: int, played_share: float | None,
              reports: bool, unit_count: int | None = None) -> None:
    """Districts, commune-level units of the two-level map (about 4 stations each, as in the national
    registry), stations standing in both, playlists and items recording them (and optionally reports)
    with generate_series."""
    unit_count = unit_count or max(1, stations // 4)
    cur.execute(
        """INSERT INTO stations_district (code, name, kind, province_code, province_name)
           SELECT %s || lpad(d::text, 4, '0'), 'Quận ' || d, 'Quận', '01', 'Hà Nội'
           FROM generate_series(1, %s) d ON CONFLICT (code) DO NOTHING""", [prefix, district_count])
    cur.execute(
        """INSERT INTO stations_adminunit (map, level, code, name, division_type, province_code, valid_from)
           SELECT 'since_2025', 'commune', %s || lpad(u::text, 5, '0'), 'Phường ' || u, 'phường', '01',
                  date '2025-07-01'
           FROM generate_series(1, %s) u ON CONFLICT DO NOTHING""", [prefix, unit_count])
    cur.execute(
        """INSERT INTO stations_station (code, name, kind, district_id, admin_code, slots, active, created_at,
               updated_at, status, last_seen_at, heartbeat_deadline, status_changed_at, agent_version, agent_state,
               edited_fields, unit_choices, unit_id)
           SELECT %(p)s || lpad(s::text, 6, '0'), 'Đài ' || s, 'commune',
                  (SELECT id FROM stations_district WHERE code = %(p)s || lpad((1 + s %% %(dc)s)::text, 4, '0')),
                  %(p)s || lpad(s::text, 6, '0'),
                  '[{"name":"morning","start":"06:00","end":"06:30"},{"name":"evening","start":"17:00","end":"17:30"}]',
                  true, now(), now(),
                  CASE WHEN s %% 20 = 0 THEN 'silent' WHEN s %% 33 = 0 THEN 'late' ELSE 'online' END,
                  now() - (s %% 20 = 0)::int * interval '2 days', now() + interval '10 minutes', now(), 'bench', '{}', '[]',
                  '[]', (SELECT id FROM stations_adminunit WHERE map = 'since_2025' AND level = 'commune'
                         AND code = %(p)s || lpad((1 + s %% %(uc)s)::text, 5, '0'))
           FROM generate_series(1, %(n)s) s""", {"p": prefix, "dc": district_count, "uc": unit_count, "n": stations})
    cur.execute(
        # Each playlist records the district and unit its station stood in (as the builder does).
        """INSERT INTO broadcast_playlist (station_id, date, version, etag, content_hash, generated_at, district_id,
               unit_id)
           SELECT st.id, %(d0)s::date + g, 1, '', '', now(), st.district_id, st.unit_id
           FROM stations_station st CROSS JOIN generate_series(0, %(days)s - 1) g
           WHERE st.code LIKE %(p)s || '%%' ORDER BY g, st.id""", {"d0": first_day, "days": days, "p": prefix})
    share = 0.0 if played_share is None else played_share
    cur.execute(
        """INSERT INTO broadcast_playlistitem (playlist_id, key, position, slot, requested_slot, starts_at, ends_at,
               bulletin_id, revision_id, rendition_id, sha256, duration_ms, priority, unplaced_reason,
               report_status, reported_at)
           -- half a minute apart, so even 1,000 plays a day start within their day (a report of a play
           -- planned past midnight would be refused as implausible)
           SELECT pl.id, 'k' || i, i, CASE WHEN i <= %(half)s THEN 'morning' ELSE 'evening' END, '',
                  (pl.date + CASE WHEN i <= %(half)s THEN time '06:00' ELSE time '17:00' END)
                      AT TIME ZONE 'Asia/Ho_Chi_Minh' + (i %% %(half)s) * interval '30 seconds',
                  (pl.date + CASE WHEN i <= %(half)s THEN time '06:01' ELSE time '17:01' END)
                      AT TIME ZONE 'Asia/Ho_Chi_Minh' + (i %% %(half)s) * interval '30 seconds',
                  %(b)s, %(r)s, %(a)s, repeat('a', 64), 60000, 'normal', '',
                  CASE WHEN hashtext(pl.id::text || ':' || i) %% 1000 < %(played)s * 1000 THEN 'played'
                       WHEN hashtext(pl.id::text || ':' || i) %% 1000 < %(played)s * 1000 + 20 THEN 'failed'
                       ELSE '' END,
                  NULL
           FROM broadcast_playlist pl JOIN stations_station st ON st.id = pl.station_id
                CROSS JOIN generate_series(1, %(plays)s) i
           WHERE st.code LIKE %(p)s || '%%'
           -- day by day, as the nightly builds write them (a day's items sit together on disk)
           ORDER BY pl.date, pl.id, i""",
        {"half": max(1, plays // 2), "b": bulletin_id, "r": revision_id, "a": rendition_id, "played": share,
         "plays": plays, "p": prefix})
    if reports:
        cur.execute(
            """INSERT INTO broadcast_playbackreport (station_id, report_id, playlist_item_id, status, started_at,
                   ended_at, error, received_at, playlist_date, bulletin_id_snapshot, bulletin_title,
                   revision_number, sha256, slot, planned_start, district_id, unit_id)
               SELECT pl.station_id, 'r' || it.id, it.id, it.report_status, it.starts_at, it.ends_at, '', now(),
                      pl.date, it.bulletin_id, 'Bản tin đo hiệu năng', 1, it.sha256, it.slot, it.starts_at,
                      pl.district_id, pl.unit_id
               FROM broadcast_playlistitem it JOIN broadcast_playlist pl ON pl.id = it.playlist_id
                    JOIN stations_station st ON st.id = pl.station_id
               WHERE st.code LIKE %(p)s || '%%' AND it.report_status <> ''""", {"p": prefix})
    cur.execute("ANALYZE")


def bench_ingest(args, db_url: str) -> None:
    import psycopg
    import requests
    from django.db import connection
    from django.utils import timezone

    from stations.services import issue_station_token

    bulletin, revision, rendition = _content()
    batch = 1000
    n_stations = max(1, args.reports // batch)
    day = timezone.localdate() - __import__("datetime").timedelta(days=1)
    with connection.cursor() as cur:
        _generate(cur, stations=n_stations, days=1, plays=batch, first_day=day.isoformat(), prefix="H",
                  district_count=10, bulletin_id=bulletin.pk, revision_id=revision.pk, rendition_id=rendition.pk,
                  played_share=None, reports=False)
        cur.execute("""SELECT st.id, st.code, it.id, it.starts_at FROM broadcast_playlistitem it
                       JOIN broadcast_playlist pl ON pl.id = it.playlist_id
                       JOIN stations_station st ON st.id = pl.station_id WHERE st.code LIKE 'H%%'
                       ORDER BY st.id, it.id""")
        rows = cur.fetchall()
    by_station: dict[tuple[int, str], list] = {}
    for sid, code, item_id, starts in rows:
        by_station.setdefault((sid, code), []).append((item_id, starts))
    total = sum(len(v) for v in by_station.values())
    print(f"ingest: {len(by_station)} stations × {batch} items = {total} reports")

    # Baseline: a plain multi-row INSERT of the same rows with psycopg, 1,000 rows per statement.
    cols = ("station_id, report_id, playlist_item_id, status, started_at, ended_at, error, received_at, "
            "playlist_date, bulletin_id_snapshot, bulletin_title, revision_number, sha256, slot, planned_start")
    now = timezone.now()
    dsn = db_url.replace("postgres://", "postgresql://", 1)
    t0 = time.perf_counter()
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        for (sid, _code), items in by_station.items():
            values = [(sid, f"p{item_id}", item_id, "played", starts, starts, "", now, day, bulletin.pk,
                       revision.title, 1, rendition.sha256, "morning", starts) for item_id, starts in items]
            placeholders = ",".join(["(%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)"] * len(values))
            cur.execute(f"INSERT INTO broadcast_playbackreport ({cols}) VALUES {placeholders} "
                        "ON CONFLICT (station_id, report_id) DO NOTHING", [v for row in values for v in row])
            conn.commit()
        plain_s = time.perf_counter() - t0
        cur.execute("DELETE FROM broadcast_playbackreport")
        conn.commit()
    plain_rate = total / plain_s
    print(f"  plain psycopg INSERT: {plain_rate:,.0f} reports/s ({plain_s:.1f} s)")

    from stations.models import Station

    tokens = {code: issue_station_token(Station.objects.get(pk=sid)) for sid, code in by_station}
    port = args.port
    env = {**os.environ, "DATABASE_URL": db_url, "DEBUG": "false", "SECRET_KEY": "bench", "ALLOWED_HOSTS": "127.0.0.1",
           "SECURE_SSL_REDIRECT": "false", "STATION_THROTTLE_RATE": "100000/min", "LOG_LEVEL": "WARNING"}
    server = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                requests.get(f"http://127.0.0.1:{port}/api/schema/", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.2)
        payloads = []
        for (_sid, code), items in by_station.items():
            body = {"reports": [{"report_id": f"h{item_id}", "playlist_item": item_id, "status": "played",
                                 "started_at": starts.isoformat(), "ended_at": starts.isoformat()}
                                for item_id, starts in items]}
            payloads.append((code, body))
        from concurrent.futures import ThreadPoolExecutor

        def post(entry):
            code, body = entry
            with requests.Session() as s:
                r = s.post(f"http://127.0.0.1:{port}/api/v1/station/reports/", json=body,
                           headers={"Authorization": f"Bearer {tokens[code]}"}, timeout=120)
                r.raise_for_status()
                return r.json()["accepted"]

        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            accepted = sum(pool.map(post, payloads))
        http_s = time.perf_counter() - t0
        # A replay of one batch must change nothing.
        with requests.Session() as s:
            again = s.post(f"http://127.0.0.1:{port}/api/v1/station/reports/", json=payloads[0][1],
                           headers={"Authorization": f"Bearer {tokens[payloads[0][0]]}"}, timeout=120).json()
    finally:
        server.terminate()
        server.wait(10)
    http_rate = accepted / http_s
    print(f"  HTTP ingest ({args.clients} clients, runserver): {http_rate:,.0f} reports/s ({http_s:.1f} s), "
          f"accepted {accepted}/{total}; replayed batch → accepted {again['accepted']}, duplicates {again['duplicates']}")
    print(f"  RATIO HTTP / plain insert = {http_rate / plain_rate:.2f}  (target ≥ 0.30)")


def bench_coverage(args) -> None:
    import datetime as dt

    from django.db import connection
    from django.utils import timezone

    from broadcast.selectors.coverage import coverage_report

    bulletin, revision, rendition = _content() if not args._content else args._content
    stations = int(12000 * args.scale)
    days, plays = 30, 10
    first = timezone.localdate() - dt.timedelta(days=days)
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        _generate(cur, stations=stations, days=days, plays=plays, first_day=first.isoformat(), prefix="N",
                  district_count=max(1, stations // 20), bulletin_id=bulletin.pk, revision_id=revision.pk,
                  rendition_id=rendition.pk, played_share=0.85, reports=False)
    print(f"coverage: built {stations} stations × {days} days × {plays} plays = {stations * days * plays:,} items "
          f"in {time.perf_counter() - t0:.0f} s")
    day = first + dt.timedelta(days=days // 2)  # a day since 1 July 2025: by commune-level unit
    timings = []
    for _ in range(7):
        t0 = time.perf_counter()
        report = coverage_report(day)
        timings.append(time.perf_counter() - t0)
    print(f"  one day by {report.grouping} ({len(report.rows)} rows, {report.totals.expected:,} expected plays, "
          f"{report.totals.coverage_pct}%): median {statistics.median(timings) * 1000:.0f} ms, "
          f"min {min(timings) * 1000:.0f} ms  (target < 300 ms)")


def bench_dashboard(args) -> None:
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    bulletin, revision, rendition = _content() if not args._content else args._content
    days, plays, stations = 30, 10, 600
    first = timezone.localdate() - dt.timedelta(days=days - 1)
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        _generate(cur, stations=stations, days=days, plays=plays, first_day=first.isoformat(), prefix="D",
                  district_count=30, bulletin_id=bulletin.pk, revision_id=revision.pk, rendition_id=rendition.pk,
                  played_share=0.85, reports=True)
        cur.execute("SELECT count(*) FROM broadcast_playbackreport")
        n_reports = cur.fetchone()[0]
    print(f"dashboard: {stations} stations × {days} days × {plays} plays, {n_reports:,} reports "
          f"(built in {time.perf_counter() - t0:.0f} s)")
    user = get_user_model().objects.create(username="bench-supervisor")
    user.groups.add(Group.objects.get(name="supervisor"))
    client = Client()
    client.force_login(user)
    for label, date in [("today", timezone.localdate()), ("15 days ago", timezone.localdate() - dt.timedelta(days=15))]:
        timings = []
        for _ in range(7):
            t0 = time.perf_counter()
            resp = client.get("/dashboard/", {"date": date.isoformat()})
            timings.append(time.perf_counter() - t0)
            assert resp.status_code == 200
        print(f"  GET /dashboard/ ({label}): median {statistics.median(timings) * 1000:.0f} ms, "
              f"max {max(timings) * 1000:.0f} ms  (target < 1000 ms)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="loa_bench_reports", help="throwaway database name (dropped and recreated)")
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the 12,000-station national history")
    parser.add_argument("--reports", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=2, help="concurrent HTTP clients")
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--skip-coverage", action="store_true")
    parser.add_argument("--dashboard", action="store_true", help="also time the dashboard (600 stations × 30 days)")
    args = parser.parse_args()
    args._content = None
    _reset_db(f"{args.pg}/postgres", args.db)
    db_url = f"{args.pg}/{args.db}"
    _setup(db_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if not args.skip_ingest:
        bench_ingest(args, db_url)
        from broadcast.models import AudioRendition, Bulletin, BulletinRevision

        args._content = (Bulletin.objects.first(), BulletinRevision.objects.first(), AudioRendition.objects.first())
    if not args.skip_coverage:
        bench_coverage(args)
        if args._content is None:
            from broadcast.models import AudioRendition, Bulletin, BulletinRevision

            args._content = (Bulletin.objects.first(), BulletinRevision.objects.first(), AudioRendition.objects.first())
    if args.dashboard:
        bench_dashboard(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
