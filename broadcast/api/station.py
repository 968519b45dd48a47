"""Station-facing download protocol (API.md, "Station-facing"): playlist JSON/M3U8, day bundle, audio.

Authentication: `Authorization: Bearer <station token>`. Plain players (VLC, mpv, ffplay) cannot send
headers: `station/player-url/` hands a device a signed M3U8 feed URL, whose audio URLs are signed too
(broadcast/api/signed_urls.py): bound to the station's current credential, expiring a few days after
the playlist date, opening only that playlist's audio.

Dates outside the published range (PLAYLIST_DAYS_BACK days ago … PLAYLIST_DAYS_AHEAD days ahead)
answer 400; a date inside it that has no playlist (yet) answers an empty playlist with version 0.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotModified
from django.urls import re_path, reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from stations import health
from stations.api import StationAPIView
from stations.auth import StationThrottle, StationTokenAuthentication
from stations.selectors import hash_token

from ..http import serve_file
from ..models import Playlist
from ..selectors import playlists as selectors
from ..services import downloads
from .common import query_date
from .signed_urls import (
    SignedAudioAuthentication,
    SignedPlaylistAuthentication,
    signed_audio_query,
    signed_playlist_query,
    signing_key_fingerprint,
)

# ---------------------------------------------------------------- plumbing


class M3U8Renderer(BaseRenderer):
    media_type = "audio/x-mpegurl"
    format = "m3u8"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if isinstance(data, str):
            return data.encode("utf-8")
        return json.dumps(data, ensure_ascii=False).encode("utf-8")  # errors stay readable


class AnyAcceptNegotiation(BaseContentNegotiation):
    """Binary endpoints answer whatever the client accepts; errors come back as JSON."""

    def select_parser(self, request: Any, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Any, renderers: Any, format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type


def _requested_date(request: Request) -> dt.date:
    today = selectors.local_today()
    date = query_date(request.query_params, "date", today)
    first, last = selectors.published_range(today)
    if not first <= date <= last:
        raise exceptions.ValidationError(
            {"date": [f"Chỉ có danh sách phát từ {first.isoformat()} đến {last.isoformat()}."]}
        )
    return date


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    candidates = {c.strip().removeprefix("W/") for c in header.split(",")}
    return etag in candidates or "*" in candidates


# An ETag the header carries as it is and _etag_matches reads back: visible ASCII, no quote or comma.
_PLAIN_ETAG = re.compile(r'"[\x21\x23-\x2b\x2d-\x7e]*"')


def _opaque(etag: str) -> str:
    """The playlist ETag as sent. It is built from the station code, which is free text (a registry CSV
    may give any): one with a newline could not be sent at all (500), with a quote or comma it would
    never match again, with Vietnamese letters it went out MIME-encoded; those are sent hashed."""
    if _PLAIN_ETAG.fullmatch(etag):
        return etag
    return f'"h{hashlib.sha256(etag.encode()).hexdigest()[:32]}"'


def _base_url(request: Request) -> str:
    return settings.PUBLIC_BASE_URL or request.build_absolute_uri("/").rstrip("/")


def _audio_path(sha256: str) -> str:
    return reverse("station-audio", kwargs={"sha256": sha256})


def _local_iso(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value, selectors.LOCAL_TZ).isoformat() if value else None


def playlist_document(playlist: Playlist | None, station: Any, date: dt.date, base_url: str) -> dict[str, Any]:
    """The JSON a station receives (API.md), built from the materialized playlist."""
    if playlist is None:
        return {"station": station.code, "date": date.isoformat(), "version": 0, "generated_at": None, "items": []}
    return {
        "station": station.code,
        "date": date.isoformat(),
        "version": playlist.version,
        "generated_at": _local_iso(playlist.generated_at),
        "items": [
            {
                "id": item.pk,
                "position": item.position,
                "slot": item.slot,
                "schedule": item.schedule_id,
                "starts_at": _local_iso(item.starts_at),
                "ends_at": _local_iso(item.ends_at),
                "bulletin": {"id": item.bulletin_id, "title": item.revision.title, "priority": item.priority},
                "audio": {
                    "url": base_url + _audio_path(item.sha256),
                    "sha256": item.sha256,
                    "duration_ms": item.duration_ms,
                    "size_bytes": item.rendition.size_bytes,
                },
            }
            for item in playlist.placed_items
        ],
    }


def playlist_hls(document: dict[str, Any], url_for: Any) -> str:
    """The network M3U8: a finished HLS VOD list, one item per segment, so ffmpeg, ffplay and mpv (via
    libavformat) open it over HTTP and VLC's HLS module plays it; the URLs point at the player copies
    (services/downloads.py), whose missing ID3 tags let the items join without decoder errors.
    A discontinuity between items: each is its own encoding with timestamps from zero."""
    items = document["items"]
    longest = max((math.ceil(i["audio"]["duration_ms"] / 1000) for i in items), default=1)
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{max(1, longest)}",
             "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD",
             f"#PLAYLIST:{_one_line(document['station'])} {document['date']} v{document['version']}"]
    for n, item in enumerate(items):
        if n:
            lines.append("#EXT-X-DISCONTINUITY")
        lines.append(f"#EXTINF:{item['audio']['duration_ms'] / 1000:.3f},{_title(item)}")
        lines.append(url_for(item["audio"]["sha256"]))
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def playlist_m3u(document: dict[str, Any], url_for: Any) -> str:
    """The bundle's M3U: a plain music playlist of the exact files (no HLS tags), which VLC and mpv play
    file after file, each opened on its own."""
    lines = ["#EXTM3U", f"#PLAYLIST:{_one_line(document['station'])} {document['date']} v{document['version']}"]
    for item in document["items"]:
        lines.append(f"#EXTINF:{max(1, round(item['audio']['duration_ms'] / 1000))},{_title(item)}")
        lines.append(url_for(item["audio"]["sha256"]))
    return "\n".join(lines) + "\n"


def _title(item: dict[str, Any]) -> str:
    return _one_line(item["bulletin"]["title"])


def _one_line(text: Any) -> str:
    """Free text (a title, a station code) inside one M3U line."""
    return " ".join(str(text).split())


def _not_modified(etag: str) -> HttpResponse:
    response = HttpResponseNotModified()
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


# ---------------------------------------------------------------- views


class StationPlaylist(StationAPIView):
    """Today's (or `date`'s) playlist. Send `If-None-Match` with the last ETag: 304 when unchanged."""

    renderer_classes = [JSONRenderer, M3U8Renderer]

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        # Fast path for the hot polling case (JSON, If-None-Match): one query checks the token and
        # reads the ETag together, skipping DRF's machinery; it still counts against the station's rate
        # and records the station as seen. Anything else (the M3U8 by ?format= or Accept, whose ETag
        # differs, and a throttled poll) takes the normal path.
        inm = request.headers.get("If-None-Match")
        auth = request.headers.get("Authorization", "")
        if (inm and request.method in {"GET", "HEAD"} and auth[:7].lower() == "bearer "
                and request.GET.get("format", "json") == "json"
                and "mpegurl" not in request.headers.get("Accept", "").lower()):
            raw_date = request.GET.get("date")
            try:
                date = dt.date.fromisoformat(raw_date) if raw_date else selectors.local_today()
            except ValueError:
                date = None
            first, last = selectors.published_range()
            if date is not None and first <= date <= last:
                check = selectors.etag_for_token(hash_token(auth[7:].strip()), date)
                etag = _opaque(check.etag) if check is not None else ""
                if (check is not None and _etag_matches(inm, etag)
                        and StationThrottle().allow_poll(check.station_id)):
                    health.touch_last_seen(check.station_id, check.last_seen_at)
                    response = _not_modified(etag)
                    response["Vary"] = "Accept"  # as DRF sends on this view's other answers (two renderers)
                    return response
        return super().dispatch(request, *args, **kwargs)

    @extend_schema(
        parameters=[
            OpenApiParameter("date", OpenApiTypes.DATE, description="YYYY-MM-DD, mặc định hôm nay"),
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "m3u8"]),
        ],
        responses={200: inline_serializer("StationPlaylist", {
            "station": serializers.CharField(), "date": serializers.DateField(),
            "version": serializers.IntegerField(), "generated_at": serializers.DateTimeField(allow_null=True),
            "items": serializers.ListField(child=serializers.DictField()),
        }), 304: None},
    )
    def get(self, request: Request) -> Response | HttpResponse:
        if request.accepted_renderer.format == "m3u8":
            return m3u8_response(request)
        station = request.user.station
        date = _requested_date(request)
        etag = _opaque(selectors.playlist_etag(station, date))
        headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
        if _etag_matches(request.headers.get("If-None-Match"), etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        playlist = selectors.station_playlist(station.pk, date)
        return Response(playlist_document(playlist, station, date, _base_url(request)), headers=headers)


def m3u8_response(request: Request) -> HttpResponse:
    """The network M3U8 of the requested date, its audio URLs signed for the request's credential.
    M3U8 whatever the client accepts (a player may send `Accept: application/json` or nothing useful);
    errors, raised, are still JSON."""
    station, cred = request.user.station, request.auth.pk
    date = _requested_date(request)
    base = _base_url(request)
    # Its absolute, signed URLs depend on the credential, their lifetime, the base URL and the signing
    # key (a fingerprint of it, never the key), so the M3U8 has its own validator.
    variant = hashlib.sha256(f"{base}|{signing_key_fingerprint()}".encode()).hexdigest()[:8]
    etag = (f'{_opaque(selectors.playlist_etag(station, date))[:-1]}'
            f'-m3u8-c{cred}-d{settings.STATION_AUDIO_URL_DAYS}-{variant}"')
    if _etag_matches(request.headers.get("If-None-Match"), etag):
        return _not_modified(etag)
    document = playlist_document(selectors.station_playlist(station.pk, date), station, date, base)

    def signed(sha: str) -> str:
        return f"{base}{_audio_path(sha)}?{signed_audio_query(cred, date, sha)}"

    response = HttpResponse(playlist_hls(document, signed), content_type="audio/x-mpegurl; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


class StationPlaylistFeed(StationAPIView):
    """The M3U8 for plain players, opened with the signed URL from `station/player-url/` (no headers)."""

    authentication_classes = [SignedPlaylistAuthentication, StationTokenAuthentication]
    renderer_classes = [M3U8Renderer, JSONRenderer]

    @extend_schema(
        parameters=[OpenApiParameter("date", OpenApiTypes.DATE, description="YYYY-MM-DD, mặc định hôm nay")],
        responses={(200, "audio/x-mpegurl"): OpenApiTypes.STR, 304: None},
    )
    def get(self, request: Request) -> HttpResponse:
        return m3u8_response(request)


class StationPlayerURL(StationAPIView):
    """The signed M3U8 URL to give a plain player (VLC, mpv, ffplay); a new token revokes it."""

    authentication_classes = [StationTokenAuthentication]

    @extend_schema(
        parameters=[OpenApiParameter("date", OpenApiTypes.DATE, description="YYYY-MM-DD, mặc định: hôm nay")],
        responses={200: inline_serializer("StationPlayerURL", {"m3u8_url": serializers.URLField()})},
    )
    def get(self, request: Request) -> Response:
        url = f"{_base_url(request)}{reverse('station-playlist-feed')}?{signed_playlist_query(request.auth.pk)}"
        if "date" in request.query_params:
            url += f"&date={_requested_date(request).isoformat()}"
        return Response({"m3u8_url": url})


class StationBundle(StationAPIView):
    """The day in one ZIP: playlist.json, playlist.m3u8 (relative paths) and audio/<sha256>.mp3.

    Built once per playlist version and cached; resumable with `Range` (and `If-Range: <ETag>`)."""

    content_negotiation_class = AnyAcceptNegotiation

    @extend_schema(
        parameters=[OpenApiParameter("date", OpenApiTypes.DATE, description="YYYY-MM-DD, mặc định hôm nay")],
        responses={(200, "application/zip"): OpenApiTypes.BINARY, 206: OpenApiTypes.BINARY, 304: None,
                   416: None, 503: OpenApiResponse(
                       inline_serializer("AudioNotReady", {"detail": serializers.CharField()}),
                       description="Âm thanh chưa sẵn sàng: thử lại sau số giây trong Retry-After.")},
    )
    def get(self, request: Request) -> HttpResponse:
        station = request.user.station
        date = _requested_date(request)
        base = _base_url(request)
        version, etag = bundle_validator(station, date, base)
        if _etag_matches(request.headers.get("If-None-Match"), etag):
            return _not_modified(etag)
        path = bundle_file(station, date, base, version, etag)
        if path is None:
            response = Response({"detail": "Âm thanh chưa sẵn sàng, thử lại sau."},
                                status=status.HTTP_503_SERVICE_UNAVAILABLE)
            response["Retry-After"] = "60"
            return response
        return serve_file(request, path, content_type="application/zip", etag=etag.strip('"'),
                          filename=f"{station.code}-{date.isoformat()}.zip", cache_control="private, no-cache")


def bundle_validator(station: Any, date: dt.date, base: str) -> tuple[int, str]:
    """(playlist version, ETag) of the day bundle: playlist.json carries absolute audio URLs, so the bytes
    (and the ETag) depend on the base URL too."""
    version, core = selectors.playlist_validator(station, date)
    return version, f'{_opaque(core)[:-1]}-zip-{hashlib.sha256(base.encode()).hexdigest()[:8]}"'


def bundle_file(station: Any, date: dt.date, base: str, version: int, etag: str) -> Path | None:
    """The cached day bundle of `station` (built on first demand), or None while some audio is not ready.
    Shared by the device's download and the station operator's page."""
    path = downloads.bundle_path(station.pk, date, version, etag)
    if path.is_file():
        return path
    playlist = selectors.station_playlist(station.pk, date)
    document = playlist_document(playlist, station, date, base)
    media_root = Path(settings.MEDIA_ROOT)
    files: dict[str, Path] = {}
    for item in playlist.placed_items if playlist else []:
        source = media_root / item.rendition.file
        if not source.is_file():
            return None
        files[item.sha256] = source
    m3u = playlist_m3u(document, lambda sha: f"audio/{sha}.mp3")
    downloads.write_bundle(path, document, m3u, files.items(), date)
    return path


class StationAudio(StationAPIView):
    """An MP3 by sha256, only if it is in this station's playlists (404 otherwise). Range → 206.

    The plain URL (Bearer token): the exact file, its sha256 checks. The signed URL from the M3U8 (with
    or without a Bearer header): the player copy of a file in the signed date's playlist."""

    authentication_classes = [SignedAudioAuthentication, StationTokenAuthentication]
    content_negotiation_class = AnyAcceptNegotiation

    @extend_schema(responses={(200, "audio/mpeg"): OpenApiTypes.BINARY, 206: OpenApiTypes.BINARY, 304: None,
                              404: None, 416: None})
    def get(self, request: Request, sha256: str) -> HttpResponse:
        signed_date = getattr(request, "auth_date", None)
        # The URL pattern takes any case so an upper-case name gets this 404, not a routing one.
        rendition = (selectors.station_has_audio(request.user.station.pk, sha256, signed_date)
                     if sha256 == sha256.lower() else None)
        path = Path(settings.MEDIA_ROOT) / rendition.file if rendition else None
        if path is None or not path.is_file():
            raise exceptions.NotFound("Không tìm thấy tệp âm thanh.")
        if signed_date is not None:
            return serve_file(request, downloads.player_copy(sha256, path), etag=f"{sha256}-frames",
                              filename=f"{sha256}.mp3")
        return serve_file(request, path, etag=sha256, filename=f"{sha256}.mp3")


urlpatterns = [
    re_path(r"^station/playlist/$", StationPlaylist.as_view(), name="station-playlist"),
    re_path(r"^station/playlist\.m3u8$", StationPlaylistFeed.as_view(), name="station-playlist-feed"),
    re_path(r"^station/player-url/$", StationPlayerURL.as_view(), name="station-player-url"),
    re_path(r"^station/bundle/$", StationBundle.as_view(), name="station-bundle"),
    re_path(r"^station/audio/(?P<sha256>[0-9a-fA-F]{64})\.mp3$", StationAudio.as_view(), name="station-audio"),
]
