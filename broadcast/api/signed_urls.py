"""Signed URLs for plain players (VLC, mpv, ffplay), which cannot send an Authorization header.

- The playlist feed `station/playlist.m3u8?c=<credential id>&s=<hmac>`: read-only, today's M3U8 (or
  `date=`), valid as long as the station's token; issuing a new token revokes it.
- Audio in that M3U8 `station/audio/<sha256>.mp3?c=<credential id>&d=<date>&e=<unix>&s=<hmac>`: the
  signature binds the credential, the playlist date, the file and the expiry (STATION_AUDIO_URL_DAYS
  after the date), and the view serves it only if the file is in that station's playlist of that date.

Anything malformed (non-ASCII, non-numeric, a date that is not one, a signature that is not 32 hex
digits) is a 401 like a wrong signature, never a 500.
"""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Any
from urllib.parse import urlencode

from django.utils.crypto import salted_hmac
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from stations import health
from stations.auth import StationPrincipal
from stations.models import StationCredential

from ..signed_links import (
    NUMBER_RE,
    SIGNATURE_RE,
    BadSignature,
    Expired,
    audio_expiry,
    check_dated,
    dated_signature,
    signature,
)

# The devices' own key: an operator's link (station_desk_links) does not open a device's URL, nor back.
_SALT = "loa.station-signed-url"
PLAYLIST_FEED = "m3u8"

MSG_BAD = "Chữ ký địa chỉ không hợp lệ."
MSG_EXPIRED = "Địa chỉ âm thanh đã hết hạn; hãy tải lại danh sách phát."
MSG_REVOKED = "Khóa truy cập đã bị thu hồi."


def signing_key_fingerprint() -> str:
    """Changes when the signing key (SECRET_KEY) does, so validators of signed content can follow it."""
    return salted_hmac(_SALT + ".fingerprint", "key", algorithm="sha256").hexdigest()[:16]


def signed_audio_query(credential_id: int, date: dt.date, sha256: str, expires: int | None = None) -> str:
    expires = audio_expiry(date) if expires is None else expires
    return urlencode({"c": credential_id, "d": date.isoformat(), "e": expires,
                      "s": dated_signature(_SALT, "audio", credential_id, date, sha256, expires)})


def signed_playlist_query(credential_id: int) -> str:
    return urlencode({"c": credential_id, "s": signature(_SALT, PLAYLIST_FEED, credential_id, "", 0)})


def _number(raw: str | None) -> int | None:
    return int(raw) if raw is not None and NUMBER_RE.fullmatch(raw) else None


def _live_credential(credential_id: int) -> StationCredential:
    credential = (
        StationCredential.objects.select_related("station")
        .filter(pk=credential_id, revoked_at__isnull=True, station__active=True).first()
    )
    if credential is None:
        raise exceptions.AuthenticationFailed(MSG_REVOKED)
    health.touch_last_seen(credential.station.pk, credential.station.last_seen_at)
    return credential


class _SignedURLAuthentication(authentication.BaseAuthentication):
    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="station"'

    @staticmethod
    def _params(request: Any, *names: str) -> dict[str, str] | None:
        """The query parameters, None when the URL carries no signature at all (then not this scheme)."""
        query = request.query_params
        if "s" not in query and "c" not in query:
            return None
        return {name: query.get(name, "") for name in names}


class SignedAudioAuthentication(_SignedURLAuthentication):
    """`?c=&d=&e=&s=` on an audio URL (from the station's M3U8). The view reads the signed date from
    `request.auth_date` and checks the file is in that playlist."""

    def authenticate(self, request: Any) -> tuple[StationPrincipal, StationCredential] | None:
        params = self._params(request, "c", "d", "e", "s")
        if params is None:
            return None
        sha256 = (request.parser_context or {}).get("kwargs", {}).get("sha256", "")
        try:
            cred, date = check_dated(_SALT, "audio", params["c"], params["d"], params["e"], params["s"], sha256)
        except BadSignature:
            raise exceptions.AuthenticationFailed(MSG_BAD) from None
        except Expired:
            raise exceptions.AuthenticationFailed(MSG_EXPIRED) from None
        credential = _live_credential(cred)
        request.auth_date = date
        return StationPrincipal(credential.station, credential), credential


class SignedPlaylistAuthentication(_SignedURLAuthentication):
    """`?c=&s=` on the M3U8 feed URL (from `station/player-url/`)."""

    def authenticate(self, request: Any) -> tuple[StationPrincipal, StationCredential] | None:
        params = self._params(request, "c", "s")
        if params is None:
            return None
        cred, sig = _number(params["c"]), params["s"]
        if cred is None or not SIGNATURE_RE.fullmatch(sig):
            raise exceptions.AuthenticationFailed(MSG_BAD)
        if not hmac.compare_digest(signature(_SALT, PLAYLIST_FEED, cred, "", 0), sig):
            raise exceptions.AuthenticationFailed(MSG_BAD)
        credential = _live_credential(cred)
        return StationPrincipal(credential.station, credential), credential


class SignedAudioScheme(OpenApiAuthenticationExtension):
    target_class = "broadcast.api.signed_urls.SignedAudioAuthentication"
    name = "signedAudioUrl"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "apiKey", "in": "query", "name": "s",
                "description": "Địa chỉ âm thanh đã ký trong M3U8 (?c=<mã khóa>&d=<ngày>&e=<hạn>&s=<chữ ký>)."}


class SignedPlaylistScheme(OpenApiAuthenticationExtension):
    target_class = "broadcast.api.signed_urls.SignedPlaylistAuthentication"
    name = "signedPlaylistUrl"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "apiKey", "in": "query", "name": "s",
                "description": "Địa chỉ M3U8 đã ký cho trình phát thông thường (?c=<mã khóa>&s=<chữ ký>)."}
