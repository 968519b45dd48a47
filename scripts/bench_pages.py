#!/usr/bin/env python
"""Benchmark of the staff pages: server time and query count of each page against a bare Django template
view measured in the same run (the floor: middleware, session, a template).

Two parts (`--part newsroom|operations|all`, default all):
- newsroom: 10,000 bulletins and 100 users; the desk, editor, review and notifications pages.
  Target: median under 150 ms.
- operations: a registry of `--stations` stations (default 600; 12,000 for a whole province's worth)
  on the two-level map, schedules of approved bulletins, 30 days of playlists (two slots a day, some
  emergencies) with ~90% of the plays reported, station health and its change log; a supervisor, a
  district, a commune and a station operator. The dashboard, monthly report, stations registry,
  schedules, week, emergency and station operator pages. Target: median under 200 ms.

Pages that are not there yet (404) are skipped and said so. Requests go through Django's test Client in
this process (no network), DEBUG off; each page is warmed once, then timed `--rounds` times (median and
95th percentile). A page over its target is profiled once: time in SQL and its slowest queries.

Runs only against a throwaway database whose name or path contains "bench" (it is flushed!):
    LOA_VAR_DIR=/tmp/bench-pages .venv/bin/python scripts/bench_pages.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/loa_bench_pages .venv/bin/python scripts/bench_pages.py \
        --part operations --stations 12000
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import logging
import os
import pstats
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
from _bench_common import guard_database  # noqa: E402

# Production-like: DEBUG off (no query log kept, cached templates), HTTPS assumed by the client.
for key, value in {
    "DJANGO_SETTINGS_MODULE": "broadcast.settings",
    "DEBUG": "false",
    "SECRET_KEY": "bench-pages-not-secret-0123456789-abcdefghijklmnop",
    "ALLOWED_HOSTS": "testserver",
    "SECURE_SSL_REDIRECT": "false",
    "SECURE_HSTS_SECONDS": "0",
    "LOG_LEVEL": "WARNING",
    "CELERY_TASK_ALWAYS_EAGER": "false",
}.items():
    os.environ.setdefault(key, value)

NEWSROOM_TARGET_MS = 150.0
OPERATIONS_TARGET_MS = 200.0
PASSWORD = "bench-pages"
TITLES = [
    "Bão số {n} đổ bộ vào các tỉnh ven biển", "Phòng chống sốt xuất huyết đợt {n}", "Lịch tiêm chủng mở rộng tháng {m}",
    "Thông báo cắt điện khu vực phường {n}", "Hướng dẫn nộp thuế đất năm 2026 (lần {n})", "Tuyên truyền an toàn giao thông {n}",
    "Kế hoạch diễn tập phòng cháy chữa cháy số {n}", "Thông báo tuyển sinh lớp 1 năm học 2026-2027 ({n})",
]
BODY = ("Ủy ban nhân dân phường thông báo: theo Quyết định số {n}/2026/QĐ-UBND ngày {d}/{m}/2026, từ 7 giờ 30 "
        "đến 11 giờ 00 ngày {d}/{m}, người dân tổ dân phố số {t} chú ý chằng chống nhà cửa, kiểm tra nguồn điện, "
        "dự trữ lương thực và nước uống cho 3 ngày. Mọi thông tin xin liên hệ số điện thoại 024.3825.{n:04d}. "
        "Đề nghị các hộ gia đình thực hiện nghiêm túc.")


def _setup() -> None:
    import django

    django.setup()


def _populate(bulletins: int, users: int, seed: int) -> dict:
    """100 users in the roles and 10,000 bulletins with their revisions and steps, all bulk-created (no
    services: the workflow's rules are not what is measured here, its rows are)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from broadcast.models import AudioRendition, Bulletin, BulletinRevision, BulletinTransition, Notification

    rng = random.Random(seed)
    User = get_user_model()
    password = make_password(PASSWORD)
    people = User.objects.bulk_create([
        User(username=f"bench{i:03d}", first_name=f"Người {i}", last_name="Thử", email=f"bench{i:03d}@loa.test",
             password=password) for i in range(users)])
    groups = {g.name: g for g in Group.objects.all()}
    # 50 editors, 25 approvers, 5 who are both, 15 supervisors, the rest without a role.
    role_of = {}
    for i, user in enumerate(people):
        role_of[user.pk] = (["editor"] if i < 50 else ["approver"] if i < 75 else ["editor", "approver"] if i < 80
                            else ["supervisor"] if i < 95 else [])
    Through = User.groups.through
    Through.objects.bulk_create([Through(user_id=pk, group_id=groups[name].pk)
                                 for pk, names in role_of.items() for name in names])
    editors = [u for u in people if "editor" in role_of[u.pk]]
    approvers = [u for u in people if "approver" in role_of[u.pk]]

    sha = hashlib.sha256(b"bench-pages").hexdigest()
    rendition = AudioRendition.objects.create(
        source=AudioRendition.Source.RECORDING, text_hash=sha, engine="bench", voice="vi", settings_key="bench",
        status=AudioRendition.Status.READY, file="audio/bench-pages.mp3", sha256=sha, duration_ms=64_000,
        size_bytes=512_000, loudness_lufs=-16.0,
    )
    S = Bulletin.Status
    statuses = [S.APPROVED] * 55 + [S.IN_REVIEW] * 10 + [S.DRAFT] * 15 + [S.REJECTED] * 10 + [S.ARCHIVED] * 10
    now = timezone.now()
    rows = []
    for n in range(bulletins):
        author = rng.choice(editors)
        m = rng.randint(1, 12)
        rows.append(Bulletin(
            title=rng.choice(TITLES).format(n=n, m=m)[:300], author=author, status=rng.choice(statuses),
            category=rng.choice(Bulletin.Category.values), priority=rng.choices(
                Bulletin.Priority.values, weights=[85, 10, 5])[0]))
    made = Bulletin.objects.bulk_create(rows, batch_size=2000)
    # Spread over the last year, as a desk accumulates them.
    for b in made:
        b.created_at = now - timezone.timedelta(minutes=rng.randint(0, 525_600))
    Bulletin.objects.bulk_update(made, ["created_at"], batch_size=2000)

    revisions = []
    for b in made:
        submitted = b.status != S.DRAFT
        approved = b.status in (S.APPROVED, S.ARCHIVED)
        approver = rng.choice([a for a in approvers if a.pk != b.author_id])
        revisions.append(BulletinRevision(
            bulletin=b, number=1, title=b.title, category=b.category, priority=b.priority,
            body=BODY.format(n=b.pk % 10_000, d=rng.randint(1, 28), m=rng.randint(1, 12), t=rng.randint(1, 40)),
            created_by_id=b.author_id, submitted_at=b.created_at if submitted else None,
            rendition=rendition if submitted else None,
            approved_by=approver if approved else None, approved_at=b.created_at if approved else None,
            approved_sha256=sha if approved else ""))
    BulletinRevision.objects.bulk_create(revisions, batch_size=2000)
    for b, r in zip(made, revisions, strict=True):
        b.current_revision = r
        b.live_revision = r if b.status == S.APPROVED else None
    Bulletin.objects.bulk_update(made, ["current_revision", "live_revision"], batch_size=2000)

    steps = []
    for b, r in zip(made, revisions, strict=True):
        by = b.author_id
        steps.append(BulletinTransition(bulletin=b, revision=r, from_status="", to_status=S.DRAFT, by_id=by,
                                        at=b.created_at))
        if b.status != S.DRAFT:
            steps.append(BulletinTransition(bulletin=b, revision=r, from_status=S.DRAFT, to_status=S.IN_REVIEW,
                                            by_id=by, at=b.created_at))
        if b.status in (S.APPROVED, S.ARCHIVED):
            steps.append(BulletinTransition(bulletin=b, revision=r, from_status=S.IN_REVIEW, to_status=S.APPROVED,
                                            by=r.approved_by, at=b.created_at))
        if b.status == S.REJECTED:
            steps.append(BulletinTransition(bulletin=b, revision=r, from_status=S.IN_REVIEW, to_status=S.REJECTED,
                                            by=rng.choice(approvers), at=b.created_at,
                                            comment="Ghi rõ số hiệu văn bản và giờ phát."))
    BulletinTransition.objects.bulk_create(steps, batch_size=5000)

    # The editor and approver measured: the first editor with the most bulletins, the first approver.
    editor = max(editors[:50], key=lambda u: sum(1 for b in made if b.author_id == u.pk))
    approver = approvers[0]
    # Their notifications: 300 each (the page shows one page of them).
    kinds = {S.REJECTED: "rejected", S.APPROVED: "approved"}
    own = [b for b in made if b.author_id == editor.pk and b.status in kinds]
    firsts = {t.bulletin_id: t for t in BulletinTransition.objects.filter(
        bulletin__in=own, to_status__in=list(kinds))}
    waiting = [t for t in BulletinTransition.objects.filter(to_status=S.IN_REVIEW).select_related("bulletin")[:300]]
    Notification.objects.bulk_create(
        [Notification(recipient=editor, bulletin_id=b.pk, transition=firsts[b.pk], kind=kinds[b.status])
         for b in own[:300] if b.pk in firsts]
        + [Notification(recipient=approver, bulletin_id=t.bulletin_id, transition=t, kind="submitted") for t in waiting],
        ignore_conflicts=True)

    draft = next(b for b in made if b.author_id == editor.pk and b.status == S.DRAFT)
    shown = next(b for b in made if b.status == S.APPROVED)
    in_review = next(b for b in made if b.status == S.IN_REVIEW and b.author_id != approver.pk)
    return {"editor": editor, "approver": approver, "draft": draft, "shown": shown, "in_review": in_review,
            "counts": {"bulletins": Bulletin.objects.count(), "users": users,
                       "revisions": BulletinRevision.objects.count(),
                       "transitions": BulletinTransition.objects.count(),
                       "notifications": Notification.objects.count()}}


def _bare_view():
    """The baseline: a Django view rendering a small template (through the same middleware)."""
    from django.http import HttpResponse
    from django.template import engines

    template = engines["django"].from_string(
        '<!doctype html><html lang="vi"><head><title>{{ title }}</title></head>'
        "<body><h1>{{ title }}</h1><ul>{% for row in rows %}<li>{{ row }}</li>{% endfor %}</ul></body></html>")

    def bare(request):  # noqa: ANN001, ANN202
        return HttpResponse(template.render({"title": "Trang trống", "rows": range(20)}, request))

    return bare


def _measure(client, url: str, rounds: int) -> tuple[int, list[float], int]:
    from django.db import connection

    first = client.get(url, secure=True)  # warm-up: templates compiled, the session read once
    if first.status_code == 404:
        return 404, [], 0
    queries = []

    def count(execute, sql, params, many, context):  # noqa: ANN001, ANN202
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        client.get(url, secure=True)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(url, secure=True)
        times.append((time.perf_counter() - started) * 1000)
    return response.status_code, times, len(queries)


def _profile(label: str, client, url: str, top: int = 3) -> str:
    """Where one request's time goes: its total, the share spent in SQL, and the slowest statements
    (grouped by their text, parameters aside)."""
    from django.db import connection

    spent: dict[str, list[float]] = {}

    def timed(execute, sql, params, many, context):  # noqa: ANN001, ANN202
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent.setdefault(sql, []).append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    with connection.execute_wrapper(timed):
        client.get(url, secure=True)
    total = (time.perf_counter() - started) * 1000
    in_sql = sum(sum(v) for v in spent.values())
    lines = [f"    profile of {label} ({url}): {total:.0f} ms, of which SQL {in_sql:.0f} ms in "
             f"{sum(len(v) for v in spent.values())} queries, Python/templates {total - in_sql:.0f} ms"]
    for sql, runs in sorted(spent.items(), key=lambda kv: -sum(kv[1]))[:top]:
        text = " ".join(sql.split())
        lines.append(f"      {sum(runs):7.1f} ms ×{len(runs):<3} {text[:300]}{'…' if len(text) > 300 else ''}")
    # The project's own functions by time spent in them and what they call (cProfile slows everything
    # alike: read the figures as shares), the templates' rendering as a whole and by template (with what
    # each includes; a template rendered once per row shows its count).
    from django.template.base import Template

    by_template: dict[str, list[float]] = {}
    plain = Template._render

    def timed_render(self, context):  # noqa: ANN001, ANN202
        started = time.perf_counter()
        try:
            return plain(self, context)
        finally:
            by_template.setdefault(self.origin.template_name or "?", []).append(time.perf_counter() - started)

    Template._render = timed_render
    try:
        profiler = cProfile.Profile()
        profiler.runcall(client.get, url, secure=True)
    finally:
        Template._render = plain
    stats = pstats.Stats(profiler).stats
    whole = max(cum for (_f, _l, _n), (_cc, _nc, _tt, cum, _callers) in stats.items())
    own = sorted(((cum, f"{Path(f).relative_to(ROOT)}:{line} {name}") for (f, line, name), (_cc, _nc, _tt, cum, _c)
                  in stats.items() if f.startswith(str(ROOT)) and "/scripts/" not in f), reverse=True)
    rendering = max((cum for (f, _l, name), (_cc, _nc, _tt, cum, _c) in stats.items()
                     if name == "render" and f.endswith("django/template/base.py")), default=0.0)
    lines.append(f"      under cProfile: templates {100 * rendering / whole:.0f}% of the request; the project's "
                 "functions by share (with what they call):")
    lines += [f"      {100 * cum / whole:5.0f}%  {where}" for cum, where in
              [o for o in own if not o[1].endswith((" __call__", " wrapper"))][:6]]
    lines.append("      templates by share (with what they include): " + ", ".join(
        f"{name} {100 * sum(runs) / whole:.0f}%" + (f" ×{len(runs)}" if len(runs) > 1 else "")
        for name, runs in sorted(by_template.items(), key=lambda kv: -sum(kv[1]))[:5]))
    return "\n".join(lines)


def _client(user):  # noqa: ANN001, ANN202
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def _newsroom_pages(data: dict) -> list[tuple[str, object, str]]:
    editor, approver = _client(data["editor"]), _client(data["approver"])
    return [
        ("root / (redirect to the start page)", editor, "/"),
        ("bulletin list (editor's desk)", editor, "/newsroom/bulletins/"),
        ("bulletin list, search 'bao'", editor, "/newsroom/bulletins/?q=bao"),
        ("bulletin list, approved, by priority", editor, "/newsroom/bulletins/?status=approved&sort=priority"),
        ("bulletin page (listen, history)", editor, f"/newsroom/bulletins/{data['shown'].pk}/"),
        ("editor: new bulletin", editor, "/newsroom/bulletins/new/"),
        ("editor: a draft", editor, f"/newsroom/bulletins/{data['draft'].pk}/edit/"),
        ("review queue", approver, "/newsroom/review/"),
        ("review page", approver, f"/newsroom/review/{data['in_review'].pk}/"),
        ("notifications (editor)", editor, "/newsroom/notifications/"),
        ("notifications (approver)", approver, "/newsroom/notifications/"),
    ]


def _operations_pages(data: dict) -> list[tuple[str, object, str]]:
    sup = _client(data["supervisor"])
    district, commune = _client(data["district_operator"]), _client(data["commune_operator"])
    station = _client(data["station_operator"])
    unit, code = data["unit"], data["station"]
    return [
        ("dashboard, today", sup, "/dashboard/"),
        ("dashboard, a past day", sup, f"/dashboard/?date={data['past_day']:%Y-%m-%d}"),
        ("dashboard, one unit", sup, f"/dashboard/?unit={unit}"),
        ("monthly report (printable)", sup, f"/dashboard/report/?month={data['month']}"),
        ("stations registry", sup, "/operations/stations/"),
        ("stations registry, silent", sup, "/operations/stations/?status=silent"),
        ("station page", sup, f"/operations/stations/{code}/"),
        ("station page, a silent one", sup, f"/operations/stations/{data['silent_station']}/"),
        ("schedules list", sup, "/operations/schedules/"),
        ("new schedule", sup, "/operations/schedules/new/"),
        ("schedule page", sup, f"/operations/schedules/{data['schedule']}/"),
        ("week of a unit", sup, f"/operations/week/?unit={unit}"),
        ("week of a station", sup, f"/operations/week/?station={code}"),
        ("emergency: choose and send", sup, "/operations/emergency/"),
        ("emergency: confirmations", sup, f"/operations/emergency/{data['emergency']}/"),
        ("district operator: dashboard", district, "/dashboard/"),
        ("district operator: stations", district, "/operations/stations/"),
        ("commune operator: dashboard", commune, "/dashboard/"),
        ("commune operator: stations", commune, "/operations/stations/"),
        ("commune operator: week", commune, f"/operations/week/?unit={unit}"),
        ("station operator: my station", station, "/my-station/"),
    ]


def _run(title: str, pages: list, target: float, rounds: int, base_median: float) -> tuple[list, list, list]:
    print(f"\n{title} (target: median < {target:.0f} ms)")
    print(f"{'page':<40} {'status':>6} {'median ms':>10} {'p95 ms':>8} {'min ms':>7} {'× bare':>7} {'queries':>8}")
    slow, skipped, odd = [], [], []
    for label, client, url in pages:
        status, times, queries = _measure(client, url, rounds)
        if status == 404:
            skipped.append(url)
            print(f"{label:<40} {'404':>6}   skipped: {url} is not there yet")
            continue
        median = statistics.median(times)
        p95 = sorted(times)[max(0, int(round(0.95 * len(times))) - 1)]
        flag = ""
        if status >= 400:
            odd.append(f"{url} ({status})")
            flag = "  ← refused"
        elif median >= target:
            slow.append((label, client, url))
            flag = "  ← over target"
        print(f"{label:<40} {status:>6} {median:>10.1f} {p95:>8.1f} {min(times):>7.1f} {median / base_median:>7.1f} "
              f"{queries:>8}{flag}")
    return slow, skipped, odd


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["newsroom", "operations", "all"], default="all")
    parser.add_argument("--bulletins", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--stations", type=int, default=600, help="stations of the operations data set")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--reuse", action="store_true",
                        help="operations only: measure the data set a previous run left (no flush, no filling)")
    parser.add_argument("--only", default="", help="time only the pages whose address contains this text")
    parser.add_argument("--profile", action="store_true", help="profile every page, not only those over target")
    args = parser.parse_args()
    if args.users < 100:
        parser.error("--users must be at least 100 (the roles are given to the first 95)")
    if args.stations < 10:
        parser.error("--stations must be at least 10")
    if args.reuse and args.part != "operations":
        parser.error("--reuse needs --part operations")

    _setup()
    where = guard_database()
    logging.getLogger("django.request").setLevel(logging.ERROR)  # a skipped page's 404 is said once, below
    from _bench_operations_data import existing_operations, populate_operations
    from django.core.management import call_command
    from django.db import connection
    from django.urls import clear_url_caches, path

    from broadcast import urls

    urls.urlpatterns.insert(0, path("bench/bare/", _bare_view()))
    clear_url_caches()

    print(f"database: {where}")
    newsroom = operations = None
    if args.reuse:
        call_command("migrate", verbosity=0)  # the pages' code may have moved on since it was filled
        operations = existing_operations()
        if operations is None:
            sys.exit("--reuse: this database holds no operations data set (run once without --reuse)")
        print("operations data (reused): " + ", ".join(f"{v:,} {k}" for k, v in operations["counts"].items()))
    else:
        call_command("migrate", verbosity=0)
        call_command("flush", interactive=False, verbosity=0)
        call_command("migrate", verbosity=0)  # flush emptied the role groups; post_migrate re-creates them
    if args.part in ("newsroom", "all"):
        started = time.perf_counter()
        newsroom = _populate(args.bulletins, args.users, args.seed)
        print("newsroom data: " + ", ".join(f"{v:,} {k}" for k, v in newsroom["counts"].items())
              + f" (bulk-created in {time.perf_counter() - started:.1f} s)")
    if args.part in ("operations", "all") and not args.reuse:
        from django.contrib.auth.hashers import make_password

        started = time.perf_counter()
        operations = populate_operations(args.stations, args.seed, make_password(PASSWORD))
        print("operations data: " + ", ".join(f"{v:,} {k}" for k, v in operations["counts"].items())
              + f" (bulk-created in {time.perf_counter() - started:.1f} s)")
    # Statistics as a live database has them (autovacuum, or SQLite's optimize): the planner's choices.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    someone = (newsroom or {}).get("editor") or operations["supervisor"]
    _status, times, _queries = _measure(_client(someone), "/bench/bare/", args.rounds)
    base = statistics.median(times)
    print(f"\nbare Django template view (baseline): median {base:.1f} ms, p95 "
          f"{sorted(times)[max(0, int(round(0.95 * len(times))) - 1)]:.1f} ms")

    runs = []
    if newsroom:
        runs.append(("Newsroom pages", _newsroom_pages(newsroom), NEWSROOM_TARGET_MS))
    if operations:
        runs.append((f"Operations pages, {operations['counts']['stations']:,} stations × 30 days",
                     _operations_pages(operations), OPERATIONS_TARGET_MS))
    failed = False
    for title, pages, target in runs:
        pages = [page for page in pages if args.only in page[2]]
        slow, skipped, odd = _run(title, pages, target, args.rounds, base)
        print(f"{title}: " + ("all measured pages meet the target" if not slow
                              else f"over {target:.0f} ms: {', '.join(url for _l, _c, url in slow)}")
              + (f"; skipped (404): {', '.join(dict.fromkeys(skipped))}" if skipped else "")
              + (f"; refused: {', '.join(odd)}" if odd else ""))
        for label, client, url in (pages if args.profile else slow):
            print(_profile(label, client, url))
        failed = failed or bool(slow)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
