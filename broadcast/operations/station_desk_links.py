"""Signed links of the station operator's page, for what opens outside the signed-in browser: the day's
M3U8 in a plain player (VLC, mpv), whose audio URLs are signed too, and the page's own audio players.

A link binds the person (user id), the playlist date, what it opens (the M3U8, or one file by sha256)
and an expiry: STATION_AUDIO_URL_DAYS after the date, as the devices' signed audio (api/signed_urls.py).
It stops working as soon as the person is no longer an active station operator; it opens only what
is in the playlist of that date of the station they run now. A device's links (bound to its token)
are another scheme with another key: neither opens the other's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from ..signed_links import BadSignature, Expired, audio_expiry, check_dated, dated_signature

# The operators' own key, not the devices' (api/signed_urls.py): neither scheme's links open the other's.
_SALT = "loa.station-operator-link"
PLAYLIST = "m3u8"

MSG_BAD = "Địa chỉ không hợp lệ: hãy mở lại từ trang «Đài của tôi»."
MSG_EXPIRED = "Địa chỉ đã hết hạn: hãy mở lại từ trang «Đài của tôi»."


class BadLink(ValueError):
    """The link is not one this server signed, or is past its expiry (message in Vietnamese)."""


def signed_query(kind: str, user_id: int, date: dt.date, subject: str = "") -> str:
    """`u=&d=&e=&s=` for `kind` (PLAYLIST, or "audio" with the sha256 as subject)."""
    expires = audio_expiry(date)
    return urlencode({"u": user_id, "d": date.isoformat(), "e": expires,
                      "s": dated_signature(_SALT, kind, user_id, date, subject, expires)})


def check(kind: str, query: Any, subject: str = "") -> tuple[int, dt.date]:
    """(user id, date) of a valid, unexpired link; raises BadLink. Anything malformed is a BadLink."""
    try:
        return check_dated(_SALT, kind, *(query.get(name, "") for name in ("u", "d", "e", "s")), subject)
    except BadSignature:
        raise BadLink(MSG_BAD) from None
    except Expired:
        raise BadLink(MSG_EXPIRED) from None
