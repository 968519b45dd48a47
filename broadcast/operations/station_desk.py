"""The station operator's page (/my-station/): today's and tomorrow's playlist of the one station they run,
by slot, an audio player per item, the day's downloads, and a "đã phát" / "không phát được" press per item
that becomes a playback report as a device's would (services/station_desk.py).

Made for a phone on a slow link: one small stylesheet, no script of its own; the report press swaps its
row with htmx and, without JavaScript, posts and comes back to the page (POST-redirect-GET).

Downloads: the day's ZIP (the device's bundle, one cache) in the signed-in browser; the M3U8 and the audio
through signed links (station_desk_links.py), so a plain player opens them without a session.
Anything of another station is a 404; a person who is not a station operator tied to a station, a 403.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, re_path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from broadcast.api.station import bundle_file, bundle_validator, playlist_document, playlist_hls
from broadcast.http import serve_file
from broadcast.models.schedules import WEEKDAY_NAMES
from broadcast.newsroom.access import role_required
from broadcast.selectors import playlists as playlist_selectors
from broadcast.selectors import station_desk as selectors
from broadcast.services import downloads
from broadcast.services import station_desk as desk
from stations import roles
from stations.models import Station

from . import station_desk_links as links

MSG_NO_STATION = ("Tài khoản của bạn chưa được gắn với đài nào. Hãy nhờ giám sát viên gắn tài khoản với đài "
                  "của bạn trong trang quản trị.")
MSG_BAD_DATE = "Chỉ tải được danh sách phát từ {first} đến {last}."
MSG_NOT_READY = "Âm thanh của ngày này chưa sẵn sàng, hãy thử lại sau ít phút."
MSG_NO_LONGER = "Bạn không còn là nhân viên của đài này: địa chỉ không dùng được nữa."


def _station(request: HttpRequest) -> Station:
    station = selectors.operator_station(request.user)
    if station is None:
        raise PermissionDenied(MSG_NO_STATION)
    return station


def _base_url(request: HttpRequest) -> str:
    return settings.PUBLIC_BASE_URL or request.build_absolute_uri("/").rstrip("/")


def _prepare(item: Any, request: HttpRequest, station: Station, now: dt.datetime) -> Any:
    """What one row needs besides the item: a fresh press id, the signed audio link, whether a press
    is possible now, the outcome in words."""
    item.press_id = desk.new_press_id()
    item.audio_url = (reverse("station-desk-audio", kwargs={"sha256": item.sha256}) + "?"
                      + links.signed_query("audio", request.user.pk, item.playlist.date, item.sha256))
    item.reportable = desk.can_report(item, station, now)
    item.duration_text = _clock(item.duration_ms)
    item.outcome_label = selectors.OUTCOME_LABELS.get(item.report_status, item.report_status)
    if not hasattr(item, "failure_reason"):
        item.failure_reason = (selectors.last_failures(station, [item.pk]).get(item.pk, "")
                               if item.report_status == "failed" else "")
    return item


def _clock(ms: int) -> str:
    """A duration as a person reads it: 1:05, 12:30, 1:02:03."""
    minutes, seconds = divmod(round(ms / 1000), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _day_heading(date: dt.date, today: dt.date) -> str:
    which = "Hôm nay" if date == today else "Ngày mai" if date == today + dt.timedelta(days=1) else ""
    words = f"{WEEKDAY_NAMES[date.weekday()]}, {date:%d/%m/%Y}"
    return f"{which} — {words}" if which else words


def _page(request: HttpRequest, station: Station, *, status: int = 200,
          row_errors: dict[int, tuple[str, str]] | None = None) -> HttpResponse:
    now = timezone.now()
    today = playlist_selectors.local_today()
    days = selectors.desk_days(station, [today, today + dt.timedelta(days=1)])
    base = _base_url(request)
    for day in days:
        day.heading = _day_heading(day.date, today)
        day.total_text = _clock(day.total_ms)
        day.bundle_url = f"{reverse('station-desk-bundle')}?date={day.date.isoformat()}"
        day.m3u8_url = (f"{base}{reverse('station-desk-m3u8')}?"
                        f"{links.signed_query(links.PLAYLIST, request.user.pk, day.date)}")
        for slot in day.slots:
            for item in slot.items:
                _prepare(item, request, station, now)
                item.error, item.reason = (row_errors or {}).get(item.pk, ("", ""))
    return render(request, "operations/station_desk/page.html", {"station": station, "days": days}, status=status)


@require_GET
@role_required(roles.STATION_OPERATOR)
def page(request: HttpRequest) -> HttpResponse:
    return _page(request, _station(request))


@require_POST
@role_required(roles.STATION_OPERATOR)
def report(request: HttpRequest, item_id: int) -> HttpResponse:
    station = _station(request)
    item = selectors.desk_item(station, item_id)
    if item is None:
        raise Http404("Không tìm thấy mục phát này trong danh sách phát của đài bạn.")
    outcome = request.POST.get("outcome", "")
    reason = request.POST.get("reason", "")
    error, note = "", ""
    try:
        result = desk.press(station, item, outcome, request.POST.get("press_id", ""), reason)
    except desk.PressRefused as exc:
        error = str(exc)
    else:
        label = "đã phát" if outcome == desk.PLAYED else "không phát được"
        note = (f"Đã ghi nhận trước đó: «{item.revision.title}» {label}." if result.duplicate
                else f"Đã ghi nhận: «{item.revision.title}» {label}.")
    if request.htmx:
        item.refresh_from_db(fields=["report_status", "reported_at"])
        if hasattr(item, "failure_reason"):
            del item.failure_reason
        _prepare(item, request, station, timezone.now())
        item.error, item.reason, item.note = error, (reason if error else ""), note
        # 200 even when refused: htmx swaps only successful answers, and the row carries the message.
        return render(request, "operations/station_desk/row.html", {"item": item})
    if error:
        return _page(request, station, status=400, row_errors={item.pk: (error, reason)})
    messages.success(request, note)
    return redirect(f"{reverse('station-desk')}#item-{item.pk}")


def _requested_date(request: HttpRequest) -> dt.date:
    first, last = playlist_selectors.published_range()
    try:
        date = dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        date = None
    if date is None or not first <= date <= last:
        raise PermissionDenied(MSG_BAD_DATE.format(first=f"{first:%d/%m/%Y}", last=f"{last:%d/%m/%Y}"))
    return date


@require_GET
@role_required(roles.STATION_OPERATOR)
def bundle(request: HttpRequest) -> HttpResponse:
    station = _station(request)
    date = _requested_date(request)
    base = _base_url(request)
    version, etag = bundle_validator(station, date, base)
    path_ = bundle_file(station, date, base, version, etag)
    if path_ is None:
        response = render(request, "newsroom/403.html", {"message": MSG_NOT_READY, "heading": "Chưa sẵn sàng"},
                          status=503)
        response["Retry-After"] = "60"
        return response
    return serve_file(request, path_, content_type="application/zip", etag=etag.strip('"'),
                      filename=f"{station.code}-{date.isoformat()}.zip", cache_control="private, no-cache")


def _plain(status: int, message: str) -> HttpResponse:
    """Signed links are opened by players, which show no page: a short Vietnamese text."""
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def _signed_station(request: HttpRequest, kind: str, subject: str = "") -> tuple[Station, dt.date] | HttpResponse:
    try:
        user_id, date = links.check(kind, request.GET, subject)
    except links.BadLink as exc:
        return _plain(403, str(exc))
    station = selectors.station_of_active_operator(user_id)
    if station is None:
        return _plain(403, MSG_NO_LONGER)
    return station, date


@require_GET
def m3u8(request: HttpRequest) -> HttpResponse:
    signed = _signed_station(request, links.PLAYLIST)
    if isinstance(signed, HttpResponse):
        return signed
    station, date = signed
    user_id = int(request.GET["u"])
    base = _base_url(request)
    document = playlist_document(playlist_selectors.station_playlist(station.pk, date), station, date, base)

    def signed_audio(sha: str) -> str:
        return (f"{base}{reverse('station-desk-audio', kwargs={'sha256': sha})}?"
                f"{links.signed_query('audio', user_id, date, sha)}")

    response = HttpResponse(playlist_hls(document, signed_audio), content_type="audio/x-mpegurl; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{date.isoformat()}.m3u8"'
    response["Cache-Control"] = "private, no-cache"
    return response


@require_GET
def audio(request: HttpRequest, sha256: str) -> HttpResponse:
    signed = _signed_station(request, "audio", sha256)
    if isinstance(signed, HttpResponse):
        return signed
    station, date = signed
    rendition = playlist_selectors.station_has_audio(station.pk, sha256, date)
    source = Path(settings.MEDIA_ROOT) / rendition.file if rendition else None
    if source is None or not source.is_file():
        return _plain(404, "Không tìm thấy tệp âm thanh trong danh sách phát của đài.")
    return serve_file(request, downloads.player_copy(sha256, source), etag=f"{sha256}-frames",
                      filename=f"{sha256}.mp3")


urlpatterns = [
    path("my-station/", page, name="station-desk"),
    path("my-station/items/<int:item_id>/report/", report, name="station-desk-report"),
    path("my-station/bundle/", bundle, name="station-desk-bundle"),
    path("my-station/playlist.m3u8", m3u8, name="station-desk-m3u8"),
    re_path(r"^my-station/audio/(?P<sha256>[0-9a-f]{64})\.mp3$", audio, name="station-desk-audio"),
]
