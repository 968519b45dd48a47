"""Ringing stations whose playlist of today or tomorrow a rebuild changed (push: kind "playlist"), so a
change reaches them in seconds instead of at their next poll. Later days are left to the poll: the
nightly build of a new day would otherwise ring every station of the city at once, and each would fetch.

An emergency is rung by its own command (services/push), which also carries its audio; its rebuild goes
through push_emergency, never through here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.conf import settings
from django.utils import timezone

from ...push import messages
from ...push.publisher import Publication, publish_configured
from ...selectors.playlists import LOCAL_TZ

RING_DAYS = 2  # today and tomorrow


def ring_playlist_changes(changes: Sequence[tuple[int, str, dt.date, int]], *,
                          now: dt.datetime | None = None) -> int:
    """Publishes one "playlist" command per changed playlist of the next RING_DAYS days; returns how many
    the broker took (0 with push off or the broker down: stations poll, nothing is lost)."""
    if not settings.MQTT_URL or not changes:
        return 0
    now = now or timezone.now()
    today = timezone.localdate(now, LOCAL_TZ)
    last = today + dt.timedelta(days=RING_DAYS - 1)
    expires_at = now + dt.timedelta(seconds=settings.PUSH_COMMAND_TTL_S)
    ttl = settings.PUSH_COMMAND_TTL_S
    publications = [
        Publication(messages.station_topic(settings.MQTT_TOPIC_PREFIX, code, "cmd"),
                    messages.encode(messages.playlist_command(code, date=date, version=version, issued_at=now,
                                                              expires_at=expires_at, tz=LOCAL_TZ)),
                    expiry_s=ttl)
        for _, code, date, version in changes if today <= date <= last
    ]
    done, _ = publish_configured(publications)
    return sum(done)
