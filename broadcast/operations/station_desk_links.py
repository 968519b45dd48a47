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
import hmac
import re
from typing import Any
from urllib.parse import urlencode

from django.utils import timezone
from django.utils.crypto import salted_hmac

from ..api.signed_urls import audio_expiry

_SALT = "loa.station-operator-link"
_SIG_RE = re.compile(r"[0-9a-f]{32}")
_NUMBER_RE = re.compile(r"[0-9]{1,12}")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
PLAYLIST = "m3u8"

MSG_BAD = "Địa chỉ không hợp lệ: hãy mở lại từ trang «Đài của tôi»."
MSG_EXPIRED = "Địa chỉ đã hết hạn: hãy mở lại từ trang «Đài của tôi»."


class BadLink(ValueError):
    """The link is not one this server signed, or is past its expiry (message in Vietnamese)."""


def _signature(kind: str, user_id: int, day: str, subject: str, expires: int) -> str:
    return salted_hmac(_SALT, f"{kind}:{user_id}:{day}:{subject}:{expires}", algorithm="sha256").hexdigest()[:32]


def signed_query(kind: str, user_id: int, date: dt.date, subject: str = "") -> str:
    """`u=&d=&e=&s=` for `kind` (PLAYLIST, or "audio" with the sha256 as subject)."""
    expires = audio_expiry(date)
    day = date.isoformat()
    return urlencode({"u": user_id, "d": day, "e": expires, "s": _signature(kind, user_id, day, subject, expires)})


def check(kind: str, query: Any, subject: str = "") -> tuple[int, dt.date]:
    """(user id, date) of a valid, unexpired link; raises BadLink. Anything malformed is a BadLink."""
    user, day, expires, sig = (query.get(name, "") for name in ("u", "d", "e", "s"))
    if not (_NUMBER_RE.fullmatch(user) and _NUMBER_RE.fullmatch(expires) and _DATE_RE.fullmatch(day)
            and _SIG_RE.fullmatch(sig)):
        raise BadLink(MSG_BAD)
    if not hmac.compare_digest(_signature(kind, int(user), day, subject, int(expires)), sig):
        raise BadLink(MSG_BAD)
    try:
        date = dt.date.fromisoformat(day)
    except ValueError:
        raise BadLink(MSG_BAD) from None
    if timezone.now().timestamp() >= int(expires):
        raise BadLink(MSG_EXPIRED)
    return int(user), date
