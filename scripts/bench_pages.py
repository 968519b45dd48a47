#!/usr/bin/env python
"""Benchmark of the newsroom pages: server time and query count of each page with 10,000 bulletins and 100
users, against a bare Django template view measured in the same run (the floor: middleware, session, a
template). Target: every page under 150 ms, and a query count that does not grow with the rows shown.

Pages that are not there yet (404) are skipped and said so. Requests go through Django's test Client in
this process (no network), signed in as an editor or an approver, DEBUG off; each page is warmed once,
then timed `--rounds` times (median and 95th percentile).

Runs only against a throwaway database whose name or path contains "bench" (it is flushed!):
    LOA_VAR_DIR=/tmp/bench-pages .venv/bin/python scripts/bench_pages.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/loa_bench_pages .venv/bin/python scripts/bench_pages.py
"""

from __future__ import annotations

import argparse
import hashlib
import os
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

TARGET_MS = 150.0
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
    from django.core.management import call_command
    from django.utils import timezone

    from broadcast.models import AudioRendition, Bulletin, BulletinRevision, BulletinTransition, Notification

    rng = random.Random(seed)
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)  # flush emptied the role groups; post_migrate re-creates them

    User = get_user_model()
    password = make_password("bench-pages")
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

    # Statistics as a live database has them (autovacuum, or SQLite's optimize): the planner's choices.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    draft = next(b for b in made if b.author_id == editor.pk and b.status == S.DRAFT)
    shown = next(b for b in made if b.status == S.APPROVED)
    in_review = next(b for b in made if b.status == S.IN_REVIEW and b.author_id != approver.pk)
    return {"editor": editor, "approver": approver, "draft": draft, "shown": shown, "in_review": in_review,
            "counts": {"bulletins": Bulletin.objects.count(), "users": User.objects.count(),
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bulletins", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    if args.users < 100:
        parser.error("--users must be at least 100 (the roles are given to the first 95)")

    _setup()
    where = guard_database()
    from django.test import Client
    from django.urls import clear_url_caches, path

    from broadcast import urls

    urls.urlpatterns.insert(0, path("bench/bare/", _bare_view()))
    clear_url_caches()

    started = time.perf_counter()
    data = _populate(args.bulletins, args.users, args.seed)
    print(f"database: {where}")
    print("data: " + ", ".join(f"{v:,} {k}" for k, v in data["counts"].items())
          + f" (bulk-created in {time.perf_counter() - started:.1f} s)")

    editor, approver = Client(), Client()
    editor.force_login(data["editor"])
    approver.force_login(data["approver"])
    pages = [
        ("bare Django template view (baseline)", editor, "/bench/bare/"),
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
    print(f"\n{'page':<40} {'status':>6} {'median ms':>10} {'p95 ms':>8} {'× bare':>7} {'queries':>8}")
    base_median = None
    slow, skipped = [], []
    for label, client, url in pages:
        status, times, queries = _measure(client, url, args.rounds)
        if status == 404:
            skipped.append(url)
            print(f"{label:<40} {'404':>6}   skipped: {url} is not there yet")
            continue
        median = statistics.median(times)
        p95 = sorted(times)[max(0, int(round(0.95 * len(times))) - 1)]
        base_median = base_median or median
        ratio = median / base_median
        flag = "" if median < TARGET_MS else "  ← over target"
        if median >= TARGET_MS:
            slow.append(url)
        print(f"{label:<40} {status:>6} {median:>10.1f} {p95:>8.1f} {ratio:>7.1f} {queries:>8}{flag}")
    print(f"\ntarget: median < {TARGET_MS:.0f} ms per page; "
          + ("all measured pages meet it" if not slow else f"over: {', '.join(slow)}")
          + (f"; skipped (404): {', '.join(skipped)}" if skipped else ""))
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
