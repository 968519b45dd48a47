from .access import StaffToken
from .audio import AudioRendition, PronunciationEntry
from .bulletins import Bulletin, BulletinRevision, BulletinTransition
from .notifications import Notification
from .playlists import Playlist, PlaylistItem
from .reports import PlaybackReport, StationInactivity
from .schedules import Schedule

__all__ = [
    "AudioRendition",
    "Bulletin",
    "BulletinRevision",
    "BulletinTransition",
    "Notification",
    "PlaybackReport",
    "Playlist",
    "PlaylistItem",
    "PronunciationEntry",
    "Schedule",
    "StaffToken",
    "StationInactivity",
]
