"""Station-facing download protocol (API.md, "Station-facing"): playlist JSON/M3U8, day bundle, audio.

Authentication: `Authorization: Bearer <station token>`. Audio URLs inside an M3U8 additionally carry a
signature (`?c=<credential id>&sig=<hmac>`) so a plain player (VLC, mpv, ffplay) can play the list
as-is without sending headers; the signature is bound to the station's current credential and to the
file's sha256, so issuing a new token revokes old signed URLs, and it opens only that station's audio.

Dates outside the published range (PLAYLIST_DAYS_BACK days ago … PLAYLIST_DAYS_AHEAD days ahead)
answer 400; a date inside it that has no playlist (yet) answers an empty playlist with version 0.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import math
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpResponse, HttpResponseNotModified
from django.urls import re_path, reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import authentication, exceptions, serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from stations.api import StationAPIView
from stations.auth import StationPrincipal, StationTokenAuthentication
from stations.models import StationCredential
from stations.selectors import hash_token

from ..http import serve_file
from ..models import Playlist
from ..selectors import playlists as selectors
from .common import query_date

_SIG_SALT = "loa.station-audio"


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


def audio_signature(credential_id: int, sha256: str) -> str:
    return salted_hmac(_SIG_SALT, f"{credential_id}:{sha256}", algorithm="sha256").hexdigest()[:32]


class SignedAudioAuthentication(authentication.BaseAuthentication):
    """`?c=<credential id>&sig=<hmac>` on an audio URL (from the station's M3U8)."""

    def authenticate(self, request: Any) -> tuple[StationPrincipal, StationCredential] | None:
        cred, sig = request.query_params.get("c"), request.query_params.get("sig")
        sha256 = (request.parser_context or {}).get("kwargs", {}).get("sha256")
        if not cred or not sig or not sha256:
            return None
        if not cred.isdigit() or not hmac.compare_digest(audio_signature(int(cred), sha256), sig):
            raise exceptions.AuthenticationFailed("Chữ ký địa chỉ âm thanh không hợp lệ.")
        credential = (
            StationCredential.objects.select_related("station")
            .filter(pk=int(cred), revoked_at__isnull=True, station__active=True).first()
        )
        if credential is None:
            raise exceptions.AuthenticationFailed("Khóa truy cập đã bị thu hồi.")
        return StationPrincipal(credential.station, credential), credential

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="station"'


class SignedAudioScheme(OpenApiAuthenticationExtension):
    target_class = "broadcast.api.station.SignedAudioAuthentication"
    name = "signedAudioUrl"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "apiKey", "in": "query", "name": "sig",
                "description": "Địa chỉ âm thanh đã ký trong M3U8 (?c=<mã khóa>&sig=<chữ ký>)."}


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


def playlist_m3u8(document: dict[str, Any], url_for: Any) -> str:
    """Extended M3U. The #EXT-X- tags (a finished VOD list) let ffmpeg-based players (ffplay, mpv) open
    it over HTTP; VLC and plain M3U players read #EXTINF and the URLs and ignore the rest."""
    items = document["items"]
    longest = max((math.ceil(i["audio"]["duration_ms"] / 1000) for i in items), default=1)
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{max(1, longest)}",
             "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD",
             f"#PLAYLIST:{document['station']} {document['date']} v{document['version']}"]
    for item in items:
        seconds = max(1, round(item["audio"]["duration_ms"] / 1000))
        title = " ".join(str(item["bulletin"]["title"]).split())
        lines.append(f"#EXTINF:{seconds},{title}")
        lines.append(url_for(item["audio"]["sha256"]))
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- views


class StationPlaylist(StationAPIView):
    """Today's (or `date`'s) playlist. Send `If-None-Match` with the last ETag: 304 when unchanged."""

    renderer_classes = [JSONRenderer, M3U8Renderer]

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        # Fast path for the hot polling case (JSON, If-None-Match): one query checks the token and
        # reads the ETag together, skipping DRF's machinery. Anything else takes the normal path.
        inm = request.headers.get("If-None-Match")
        auth = request.headers.get("Authorization", "")
        if inm and auth[:7].lower() == "bearer " and request.GET.get("format", "json") == "json":
            raw_date = request.GET.get("date")
            try:
                date = dt.date.fromisoformat(raw_date) if raw_date else selectors.local_today()
            except ValueError:
                date = None
            first, last = selectors.published_range()
            if date is not None and first <= date <= last:
                etag = selectors.etag_for_token(hash_token(auth[7:].strip()), date)
                if etag is not None and _etag_matches(inm, etag):
                    response = HttpResponseNotModified()
                    response["ETag"] = etag
                    response["Cache-Control"] = "private, no-cache"
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
    def get(self, request: Request) -> Response:
        station = request.user.station
        date = _requested_date(request)
        m3u8 = request.accepted_renderer.format == "m3u8"
        etag = selectors.playlist_etag(station, date)
        if m3u8:  # signed URLs depend on the credential, so the M3U8 has its own validator
            etag = f'{etag[:-1]}-m3u8-c{request.auth.pk}"'
        headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
        if _etag_matches(request.headers.get("If-None-Match"), etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        playlist = selectors.station_playlist(station.pk, date)
        base = _base_url(request)
        document = playlist_document(playlist, station, date, base)
        if m3u8:
            cred = request.auth.pk

            def signed(sha: str) -> str:
                return f"{base}{_audio_path(sha)}?c={cred}&sig={audio_signature(cred, sha)}"

            return Response(playlist_m3u8(document, signed), headers=headers, content_type="audio/x-mpegurl")
        return Response(document, headers=headers)


class StationBundle(StationAPIView):
    """The day in one ZIP: playlist.json, playlist.m3u8 (relative paths) and audio/<sha256>.mp3."""

    content_negotiation_class = AnyAcceptNegotiation

    @extend_schema(
        parameters=[OpenApiParameter("date", OpenApiTypes.DATE, description="YYYY-MM-DD, mặc định hôm nay")],
        responses={(200, "application/zip"): OpenApiTypes.BINARY, 304: None},
    )
    def get(self, request: Request) -> HttpResponse:
        station = request.user.station
        date = _requested_date(request)
        core = selectors.playlist_etag(station, date)
        etag = f'{core[:-1]}-zip"'
        if _etag_matches(request.headers.get("If-None-Match"), etag):
            response = HttpResponse(status=304)
            response["ETag"] = etag
            return response
        playlist = selectors.station_playlist(station.pk, date)
        document = playlist_document(playlist, station, date, _base_url(request))
        media_root = Path(settings.MEDIA_ROOT)
        files: dict[str, Path] = {}
        for item in playlist.placed_items if playlist else []:
            path = media_root / item.rendition.file
            if not path.is_file():
                response = Response({"detail": "Âm thanh chưa sẵn sàng, thử lại sau."},
                                    status=status.HTTP_503_SERVICE_UNAVAILABLE)
                response["Retry-After"] = "60"
                return response
            files[item.sha256] = path
        spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 - FileResponse closes it
        with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_STORED) as zf:
            zf.writestr("playlist.json", json.dumps(document, ensure_ascii=False, indent=1))
            zf.writestr("playlist.m3u8", playlist_m3u8(document, lambda sha: f"audio/{sha}.mp3"))
            for sha, path in files.items():
                with path.open("rb") as src, zf.open(f"audio/{sha}.mp3", "w") as dst:
                    shutil.copyfileobj(src, dst, 256 * 1024)
        size = spool.tell()
        spool.seek(0)
        response = FileResponse(spool, content_type="application/zip", as_attachment=True,
                                filename=f"{station.code}-{date.isoformat()}.zip")
        response["Content-Length"] = str(size)
        response["ETag"] = etag
        response["Cache-Control"] = "private, no-cache"
        return response


class StationAudio(StationAPIView):
    """An MP3 by sha256, only if it is in this station's playlists (404 otherwise). Range → 206."""

    authentication_classes = [StationTokenAuthentication, SignedAudioAuthentication]
    content_negotiation_class = AnyAcceptNegotiation

    @extend_schema(responses={(200, "audio/mpeg"): OpenApiTypes.BINARY, 206: OpenApiTypes.BINARY, 404: None})
    def get(self, request: Request, sha256: str) -> HttpResponse:
        rendition = selectors.station_has_audio(request.user.station.pk, sha256)
        path = Path(settings.MEDIA_ROOT) / rendition.file if rendition else None
        if path is None or not path.is_file():
            raise exceptions.NotFound("Không tìm thấy tệp âm thanh.")
        return serve_file(request, path, etag=sha256, filename=f"{sha256}.mp3")


urlpatterns = [
    re_path(r"^station/playlist/$", StationPlaylist.as_view(), name="station-playlist"),
    re_path(r"^station/bundle/$", StationBundle.as_view(), name="station-bundle"),
    re_path(r"^station/audio/(?P<sha256>[0-9a-f]{64})\.mp3$", StationAudio.as_view(), name="station-audio"),
]
