"""The signing shared by the server's signed links (the devices' M3U8 and audio, the station operator's
page): an HMAC-SHA256 keyed by SECRET_KEY and a salt, over `kind:owner:…` parts, cut to 32 hex digits.

Each scheme passes its own salt, so a link signed for one never opens another. Anything malformed
(non-ASCII, non-numeric, a date that is not one, a signature that is not 32 hex digits) is a
BadSignature like a wrong signature, never a crash.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import salted_hmac

from .selectors.playlists import LOCAL_TZ

SIGNATURE_RE = re.compile(r"[0-9a-f]{32}")
NUMBER_RE = re.compile(r"[0-9]{1,12}")
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class BadSignature(ValueError):
    """Malformed, or not signed with this salt over these parts."""


class Expired(ValueError):
    """Signed, but past its expiry."""


def signature(salt: str, *parts: object) -> str:
    return salted_hmac(salt, ":".join(str(part) for part in parts), algorithm="sha256").hexdigest()[:32]


def audio_expiry(date: dt.date) -> int:
    """Unix time at which audio URLs of `date`'s playlist stop working: local midnight after the date,
    plus STATION_AUDIO_URL_DAYS days."""
    end = dt.datetime.combine(date + dt.timedelta(days=1 + settings.STATION_AUDIO_URL_DAYS), dt.time(),
                              tzinfo=LOCAL_TZ)
    return int(end.timestamp())


def dated_signature(salt: str, kind: str, owner: int, date: dt.date, subject: str, expires: int) -> str:
    """The signature of a link to `kind` (and `subject`) of one playlist date, for `owner`, until `expires`."""
    return signature(salt, kind, owner, date.isoformat(), subject, expires)


def check_dated(salt: str, kind: str, owner: str, day: str, expires: str, sig: str,
                subject: str = "") -> tuple[int, dt.date]:
    """(owner, date) of a dated link from its raw query values; raises BadSignature, or Expired."""
    if not (NUMBER_RE.fullmatch(owner) and NUMBER_RE.fullmatch(expires) and DATE_RE.fullmatch(day)
            and SIGNATURE_RE.fullmatch(sig)):
        raise BadSignature
    if not hmac.compare_digest(signature(salt, kind, int(owner), day, subject, int(expires)), sig):
        raise BadSignature
    try:
        date = dt.date.fromisoformat(day)
    except ValueError:
        raise BadSignature from None
    if timezone.now().timestamp() >= int(expires):
        raise Expired
    return int(owner), date
