"""The operations data set of scripts/bench_pages.py: a registry of N stations on the two-level map,
schedules of approved bulletins, 30 days of playlists with their items and the stations' playback
reports (outcomes folded into the items as ingestion leaves them), station health and its change log,
and the four operations users. Everything bulk-created, day by day (12,000 stations: about 2 million
items), without the services: their rules are not what is measured here, their rows are."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from typing import Any

DAYS = 30
PER_SLOT = 3  # schedules to everyone, per slot and per block of days
SLOT_TIMES = {"morning": dt.time(6, 0), "evening": dt.time(17, 0)}
GAP = dt.timedelta(seconds=5)
# Share of stations in each health state (the rest online).
NEVER, SILENT, LATE = 0.02, 0.06, 0.04
OUTCOMES = (["played"] * 92) + (["failed"] * 4) + (["interrupted"] * 2) + (["skipped"] * 2)
REPORTED_SHARE = 0.9
UNITS_PER_DISTRICT = 5
STATIONS_PER_UNIT = 4


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _user(username: str, first: str, role: str, password: str):  # noqa: ANN202
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create(username=username, first_name=first, last_name="Đo",
                                           email=f"{username}@loa.test", password=password)
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def _content(rng: random.Random, password: str) -> dict[str, Any]:
    """The people who write and approve, and the approved bulletins the schedules air (each with its
    own ready rendition): 40 normal or high, 4 emergencies."""
    from django.utils import timezone

    from broadcast.models import AudioRendition, Bulletin, BulletinRevision

    editor = _user("ops-editor", "Biên tập", "editor", password)
    approver = _user("ops-approver", "Duyệt", "approver", password)
    now = timezone.now()
    made = []
    for n in range(44):
        emergency = n >= 40
        title = (f"Khẩn cấp: lũ quét tại các xã vùng núi (đợt {n - 39})" if emergency
                 else f"Thông báo của UBND về lịch tiêm chủng, thuế và giao thông số {n + 1}")
        priority = "emergency" if emergency else ("high" if n % 7 == 0 else "normal")
        sha = _sha(f"ops-bulletin-{n}")
        rendition = AudioRendition.objects.create(
            source=AudioRendition.Source.RECORDING, text_hash=sha, engine="bench", voice="vi",
            settings_key="bench", status=AudioRendition.Status.READY, file=f"audio/ops-{n}.mp3", sha256=sha,
            duration_ms=rng.randint(45_000, 90_000), size_bytes=500_000, loudness_lufs=-16.0)
        bulletin = Bulletin.objects.create(title=title, author=editor, status="approved", priority=priority,
                                           category=rng.choice(Bulletin.Category.values))
        revision = BulletinRevision.objects.create(
            bulletin=bulletin, number=1, title=title, body="Nội dung bản tin đo hiệu năng.", category=bulletin.category,
            priority=priority, created_by=editor, submitted_at=now, rendition=rendition, approved_by=approver,
            approved_at=now, approved_sha256=sha)
        bulletin.current_revision = bulletin.live_revision = revision
        bulletin.save(update_fields=["current_revision", "live_revision"])
        made.append((bulletin, revision, rendition))
    return {"regular": made[:40], "emergency": made[40:]}


def _registry(n_stations: int, rng: random.Random, now: dt.datetime, first_day: dt.date) -> dict[str, Any]:
    """Districts (old map), one province and its commune-level units (two-level map, about 4 stations
    each), the stations with their health and its change log."""
    from django.utils import timezone

    from stations.health import heartbeat_window, silent_after
    from stations.models import AdminUnit, District, Station, StationStatusChange

    n_units = max(1, -(-n_stations // STATIONS_PER_UNIT))
    n_districts = max(1, -(-n_units // UNITS_PER_DISTRICT))
    districts = District.objects.bulk_create([
        District(code=f"{100 + d:03d}" if d < 900 else f"{d:04d}", name=f"Huyện Thử {d + 1}", kind="huyện",
                 province_code="01", province_name="Hà Nội") for d in range(n_districts)], batch_size=2000)
    province = AdminUnit.objects.create(map="since_2025", level="province", code="01", name="Thành phố Hà Nội",
                                        division_type="thành phố", province_code="01", valid_from=dt.date(2025, 7, 1))
    units = AdminUnit.objects.bulk_create([
        AdminUnit(map="since_2025", level="commune", code=f"{10000 + u:05d}",
                  name=f"{'Phường' if u % 3 else 'Xã'} Thử {u + 1}", division_type="phường" if u % 3 else "xã",
                  province_code="01", parent=province, valid_from=dt.date(2025, 7, 1)) for u in range(n_units)],
        batch_size=2000)

    window, quiet = heartbeat_window(), silent_after()
    began = timezone.make_aware(dt.datetime.combine(first_day - dt.timedelta(days=5), dt.time(8, 0)))
    stations, changes = [], []
    for i in range(n_stations):
        unit = units[i // STATIONS_PER_UNIT]
        district = districts[(i // STATIONS_PER_UNIT) // UNITS_PER_DISTRICT]
        roll = rng.random()
        code = f"HN{i + 1:05d}"
        station = Station(
            code=code, name=f"Đài truyền thanh {unit.name} {i % STATIONS_PER_UNIT + 1}",
            kind="district_center" if i % 40 == 39 else "commune", district=district, admin_code=code,
            unit=unit, unit_choices=[unit.code], contact_name=f"Nguyễn Văn {i + 1}",
            contact_phone=f"09{rng.randint(10_000_000, 99_999_999)}")
        if roll < NEVER:
            station.status = "never"
        else:
            if roll < NEVER + SILENT:
                station.status = "silent"
                seen = now - dt.timedelta(minutes=rng.randint(120, 60 * 24 * 10))
            elif roll < NEVER + SILENT + LATE:
                station.status = "late"
                seen = now - window - dt.timedelta(minutes=rng.randint(1, 40))
            else:
                station.status = "online"
                seen = now - dt.timedelta(seconds=rng.randint(0, 300))
            station.last_seen_at = seen
            station.heartbeat_deadline = seen + window
            station.agent_version = rng.choice(["loa-agent/1.4.2", "loa-agent/1.4.2", "loa-agent/1.3.9"])
            # What the heartbeat stores: its fields but agent_version, the empty ones left out.
            station.agent_state = {"playlist_version": 1, "state": rng.choice(["idle", "idle", "playing"]),
                                   "disk_free_mb": float(rng.choice([rng.randint(40, 300), rng.randint(800, 16_000),
                                                                     rng.randint(800, 16_000)])),
                                   "volume": float(rng.choice([60, 70, 80, 90]))}
            changes.append(("never", "online", began + dt.timedelta(minutes=i % 600)))
            if station.status == "online":
                if rng.random() < 0.3:  # went late once and came back
                    at = now - dt.timedelta(hours=rng.randint(2, 24 * 25))
                    changes += [("online", "late", at), ("late", "online", at + dt.timedelta(minutes=20))]
                station.status_changed_at = changes[-1][2]
            else:
                changes.append(("online", "late", station.heartbeat_deadline))
                if station.status == "silent":
                    changes.append(("late", "silent", station.heartbeat_deadline + quiet))
                station.status_changed_at = changes[-1][2]
        station._bench_changes, changes = changes, []
        stations.append(station)
    Station.objects.bulk_create(stations, batch_size=2000)
    StationStatusChange.objects.bulk_create(
        [StationStatusChange(station_id=s.pk, from_status=f, to_status=t, at=at)
         for s in stations for f, t, at in s._bench_changes], batch_size=5000)
    return {"districts": districts, "units": units, "stations": stations}


def _schedules(content: dict, registry: dict, supervisor: Any, first_day: dt.date, today: dt.date,
               now: dt.datetime, rng: random.Random) -> dict[str, Any]:
    """Schedules to everyone in three blocks of days (the last reaching a week ahead), one to some units,
    one to a district, one to a station, one cancelled, and three emergencies (20 and 5 days ago, and
    one an hour ago, confirmed by most stations but not all)."""
    from django.utils import timezone

    from broadcast.models import Schedule

    regular = iter(content["regular"])
    stations = registry["stations"]
    active = len(stations)
    empty = {"all": False, "districts": [], "units": [], "stations": [], "kinds": []}
    rows: list[tuple[Schedule, dt.datetime]] = []

    def add(start: dt.date, end: dt.date, slots: list[str], targets: dict, count: int, **extra: Any) -> Schedule:
        made = Schedule(bulletin=next(regular)[0], start_date=start, end_date=end, slots=slots, targets={**empty, **targets},
                        target_station_count=count, created_by=supervisor, **extra)
        created = extra.get("cancelled_at") or timezone.make_aware(
            dt.datetime.combine(start - dt.timedelta(days=2), dt.time(9, 30)))
        rows.append((made, created))
        return made

    blocks = [(first_day, first_day + dt.timedelta(days=9)), (first_day + dt.timedelta(days=10),
              first_day + dt.timedelta(days=19)), (first_day + dt.timedelta(days=20), today + dt.timedelta(days=6))]
    for start, end in blocks:
        for slot in SLOT_TIMES:
            for _ in range(PER_SLOT):
                add(start, end, [slot], {"all": True}, active)
    some_units = [u.code for u in registry["units"][:10]]
    add(first_day, today + dt.timedelta(days=6), ["morning"], {"units": some_units},
        sum(1 for s in stations if s.unit.code in some_units))
    district = registry["districts"][0]
    add(first_day, today + dt.timedelta(days=6), ["evening"], {"districts": [district.code]},
        sum(1 for s in stations if s.district_id == district.pk))
    add(first_day, today + dt.timedelta(days=6), ["morning", "evening"], {"stations": [stations[0].code]}, 1)
    add(today + dt.timedelta(days=7), today + dt.timedelta(days=20), ["morning"], {"all": True}, active)
    cancelled = add(today + dt.timedelta(days=3), today + dt.timedelta(days=10), ["evening"], {"all": True}, active,
                    cancelled_at=now - dt.timedelta(hours=5), cancelled_by=supervisor)
    emergencies = []
    for (bulletin, _r, _a), (ago, hour) in zip(content["emergency"], [(20, 14), (5, 9), (0, None)], strict=False):
        day = today - dt.timedelta(days=ago)
        midnight = timezone.make_aware(dt.datetime.combine(day, dt.time(0, 1)))
        when = max(now - dt.timedelta(hours=1), midnight) if hour is None else timezone.make_aware(
            dt.datetime.combine(day, dt.time(hour, 15)))
        made = Schedule(bulletin=bulletin, start_date=day, end_date=day, slots=[], targets={**empty, "all": True},
                        target_station_count=active, created_by=supervisor, immediate=True)
        rows.append((made, when))
        emergencies.append(made)
    Schedule.objects.bulk_create([s for s, _ in rows])
    for made, created in rows:
        made.created_at = created
    Schedule.objects.bulk_update([s for s, _ in rows], ["created_at"])
    return {"all": [s for s, _ in rows], "emergencies": emergencies, "cancelled": cancelled}


def _targets(schedule: Any, station: Any) -> bool:
    t = schedule.targets
    return (t["all"] or station.code in t["stations"] or station.district.code in t["districts"]
            or (station.unit is not None and station.unit.code in t["units"]) or station.kind in t["kinds"])


def _history(registry: dict, schedules: dict, content: dict, first_day: dt.date, today: dt.date,
             now: dt.datetime, rng: random.Random) -> dict[str, int]:
    """Day by day: one playlist per station, its items (emergency first, then each slot back to back),
    and ~90% of the started items reported by stations that were on the air then."""
    from django.utils import timezone

    from broadcast.models import PlaybackReport, Playlist, PlaylistItem

    live = {b.pk: (r, a) for b, r, a in content["regular"] + content["emergency"]}
    counts = {"playlists": 0, "items": 0, "reports": 0}
    stations = registry["stations"]
    for offset in range((today - first_day).days + 1):
        day = first_day + dt.timedelta(days=offset)
        runs = [s for s in schedules["all"] if s.cancelled_at is None and s.start_date <= day <= s.end_date]
        built = timezone.make_aware(dt.datetime.combine(day - dt.timedelta(days=1), dt.time(23, 0)))
        playlists = Playlist.objects.bulk_create([
            Playlist(station=s, date=day, version=1, etag=f'"{s.pk}-{day:%Y%m%d}-1"',
                     content_hash=_sha(f"{s.pk}{day}"), generated_at=built, district_id=s.district_id,
                     unit_id=s.unit_id) for s in stations], batch_size=2000)
        items: list[PlaylistItem] = []
        for station, playlist in zip(stations, playlists, strict=True):
            position = 0
            for sched in runs:
                if not (sched.immediate and _targets(sched, station)):
                    continue
                revision, rendition = live[sched.bulletin_id]
                starts = sched.created_at
                items.append(PlaylistItem(
                    playlist=playlist, key=f"s{sched.pk}:now:0", position=position, slot="now", requested_slot="now",
                    starts_at=starts, ends_at=starts + dt.timedelta(milliseconds=rendition.duration_ms),
                    schedule=sched, bulletin_id=sched.bulletin_id, revision=revision, rendition=rendition,
                    sha256=rendition.sha256, duration_ms=rendition.duration_ms, priority="emergency"))
                position += 1
            for slot, begins in SLOT_TIMES.items():
                at = timezone.make_aware(dt.datetime.combine(day, begins))
                for sched in runs:
                    if sched.immediate or slot not in sched.slots or not _targets(sched, station):
                        continue
                    revision, rendition = live[sched.bulletin_id]
                    ends = at + dt.timedelta(milliseconds=rendition.duration_ms)
                    items.append(PlaylistItem(
                        playlist=playlist, key=f"s{sched.pk}:{slot}:0", position=position, slot=slot,
                        requested_slot=slot, starts_at=at, ends_at=ends, schedule=sched,
                        bulletin_id=sched.bulletin_id, revision=revision, rendition=rendition,
                        sha256=rendition.sha256, duration_ms=rendition.duration_ms, priority=revision.priority))
                    position += 1
                    at = ends + GAP
        # The outcomes first (reports fold into their items: the strongest outcome, when received).
        reported = []
        for item in items:
            station = item.playlist.station
            on_air = station.last_seen_at is not None and item.starts_at <= min(now, station.last_seen_at)
            if on_air and rng.random() < REPORTED_SHARE:
                item.report_status = rng.choice(OUTCOMES)
                item.reported_at = min(now, item.ends_at + dt.timedelta(minutes=rng.randint(1, 30)))
                reported.append(item)
        PlaylistItem.objects.bulk_create(items, batch_size=5000)
        reports = []
        for item in reported:
            playlist, station = item.playlist, item.playlist.station
            started = item.starts_at + dt.timedelta(seconds=rng.randint(0, 20))
            failed = item.report_status == "failed"
            reports.append(PlaybackReport(
                station_id=station.pk, report_id=f"{day:%Y%m%d}-{item.key}", playlist_item_id=item.pk,
                status=item.report_status, started_at=started,
                ended_at=None if failed else started + dt.timedelta(milliseconds=item.duration_ms),
                error="Không phát được tệp âm thanh (lỗi giải mã)." if failed else "",
                playlist_date=day, bulletin_id_snapshot=item.bulletin_id, bulletin_title=item.revision.title,
                revision_number=item.revision.number, sha256=item.sha256, slot=item.slot,
                planned_start=item.starts_at, district_id=playlist.district_id, unit_id=playlist.unit_id))
        PlaybackReport.objects.bulk_create(reports, batch_size=5000)
        counts["playlists"] += len(playlists)
        counts["items"] += len(items)
        counts["reports"] += len(reports)
    return counts


def populate_operations(n_stations: int, seed: int, password: str) -> dict[str, Any]:
    """Builds the data set; returns the users and the codes and ids the pages are asked about."""
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from broadcast.selectors.playlists import local_today
    from stations.models import CommuneOperator, DistrictOperator, StationOperator

    rng = random.Random(seed)
    now = timezone.now()
    today = local_today()
    first_day = today - dt.timedelta(days=DAYS - 1)
    content = _content(rng, password)
    registry = _registry(n_stations, rng, now, first_day)
    supervisor = _user("ops-supervisor", "Giám sát", "supervisor", password)
    district_operator = _user("ops-district", "Cán bộ huyện", "district_operator", password)
    commune_operator = _user("ops-commune", "Cán bộ xã", "commune_operator", password)
    station_operator = _user("ops-station", "Nhân viên đài", "station_operator", password)
    Group.objects.get_or_create(name="station_operator")
    DistrictOperator.objects.create(user=district_operator, district=registry["districts"][0])
    CommuneOperator.objects.create(user=commune_operator).units.set(registry["units"][:2])
    own_station = registry["stations"][0]
    StationOperator.objects.create(user=station_operator, station=own_station)
    schedules = _schedules(content, registry, supervisor, first_day, today, now, rng)
    counts = _history(registry, schedules, content, first_day, today, now, rng)
    silent = next((s for s in registry["stations"] if s.status == "silent"), own_station)
    current = next(s for s in schedules["all"] if not s.immediate and s.start_date <= today <= s.end_date
                   and s.targets["all"])
    return {
        "supervisor": supervisor, "district_operator": district_operator, "commune_operator": commune_operator,
        "station_operator": station_operator, "unit": registry["units"][0].code, "station": own_station.code,
        "silent_station": silent.code, "schedule": current.pk, "emergency": schedules["emergencies"][-1].pk,
        "past_day": today - dt.timedelta(days=7), "month": (today - dt.timedelta(days=15)).strftime("%Y-%m"),
        "counts": {"stations": len(registry["stations"]), "units": len(registry["units"]),
                   "districts": len(registry["districts"]), "schedules": len(schedules["all"]), **counts},
    }


def existing_operations() -> dict[str, Any] | None:
    """The same answer as `populate_operations` read back from a database it filled (for --reuse:
    a 12,000-station data set is filled once and measured again as the pages change); None if empty."""
    from django.contrib.auth import get_user_model

    from broadcast.models import PlaybackReport, Playlist, PlaylistItem, Schedule
    from broadcast.selectors.playlists import local_today
    from stations.models import AdminUnit, District, Station, StationOperator

    users = {u.username: u for u in get_user_model().objects.filter(username__startswith="ops-")}
    if "ops-supervisor" not in users:
        return None
    today = local_today()
    units = AdminUnit.objects.filter(map="since_2025", level="commune")
    own = StationOperator.objects.select_related("station").get(user=users["ops-station"]).station
    silent = Station.objects.filter(status="silent").order_by("code").first() or own
    current = next(s for s in Schedule.objects.filter(immediate=False, cancelled_at__isnull=True,
                                                      start_date__lte=today, end_date__gte=today).order_by("pk")
                   if s.targets.get("all"))
    return {
        "supervisor": users["ops-supervisor"], "district_operator": users["ops-district"],
        "commune_operator": users["ops-commune"], "station_operator": users["ops-station"],
        "unit": units.order_by("code").first().code, "station": own.code, "silent_station": silent.code,
        "schedule": current.pk, "emergency": Schedule.objects.filter(immediate=True).order_by("-created_at").first().pk,
        "past_day": today - dt.timedelta(days=7), "month": (today - dt.timedelta(days=15)).strftime("%Y-%m"),
        "counts": {"stations": Station.objects.count(), "units": units.count(), "districts": District.objects.count(),
                   "schedules": Schedule.objects.count(), "playlists": Playlist.objects.count(),
                   "items": PlaylistItem.objects.count(), "reports": PlaybackReport.objects.count()},
    }
