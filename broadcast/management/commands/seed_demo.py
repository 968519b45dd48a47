"""Demo content: the demo bulletins (broadcast/demo/bulletins.json) drafted, submitted, rendered, approved
(by someone else), scheduled for today to every active station, and today's playlists built. Also one
past day on the map before 1 July 2025 (HISTORY_DAY, the last day with districts): the same bulletins
aired that day, with playlists built as of that day's midnight and reports from most stations, so the
dashboard of that day shows coverage by district (today's: by commune-level unit).

It acts only on what it made itself (`Bulletin.is_demo`, `Schedule.is_demo`): a bulletin a person wrote is
never approved, scheduled or edited, whatever its title. Re-running reuses the demo objects that exist.
Allowed where demo accounts are (DEBUG on; the embedded SQLite default, --force or LOA_DEMO=true).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from broadcast import demo
from broadcast.demo import history
from broadcast.demo.emergency import seed_emergency
from broadcast.demo.health import seed_station_health
from broadcast.models import AudioRendition, Bulletin, PlaybackReport, Playlist, PlaylistItem, Schedule
from broadcast.selectors.playlists import LOCAL_TZ, local_today
from stations import roles
from stations.management.commands.create_demo_users import check_demo_allowed
from stations.models import MAP_2025_START, Station

HISTORY_DAY = MAP_2025_START - dt.timedelta(days=1)
# About one station in ten stays silent on the history day, and one play in twenty-five fails.
SILENT_ONE_IN, FAILED_ONE_IN = 10, 25


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
        parser.add_argument("--samples", help="tệp JSON các bản tin mẫu [{title, category, priority, body}] "
                                              "(mặc định: bản tin mẫu kèm theo Loa)")
        parser.add_argument("--slots", default="morning,evening", help="khung giờ phát, cách nhau bởi dấu phẩy")
        parser.add_argument("--force", action="store_true",
                            help="tạo cả trong cơ sở dữ liệu do DATABASE_URL chỉ định (chỉ khi đó là dữ liệu thử)")

    def handle(self, *args: Any, **opts: Any) -> None:
        from broadcast.services import bulletins as workflow
        from broadcast.services import rendering
        from broadcast.services.playlists import rebuild_playlists
        from broadcast.services.schedules import ScheduleValidationError, create_schedule

        check_demo_allowed("Dữ liệu mẫu", force=opts["force"])
        path = Path(opts["samples"]) if opts["samples"] else demo.BULLETINS
        if not path.is_file():
            raise CommandError(f"Không tìm thấy tệp bản tin mẫu: {path}")
        samples = demo.load_bulletins(path)
        # Demo accounts of create_demo_users when present; the approver is never the author.
        editor = _user("bientap", roles.EDITOR)
        approver = _user("kiemduyet", roles.APPROVER)
        scheduler = _user("giamsat", roles.SUPERVISOR)
        today = local_today()
        slots = [s.strip() for s in opts["slots"].split(",") if s.strip()]
        approved: list[Bulletin] = []
        for sample in samples:
            bulletin = Bulletin.objects.filter(is_demo=True, title=sample["title"]).order_by("-id").first()
            if bulletin is None:
                with transaction.atomic():
                    bulletin = workflow.create_bulletin(
                        editor, sample["title"], sample["body"], category=sample.get("category", "other"),
                        priority=sample.get("priority", "normal"),
                    )
                    Bulletin.objects.filter(pk=bulletin.pk).update(is_demo=True)
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
            approved.append(bulletin)
            scheduled = Schedule.objects.filter(
                bulletin=bulletin, is_demo=True, start_date__lte=today, end_date__gte=today,
                cancelled_at__isnull=True,
            ).exists()
            if not scheduled:
                try:
                    with transaction.atomic():
                        schedule = create_schedule(bulletin, by=scheduler, start_date=today, end_date=today,
                                                   slots=slots, targets={"all": True},
                                                   now=dt.datetime.combine(today, dt.time.min, LOCAL_TZ))
                        Schedule.objects.filter(pk=schedule.pk).update(is_demo=True)
                except ScheduleValidationError as exc:
                    raise CommandError(" ".join(m for messages in exc.errors.values() for m in messages)) from None
                self.stdout.write(f"  ⏰ lên lịch hôm nay: {bulletin.title}")
        self._history_day(approved, scheduler, slots)
        self.stdout.write(f"  📈 lịch sử {history.DAYS} ngày gần đây: {history.write_history(approved, scheduler, slots, today=today)}")
        seed_emergency(scheduler, say=self.stdout.write)  # today's emergency, confirmed by most stations
        heard = seed_station_health()
        self.stdout.write(f"  📡 đài từng liên lạc rồi im: {heard['late']} chậm báo, {heard['silent']} mất liên lạc")
        people_today = Schedule.objects.filter(
            is_demo=False, cancelled_at__isnull=True, start_date__lte=today, end_date__gte=today
        ).exists()
        if people_today:
            # Today's playlists also carry schedules people made: those are built from now on, as always.
            self.stdout.write("Danh sách phát hôm nay có cả lịch do người dùng tạo: giữ nguyên cách dựng thường lệ.")
            return
        # Built as of midnight, so today's slots that already began still get their plays: the demo
        # should show a full day whatever the hour it is seeded (the builder never fills a started slot).
        midnight = dt.datetime.combine(today, dt.time.min, LOCAL_TZ)
        stats = rebuild_playlists(dates=[today], now=midnight)
        self.stdout.write(self.style.SUCCESS(f"Danh sách phát hôm nay đã dựng: {stats}"))

    def _history_day(self, bulletins: list[Bulletin], scheduler: Any, slots: list[str]) -> None:
        """HISTORY_DAY as it happened: the demo bulletins scheduled to every station, playlists built as
        of that midnight, reports sent that evening. Done once: a day already built is never rebuilt
        (its playlists keep the units they were made under, whatever the registry says since)."""
        from broadcast.services.playlists import rebuild_playlists
        from broadcast.services.reports import ingest_reports
        from broadcast.services.schedules import validate_targets

        day = HISTORY_DAY
        if not bulletins or Playlist.objects.filter(date=day).exists():
            return
        targets = validate_targets({"all": True})
        active = Station.objects.filter(active=True)
        known = {str(s.get("name")) for station_slots in active.values_list("slots", flat=True)
                 for s in station_slots or [] if isinstance(s, dict)}
        day_slots = [s for s in slots if s in known]
        if not day_slots:
            return
        with transaction.atomic():
            for bulletin in bulletins:
                # A past schedule is history, not a plan: written as the record it would have been
                # (create_schedule refuses a range that has ended), then built as of that day's midnight.
                if not Schedule.objects.filter(bulletin=bulletin, is_demo=True, start_date=day, end_date=day).exists():
                    Schedule.objects.create(
                        bulletin=bulletin, start_date=day, end_date=day, slots=day_slots, targets=targets,
                        target_station_count=active.count(), created_by=scheduler, is_demo=True,
                    )
        stats = rebuild_playlists(dates=[day], now=dt.datetime.combine(day, dt.time.min, LOCAL_TZ))
        self.stdout.write(f"  📜 ngày {day:%d/%m/%Y} (bản đồ trước 01/07/2025): {stats}")
        evening = dt.datetime.combine(day, dt.time(23, 0), LOCAL_TZ)
        items: dict[Station, list[PlaylistItem]] = {}
        for item in (PlaylistItem.objects.filter(playlist__date=day, position__isnull=False)
                     .select_related("playlist__station").order_by("playlist__station_id", "starts_at")):
            items.setdefault(item.playlist.station, []).append(item)
        accepted = 0
        for station, station_items in items.items():
            if station.pk % SILENT_ONE_IN == 0:
                continue
            reports = [{
                "report_id": f"demo-{day}-{item.pk}", "playlist_item": item.pk,
                "status": "failed" if item.pk % FAILED_ONE_IN == 0 else "played",
                "started_at": item.starts_at.isoformat(),
                **({"error": "Mất điện giữa chừng"} if item.pk % FAILED_ONE_IN == 0
                   else {"ended_at": (item.ends_at or item.starts_at).isoformat()}),
            } for item in station_items]
            accepted += ingest_reports(station, reports, now=evening).accepted
        reported = PlaybackReport.objects.filter(playlist_date=day).values("station_id").distinct().count()
        self.stdout.write(f"  📻 báo cáo ngày {day:%d/%m/%Y}: {accepted} lượt từ {reported} đài")
