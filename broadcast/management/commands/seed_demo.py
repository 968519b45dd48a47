"""Demo content: the sample bulletins drafted, submitted, rendered, approved (by someone else), scheduled
for today to every active station, and today's playlists built. Re-running reuses what exists.

Uses the workflow services (issue 4) and the distribution services (issue 5), as the app itself does.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from broadcast.models import AudioRendition, Bulletin, Schedule
from broadcast.selectors.playlists import LOCAL_TZ, local_today
from stations import roles

# ../shared/samples beside the checkout holds the real Vietnamese sample bulletins.
DEFAULT_SAMPLES = Path(settings.BASE_DIR).parent / "shared" / "samples" / "bulletins.json"


def _user(username: str, role: str) -> Any:
    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        user.set_unusable_password()
        user.save()
    user.groups.add(Group.objects.get(name=role))
    return user


class Command(BaseCommand):
    help = "Tạo dữ liệu mẫu: bản tin mẫu đã duyệt, có âm thanh, lên lịch phát hôm nay, danh sách phát đã dựng."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--samples", default=str(DEFAULT_SAMPLES),
                            help="tệp JSON các bản tin mẫu [{title, category, priority, body}]")
        parser.add_argument("--slots", default="morning,evening", help="khung giờ phát, cách nhau bởi dấu phẩy")

    def handle(self, *args: Any, **opts: Any) -> None:
        from broadcast.services import bulletins as workflow
        from broadcast.services import rendering
        from broadcast.services.playlists import rebuild_playlists
        from broadcast.services.schedules import create_schedule

        path = Path(opts["samples"])
        if not path.exists():
            path = DEFAULT_SAMPLES
        if not path.exists():
            raise CommandError(f"Không tìm thấy tệp bản tin mẫu: {opts['samples']}")
        samples = json.loads(path.read_text(encoding="utf-8"))
        # Demo accounts of create_demo_users when present; the approver is never the author.
        editor = _user("bientap", roles.EDITOR)
        approver = _user("kiemduyet", roles.APPROVER)
        scheduler = _user("giamsat", roles.SUPERVISOR)
        today = local_today()
        slots = [s.strip() for s in opts["slots"].split(",") if s.strip()]
        for sample in samples:
            bulletin = Bulletin.objects.filter(title=sample["title"]).order_by("-id").first()
            if bulletin is None:
                bulletin = workflow.create_bulletin(
                    editor, sample["title"], sample["body"], category=sample.get("category", "other"),
                    priority=sample.get("priority", "normal"),
                )
                self.stdout.write(f"  + bản nháp: {bulletin.title}")
            if bulletin.status == Bulletin.Status.DRAFT:
                bulletin = workflow.submit(bulletin, editor)
            if bulletin.status == Bulletin.Status.IN_REVIEW:
                bulletin.refresh_from_db()
                rendition = bulletin.current_revision.rendition
                if rendition.status != AudioRendition.Status.READY:
                    rendition = rendering.render_rendition(rendition.pk)  # synchronously: the demo needs it now
                if rendition.status != AudioRendition.Status.READY:
                    self.stderr.write(f"  ! không tạo được âm thanh cho «{bulletin.title}»: {rendition.error}")
                    continue
                bulletin = workflow.approve(bulletin, approver, comment="Duyệt dữ liệu mẫu")
                self.stdout.write(f"  ✓ đã duyệt: {bulletin.title}")
            if bulletin.status != Bulletin.Status.APPROVED:
                continue
            scheduled = Schedule.objects.filter(
                bulletin=bulletin, start_date__lte=today, end_date__gte=today, cancelled_at__isnull=True
            ).exists()
            if not scheduled:
                create_schedule(bulletin, by=scheduler, start_date=today, end_date=today, slots=slots,
                                targets={"all": True})
                self.stdout.write(f"  ⏰ lên lịch hôm nay: {bulletin.title}")
        # Built as of midnight, so today's slots that already began still get their plays: the demo
        # should show a full day whatever the hour it is seeded (the builder never fills a started slot).
        midnight = dt.datetime.combine(today, dt.time.min, LOCAL_TZ)
        stats = rebuild_playlists(dates=[today], now=midnight)
        self.stdout.write(self.style.SUCCESS(f"Danh sách phát hôm nay đã dựng: {stats}"))
