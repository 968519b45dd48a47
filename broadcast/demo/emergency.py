"""Demo emergency (for `seed_demo`): the demo's approved emergency bulletin sent now to every station as an
immediate schedule, and confirmed by most stations but not all, through the same report ingestion the
station API uses. Once a day: a re-run finds today's demo emergency and changes nothing. Also gives every
station without one a (made-up) person to phone, so the live page's call list is usable.

The stations that do not confirm are those the station simulator (scripts/simulate_stations.py, default
seed) keeps silent, so the demo tells one story: a silent station neither heartbeats nor confirms.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from broadcast.models import Bulletin, PlaybackReport, PlaylistItem, Schedule
from broadcast.selectors.playlists import LOCAL_TZ, local_today, schedule_is_airable
from stations.models import EMERGENCY_SLOT, Station

# As the simulator's defaults (--seed 1, --silent-fraction 0.12): the same stations stay silent.
SIMULATOR_SEED, SILENT_FRACTION = 1, 0.12
FAILED_FRACTION = 0.03  # of the stations that answer, a few report the play failed

FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương", "Lý")
MIDDLE = ("Văn", "Thị", "Đức", "Thu", "Minh", "Hồng", "Quang", "Thanh", "Ngọc", "Hữu")
GIVEN = ("An", "Bình", "Cường", "Dung", "Giang", "Hà", "Hải", "Hạnh", "Hùng", "Lan", "Linh", "Long", "Mai",
         "Nam", "Nga", "Phúc", "Phương", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Việt", "Yến")
MOBILE_PREFIXES = ("090", "091", "093", "094", "096", "097", "098", "088", "086", "089")


def fraction(code: str, salt: str, seed: int = SIMULATOR_SEED) -> float:
    """The simulator's deterministic draw in [0, 1) for a station code."""
    digest = hashlib.sha256(f"{seed}:{salt}:{code}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_silent(code: str) -> bool:
    return fraction(code, "silent") < SILENT_FRACTION


def contact_for(code: str) -> tuple[str, str]:
    """A made-up contact person and mobile number (09x/08x) for a station, stable across runs."""
    h = int.from_bytes(hashlib.sha256(f"contact:{code}".encode()).digest()[:8], "big")
    name = f"{FAMILY[h % len(FAMILY)]} {MIDDLE[h // 13 % len(MIDDLE)]} {GIVEN[h // 131 % len(GIVEN)]}"
    digits = f"{h // 3001 % 10**7:07d}"
    prefix = MOBILE_PREFIXES[h // 7 % len(MOBILE_PREFIXES)]
    return name, f"{prefix}{digits[0]} {digits[1:4]} {digits[4:]}"


def fill_contacts() -> int:
    """Gives stations without a contact person a made-up one (never overwrites a real one)."""
    stations = list(Station.objects.filter(contact_name="", contact_phone="").only("id", "code"))
    for station in stations:
        station.contact_name, station.contact_phone = contact_for(station.code)
    Station.objects.bulk_update(stations, ["contact_name", "contact_phone"], batch_size=500)
    return len(stations)


def seed_emergency(scheduler: Any, say: Callable[[str], None] = lambda _m: None) -> Schedule | None:
    """Sends the demo emergency bulletin to all stations now and has most of them confirm it, once per
    day; returns today's demo emergency (None when the demo has no approved emergency bulletin)."""
    from broadcast.services.reports import ingest_reports
    from broadcast.services.schedules import create_schedule, rebuild_for_schedule

    filled = fill_contacts()
    if filled:
        say(f"  ☎ người liên hệ mẫu cho {filled} đài")
    bulletin = next((b for b in Bulletin.objects.filter(is_demo=True, priority=Bulletin.Priority.EMERGENCY)
                     .select_related("live_revision__rendition").order_by("-id") if schedule_is_airable(b)), None)
    if bulletin is None:
        return None
    midnight = dt.datetime.combine(local_today(), dt.time.min, LOCAL_TZ)
    schedule = (Schedule.objects.filter(is_demo=True, immediate=True, bulletin=bulletin, created_at__gte=midnight)
                .order_by("-created_at").first())
    if schedule is not None:
        return schedule  # sent and confirmed by an earlier run today
    with transaction.atomic():
        schedule = create_schedule(bulletin, by=scheduler, start_date=None, end_date=None, slots=[],
                                   targets={"all": True}, immediate=True)
        Schedule.objects.filter(pk=schedule.pk).update(is_demo=True)
    # Built here and now: the demo shows the confirmations at once, worker or not (the queued rebuild
    # finds nothing left to change).
    rebuild_for_schedule(schedule.pk)
    now = timezone.now()
    items = (PlaylistItem.objects.filter(schedule=schedule, slot=EMERGENCY_SLOT)
             .select_related("playlist__station").order_by("playlist__station__code"))
    answered = failed = 0
    for item in items:
        station = item.playlist.station
        if is_silent(station.code):
            continue
        # Stations pick it up within their next poll: up to half a minute after sending.
        started = min(item.starts_at + dt.timedelta(seconds=3 + int(fraction(station.code, "em-start") * 27)), now)
        fails = fraction(station.code, "em-fail") < FAILED_FRACTION
        ingest_reports(station, [{
            "report_id": f"demo-emergency-{item.pk}", "playlist_item": item.pk,
            "status": "failed" if fails else "played", "started_at": started.isoformat(),
            **({"error": "Mất điện giữa chừng"} if fails else {}),
        }], now=now)
        answered += 1
        failed += fails
    total = PlaybackReport.objects.filter(playlist_item__schedule=schedule).count()
    say(f"  🚨 phát khẩn cấp «{bulletin.title}»: {len(items)} đài nhận, {answered - failed} đã phát, "
        f"{failed} lỗi, {len(items) - answered} chưa xác nhận ({total} báo cáo)")
    return schedule
