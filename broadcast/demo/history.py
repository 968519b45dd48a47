"""Demo history of the last weeks, so the dashboard's 30-day line and the monthly report have something to
show: for each past day, two demo bulletins scheduled to every active station in its slots, the
playlists and items the builder would have made as of that day's midnight, and the reports most stations
would have sent that evening, with their outcomes folded into the items.

Written in bulk (the builder and ingestion take minutes for 556 stations × 29 days), row for row as those
services write them: a Schedule per day and bulletin, Playlist (units where the station stands, ETag and
content hash as the builder computes them), PlaylistItem (key s<schedule>:<slot>:0, back to back from the
slot's start with the builder's gap, report_status folded), PlaybackReport (the item's snapshot and
units). Only days with no playlist at all are written: re-running adds nothing, and a day someone built is
never touched. Demo only (seed_demo).
"""

from __future__ import annotations

import datetime as dt
import zlib
from typing import Any

from django.conf import settings
from django.db import transaction

from broadcast.models import Bulletin, PlaybackReport, Playlist, PlaylistItem, Schedule
from broadcast.selectors.playlists import LOCAL_TZ, parse_slot_bounds
from broadcast.services import bulk
from broadcast.services.playlists.planner import ITEM_FIELDS, content_hash, playlist_etag_for
from stations.models import Station

DAYS = 29  # with today's, the dashboard's 30-day line is full
BULLETINS_A_DAY = 2
PLAYLIST_FIELDS = ("station_id", "date", "version", "content_hash", "etag", "generated_at", "district_id", "unit_id")
REPORT_FIELDS = (
    "station_id", "report_id", "playlist_item_id", "status", "started_at", "ended_at", "error", "received_at",
    "playlist_date", "bulletin_id_snapshot", "bulletin_title", "revision_number", "sha256", "slot",
    "planned_start", "district_id", "unit_id",
)


def _roll(*parts: Any) -> int:
    """A stable 0–999 per (station, day, …): the same demo every time it is seeded."""
    return zlib.crc32("|".join(map(str, parts)).encode()) % 1000


def _silent_per_mille(day: dt.date) -> int:
    """Share of stations silent on a day: a bad week in the middle of the month, a stormy weekend."""
    base = 60 + 40 * (day.weekday() >= 5)
    return base + (180 if day.day in (9, 10, 11) else 0)


def write_history(bulletins: list[Bulletin], scheduler: Any, slots: list[str], *, today: dt.date,
                  days: int = DAYS) -> dict[str, int]:
    """The `days` days before `today` that have no playlist yet; returns what was written."""
    wanted = [today - dt.timedelta(days=n) for n in range(days, 0, -1)]
    taken = set(Playlist.objects.filter(date__in=wanted).values_list("date", flat=True).distinct())
    todo = [d for d in wanted if d not in taken]
    live = [b for b in bulletins if b.live_revision_id]
    stats = {"days": 0, "playlists": 0, "items": 0, "reports": 0}
    if not todo or not live:
        return stats
    revisions = {b.pk: b.live_revision for b in Bulletin.objects.filter(pk__in=[b.pk for b in live])
                 .select_related("live_revision__rendition")}
    stations = list(Station.objects.filter(active=True).order_by("pk")
                    .values_list("pk", "code", "district_id", "unit_id", "slots"))
    gap = dt.timedelta(seconds=settings.PLAYLIST_SLOT_GAP_SECONDS)
    for day in todo:
        with transaction.atomic():
            written = _write_day(day, [live[(day.toordinal() + k) % len(live)] for k in range(BULLETINS_A_DAY)],
                                 revisions, scheduler, slots, stations, gap)
        stats["days"] += 1
        for key, value in written.items():
            stats[key] += value
    return stats


def _write_day(day: dt.date, bulletins: list[Bulletin], revisions: dict[int, Any], scheduler: Any,
               slots: list[str], stations: list[tuple], gap: dt.timedelta) -> dict[str, int]:
    midnight = dt.datetime.combine(day, dt.time.min, LOCAL_TZ)
    evening = dt.datetime.combine(day, dt.time(21, 0), LOCAL_TZ)
    schedules = []
    for bulletin in dict.fromkeys(bulletins):
        schedule = Schedule.objects.create(
            bulletin=bulletin, start_date=day, end_date=day, slots=slots, targets={"all": True},
            target_station_count=len(stations), created_by=scheduler, is_demo=True,
        )
        schedules.append(schedule)
    # Per station: its items of the day, in the order of its slots, back to back from each slot's start.
    plans: list[tuple[tuple, dict[str, dict[str, Any]]]] = []
    for station in stations:
        pk, code, district_id, unit_id, station_slots = station
        final: dict[str, dict[str, Any]] = {}
        position = 0
        for bound in parse_slot_bounds(station_slots, day):
            if bound.name not in slots:
                continue
            t = bound.start
            for schedule in schedules:
                revision = revisions[schedule.bulletin_id]
                rendition = revision.rendition
                ends = t + dt.timedelta(milliseconds=rendition.duration_ms)
                if ends > bound.end:
                    break
                position += 1
                final[f"s{schedule.pk}:{bound.name}:0"] = {
                    "position": position, "slot": bound.name, "requested_slot": bound.name, "starts_at": t,
                    "ends_at": ends, "schedule_id": schedule.pk, "bulletin_id": schedule.bulletin_id,
                    "revision_id": revision.pk, "rendition_id": rendition.pk, "sha256": rendition.sha256,
                    "duration_ms": rendition.duration_ms, "priority": schedule.bulletin.priority,
                    "unplaced_reason": "",
                }
                t = ends + gap
        if final:
            plans.append((station, final))
    created = bulk.insert(Playlist, PLAYLIST_FIELDS, [
        (pk, day, 1, (digest := content_hash(final)), playlist_etag_for(code, day, 1, digest), midnight,
         district_id, unit_id)
        for (pk, code, district_id, unit_id, _), final in plans
    ], returning=("id", "station_id"))
    playlist_of = ({station_id: pk for pk, station_id in created} if created is not None
                   else dict(Playlist.objects.filter(date=day).values_list("station_id", "pk")))
    silent = _silent_per_mille(day)
    rows, outcome = [], {}
    for station, final in plans:
        quiet = _roll(station[0], day) < silent
        playlist_id = playlist_of[station[0]]
        for key, v in final.items():
            roll = _roll(station[0], day, key)
            status = "" if quiet or roll < 15 else ("failed" if roll < 45 else "played")
            outcome[(playlist_id, key)] = (station, status, v)
            rows.append((playlist_id, key, *(v[name] for name in ITEM_FIELDS), status,
                         evening if status else None))
    ids = bulk.insert(PlaylistItem, ("playlist_id", "key", *ITEM_FIELDS, "report_status", "reported_at"), rows,
                      returning=("id", "playlist_id", "key"))
    if ids is None:
        ids = PlaylistItem.objects.filter(playlist__date=day).values_list("pk", "playlist_id", "key")
    reports = []
    for item_id, playlist_id, key in sorted(ids):
        station, status, v = outcome[(playlist_id, key)]
        if not status:
            continue
        revision = revisions[v["bulletin_id"]]
        reports.append((
            station[0], f"demo-{day}-{item_id}", item_id, status, v["starts_at"],
            v["ends_at"] if status == "played" else None, "Mất điện giữa chừng" if status == "failed" else "",
            evening, day, v["bulletin_id"], revision.title, revision.number, v["sha256"], v["slot"],
            v["starts_at"], station[2], station[3],
        ))
    if reports:
        bulk.insert(PlaybackReport, REPORT_FIELDS, reports)
    return {"playlists": len(plans), "items": len(rows), "reports": len(reports)}
