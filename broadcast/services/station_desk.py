"""A station operator's press ("đã phát" / "không phát được") made into a playback report, through the
same ingestion a device's reports take (services/reports.py: validation, plausibility, idempotency).

Semantics of a press:
- report_id is "op-<press id>", the press id a one-time uuid carried by the rendered form: pressing twice,
  or sending the same form again (back button, a retry on a bad link), stores one report; the next form
  (rendered after the answer) is a new press and a new report.
- started_at is the item's planned start once that has passed (the person confirms the planned play; the
  minute it really began is not known), else now (played ahead of its planned time, inside its slot).
  ended_at is not sent: nobody timed it. So a late confirmation (the next morning) is still a play at
  the planned time, which the ingestion's plausibility window accepts, as it accepts a device's late upload.
- "không phát được" is status `failed`, the optional reason (at most REASON_MAX characters) its `error`.
- A press before the item's slot opens, or after its day (each widened by the clock skew the devices
  get), is refused with a message for a person; the device's wording speaks of a wrong clock.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from broadcast.models import PlaybackReport, PlaylistItem
from broadcast.selectors.playlists import parse_slot_bounds
from broadcast.services.reports import ingest_reports
from stations.models import Station

PLAYED = PlaybackReport.Status.PLAYED
FAILED = PlaybackReport.Status.FAILED
OUTCOMES = (PLAYED, FAILED)
REPORT_PREFIX = "op-"
REASON_MAX = 500
_PRESS_ID = re.compile(r"[0-9a-f]{32}")

MSG_OUTCOME = "Hãy chọn «Đã phát» hoặc «Không phát được»."
MSG_PRESS_ID = "Biểu mẫu đã cũ hoặc không hợp lệ: hãy tải lại trang rồi bấm lại."
MSG_REASON_TOO_LONG = f"Lý do dài quá {REASON_MAX} ký tự ({{length}} ký tự): hãy viết ngắn lại."
MSG_NOT_YET = ("Chưa đến khung giờ phát của mục này (từ {start}): chỉ báo khi đã phát, hoặc khi đến giờ "
               "mà không phát được.")
MSG_DAY_OVER = "Ngày phát {day} của mục này đã qua: không báo được nữa."
MSG_NOT_PLACED = "Mục này không còn trong danh sách phát của đài."


class PressRefused(ValueError):
    """The press cannot become a report; the message (Vietnamese) is for the person."""


@dataclass(frozen=True)
class PressResult:
    report_id: str
    duplicate: bool  # this very press was already stored (pressed twice, form sent again)


def new_press_id() -> str:
    """A one-time id for a rendered report form."""
    return uuid.uuid4().hex


def start_window(item: PlaylistItem, station: Station) -> tuple[dt.datetime, dt.datetime]:
    """When a play of `item` may be reported as started (the ingestion's rule, skew included)."""
    day = item.playlist.date
    slot_start = next((s.start for s in parse_slot_bounds(station.slots, day) if s.name == item.slot), None)
    skew = dt.timedelta(seconds=settings.REPORTS_CLOCK_SKEW_SECONDS)
    return PlaybackReport.plausible_start_window(day, slot_start, item.starts_at, skew=skew)


def can_report(item: PlaylistItem, station: Station, now: dt.datetime | None = None) -> bool:
    """Whether a press is possible now: the item's slot has opened (a late confirmation is accepted)."""
    return start_window(item, station)[0] <= (now or timezone.now())


def press(station: Station, item: PlaylistItem, outcome: str, press_id: str, reason: str = "", *,
          now: dt.datetime | None = None) -> PressResult:
    """Stores the report of one press on `item` (a placed item of `station`'s playlists, which the caller
    has looked up in the operator's station). Raises PressRefused with the reason."""
    now = now or timezone.now()
    if outcome not in OUTCOMES:
        raise PressRefused(MSG_OUTCOME)
    if not isinstance(press_id, str) or not _PRESS_ID.fullmatch(press_id):
        raise PressRefused(MSG_PRESS_ID)
    report_id = REPORT_PREFIX + press_id
    reason = (reason or "").strip() if outcome == FAILED else ""
    if len(reason) > REASON_MAX:
        raise PressRefused(MSG_REASON_TOO_LONG.format(length=len(reason)))
    if PlaybackReport.objects.filter(station=station, report_id=report_id).exists():
        return PressResult(report_id, duplicate=True)  # the same press again: nothing to check or store
    if item.position is None:
        raise PressRefused(MSG_NOT_PLACED)
    earliest, latest = start_window(item, station)
    planned = item.starts_at
    started = planned if planned is not None and planned <= now else now
    skew = dt.timedelta(seconds=settings.REPORTS_CLOCK_SKEW_SECONDS)
    if started < earliest:
        opens = timezone.localtime(earliest + skew).strftime("%H:%M ngày %d/%m/%Y")
        raise PressRefused(MSG_NOT_YET.format(start=opens))
    if started > latest:
        raise PressRefused(MSG_DAY_OVER.format(day=item.playlist.date.strftime("%d/%m/%Y")))
    body = {"report_id": report_id, "playlist_item": item.pk, "status": outcome, "started_at": started.isoformat()}
    if reason:
        body["error"] = reason
    result = ingest_reports(station, [body], now=now)
    if result.rejected:
        messages = [m for rejection in result.rejected for ms in rejection["errors"].values() for m in ms]
        raise PressRefused(" ".join(messages))
    return PressResult(report_id, duplicate=bool(result.duplicates))
