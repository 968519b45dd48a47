"""The legal play log: every planned play of a date range with its outcome, and every report received.

One row per stored report (with the outcome of the play it names) and one row per planned play that
no report names (missed, or pending while its slot and the grace period have not ended). The district and
commune-level unit of a row are those its record was made under (report, or playlist), never where the
station stands now. Two streamed
queries (server-side cursors) merged in order: day, station, time.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import BooleanField, Case, Q, Value, When
from django.utils import timezone

from broadcast.models import PlaybackReport, PlaylistItem
from stations.models import Station
from stations.selectors import EVERYTHING, Scope

from .coverage import FAILED_OUTCOMES, day_bounds, inactive_q, pending_q

PLAY_LOG_COLUMNS = [
    "Mã đài", "Tên đài", "Mã quận/huyện", "Quận/huyện", "Mã xã/phường", "Xã/phường", "Ngày phát", "Mã bản tin", "Bản tin", "Phiên bản",
    "SHA-256", "Khung giờ", "Giờ phát dự kiến", "Kết quả lượt phát", "Bắt đầu phát", "Kết thúc phát", "Kết quả",
    "Lỗi", "Mã báo cáo", "Nhận lúc",
]
# Identifiers that are text even when all digits (Excel would drop "00001"'s zeros).
CODE_COLUMNS = frozenset({"Mã đài", "Mã quận/huyện", "Mã xã/phường", "Mã báo cáo"})

PLAYED, FAILED, MISSED, PENDING = "Đã phát", "Lỗi", "Bỏ lỡ", "Chờ phát"
ITEM_GONE = "Đã xoá khỏi kế hoạch"


def _fmt(value: datetime | None) -> str:
    return timezone.localtime(value).isoformat() if value else ""


def _item_outcome(report_status: str | None) -> str:
    if report_status is None:
        return ITEM_GONE  # the report's play was taken out of the plan after it was reported
    if report_status == "played":
        return PLAYED
    return FAILED if report_status in FAILED_OUTCOMES else MISSED


def _report_rows(date_from: date, date_to: date, scope: Scope) -> Iterator[tuple[tuple, list[str]]]:
    # Scoped and labelled by the units each report was made under, never where its station stands now.
    qs = PlaybackReport.objects.filter(scope.q(), playlist_date__gte=date_from, playlist_date__lte=date_to)
    qs = qs.order_by("playlist_date", "station_id", "started_at", "id").values_list(
        "id", "station_id", "station__code", "station__name", "district__code", "district__name",
        "unit__code", "unit__name", "playlist_date", "bulletin_id_snapshot", "bulletin_title", "revision_number",
        "sha256", "slot", "planned_start", "playlist_item__report_status", "started_at", "ended_at", "status",
        "error", "report_id", "received_at",
    )
    labels = dict(PlaybackReport.Status.choices)
    for (pk, station_id, code, name, dcode, dname, ucode, uname, pdate, bid, title, rev, sha, slot, planned,
         item_status, started, ended, status, error, report_id, received) in qs.iterator(chunk_size=2000):
        yield (pdate, station_id, started, 0, pk), [
            code, name, dcode or "", dname or "", ucode or "", uname or "", pdate.isoformat(), str(bid), title, str(rev), sha, slot, _fmt(planned),
            _item_outcome(item_status), _fmt(started), _fmt(ended), labels.get(status, status), error, report_id,
            _fmt(received),
        ]


def _pending_flag(date_from: date, date_to: date, stations: Any, now: datetime) -> Q | None:
    """Which unreported items are still pending at `now`: none on days long over, all on days to come."""
    today = timezone.localdate(now)
    q = Q(pk__in=[])
    day = max(date_from, today - timedelta(days=2))
    while day <= min(date_to, today):
        q |= Q(playlist__date=day) & pending_q(day, now, stations)
        day += timedelta(days=1)
    if date_to > today:
        q |= Q(playlist__date__gt=today)
    return None if q == Q(pk__in=[]) else q


def _unreported_rows(
    date_from: date, date_to: date, scope: Scope, now: datetime,
) -> Iterator[tuple[tuple, list[str]]]:
    # report_status is folded from the reports: empty exactly when no report names the item.
    qs = PlaylistItem.objects.filter(playlist__date__gte=date_from, playlist__date__lte=date_to,
                                     position__isnull=False, report_status="")
    stations = Station.objects.all()
    if not scope.everything:
        qs = qs.filter(scope.q("playlist__"))
        stations = stations.filter(pk__in=qs.values("playlist__station_id"))
    inactive = inactive_q(day_bounds(date_from)[0], day_bounds(date_to)[1])
    if inactive is not None:
        qs = qs.exclude(inactive)
    pending = _pending_flag(date_from, date_to, stations, now)
    qs = qs.annotate(is_pending=Case(When(pending, then=Value(True)), default=Value(False),
                                     output_field=BooleanField()) if pending is not None else Value(False))
    qs = qs.order_by("playlist__date", "playlist__station_id", "starts_at", "id").values_list(
        "id", "playlist__station_id", "playlist__station__code", "playlist__station__name",
        "playlist__district__code", "playlist__district__name", "playlist__unit__code", "playlist__unit__name",
        "playlist__date",
        "bulletin_id", "revision__title", "revision__number", "sha256", "slot", "starts_at", "is_pending",
    )
    for (pk, station_id, code, name, dcode, dname, ucode, uname, pdate, bid, title, rev, sha, slot, planned,
         is_pending) in qs.iterator(chunk_size=2000):
        yield (pdate, station_id, planned or day_bounds(pdate)[0], 1, pk), [
            code, name, dcode or "", dname or "", ucode or "", uname or "", pdate.isoformat(), str(bid), title, str(rev), sha, slot, _fmt(planned),
            PENDING if is_pending else MISSED, "", "", "", "", "", "",
        ]


def play_log_rows(
    date_from: date, date_to: date, *, scope: Scope = EVERYTHING, now: datetime | None = None,
) -> Iterator[list[str]]:
    """The legal play log, row by row, oldest day first, then station, then time; times in local time."""
    now = now or timezone.now()
    merged = heapq.merge(_report_rows(date_from, date_to, scope),
                         _unreported_rows(date_from, date_to, scope, now), key=lambda pair: pair[0])
    for _, row in merged:
        yield row
