"""Bulletins, their workflow actions, audio preview and the pronunciation lexicon (thin views).

One module per concern: ``serializers``, ``workflow`` (list, detail, actions, history), ``audio`` (audio,
recording, speakable reading, rendition file) and ``lexicon``; the URLs are here so that
``include("broadcast.api.bulletins")`` finds them.
"""

from __future__ import annotations

from django.urls import path

from .audio import BulletinAudio, BulletinAudioRetry, BulletinRecording, BulletinSpeakable, RenditionFile
from .lexicon import PronunciationDetail, PronunciationList
from .workflow import (
    BulletinApprove,
    BulletinArchive,
    BulletinDetail,
    BulletinHistory,
    BulletinListCreate,
    BulletinReject,
    BulletinSubmit,
    BulletinWithdraw,
)

urlpatterns = [
    path("bulletins/", BulletinListCreate.as_view(), name="bulletin-list"),
    path("bulletins/<int:pk>/", BulletinDetail.as_view(), name="bulletin-detail"),
    path("bulletins/<int:pk>/submit/", BulletinSubmit.as_view(), name="bulletin-submit"),
    path("bulletins/<int:pk>/approve/", BulletinApprove.as_view(), name="bulletin-approve"),
    path("bulletins/<int:pk>/reject/", BulletinReject.as_view(), name="bulletin-reject"),
    path("bulletins/<int:pk>/withdraw/", BulletinWithdraw.as_view(), name="bulletin-withdraw"),
    path("bulletins/<int:pk>/archive/", BulletinArchive.as_view(), name="bulletin-archive"),
    path("bulletins/<int:pk>/history/", BulletinHistory.as_view(), name="bulletin-history"),
    path("bulletins/<int:pk>/speakable/", BulletinSpeakable.as_view(), name="bulletin-speakable"),
    path("bulletins/<int:pk>/audio/", BulletinAudio.as_view(), name="bulletin-audio"),
    path("bulletins/<int:pk>/audio/retry/", BulletinAudioRetry.as_view(), name="bulletin-audio-retry"),
    path("bulletins/<int:pk>/recording/", BulletinRecording.as_view(), name="bulletin-recording"),
    path("renditions/<int:pk>/file.mp3", RenditionFile.as_view(), name="rendition-file"),
    path("pronunciations/", PronunciationList.as_view(), name="pronunciation-list"),
    path("pronunciations/<int:pk>/", PronunciationDetail.as_view(), name="pronunciation-detail"),
]
