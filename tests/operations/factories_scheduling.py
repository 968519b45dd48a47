"""What the scheduling and week-view tests build alike: stations' one-minute slots, tomorrow, and an
approved bulletin whose audio lasts a chosen time."""

from __future__ import annotations

import datetime as dt

from broadcast.models import AudioRendition, Bulletin
from broadcast.selectors.playlists import local_today
from tests.factories import approved_bulletin

SHORT_SLOTS = [{"name": "morning", "start": "06:00", "end": "06:01"},
               {"name": "evening", "start": "17:00", "end": "17:01"}]


def tomorrow() -> dt.date:
    return local_today() + dt.timedelta(days=1)


def bulletin_of(ms: int, title: str = "Bản tin", priority: str = "normal") -> Bulletin:
    """An approved bulletin whose audio lasts `ms` milliseconds."""
    bulletin = approved_bulletin(title=title, seconds=1.0, priority=priority)
    AudioRendition.objects.filter(pk=bulletin.live_revision.rendition_id).update(duration_ms=ms)
    return Bulletin.objects.select_related("live_revision__rendition").get(pk=bulletin.pk)
