from .access import StaffToken
from .audio import AudioRendition, PronunciationEntry
from .bulletins import Bulletin, BulletinRevision, BulletinTransition
from .notifications import Notification
from .playlists import Playlist, PlaylistItem
from .push import EmergencyDelivery, PushAttempt
from .reports import PlaybackReport, StationInactivity
from .schedules import Schedule

__all__ = [
    "AudioRendition",
    "Bulletin",
    "BulletinRevision",
    "BulletinTransition",
    "EmergencyDelivery",
    "Notification",
    "PlaybackReport",
    "Playlist",
    "PlaylistItem",
    "PronunciationEntry",
    "PushAttempt",
    "Schedule",
    "StaffToken",
    "StationInactivity",
]
