"""A bulletin's audio: its status and preview file, a retry, a recorded voice, the speakable reading."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from broadcast.audio.errors import SpeakableTextError
from broadcast.http import serve_file
from broadcast.models import AudioRendition, Bulletin
from broadcast.selectors import bulletins as selectors
from broadcast.services import bulletins as services
from broadcast.services import rendering
from stations import roles
from stations.auth import HasRole

from .base import BulletinObjectMixin, BulletinReaders, Editors, Readers, _Action
from .lexicon import LEXICON_ORDER
from .serializers import AudioSerializer, BulletinSerializer, RecordingSerializer, SpeakableSerializer


@extend_schema(request=None, responses=BulletinSerializer)
class BulletinAudioRetry(_Action):
    """Render the audio again: failed, or stuck in rendering (its worker died, or it is well past its expected time)."""

    permission_classes = [HasRole.of(roles.EDITOR, roles.APPROVER)]

    def act(self, bulletin: Bulletin, user: Any, data: dict[str, Any]) -> Bulletin:
        return services.retry_audio(bulletin, user)


class BulletinRecording(_Action):
    """A recorded voice instead of speech synthesis (multipart `file`)."""

    permission_classes = [Editors]
    parser_classes = [MultiPartParser, FormParser]
    input_serializer = RecordingSerializer

    @extend_schema(request={"multipart/form-data": RecordingSerializer}, responses=BulletinSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def act(self, bulletin: Bulletin, user: Any, data: dict[str, Any]) -> Bulletin:
        upload = data["file"]
        return services.attach_recording(bulletin, user, upload, size=upload.size)


def _speakable(revision: Any) -> dict[str, Any]:
    """The reading of a revision with the current lexicon, spans and warnings (raises SpeakableTextError)."""
    text = rendering.speakable_for(revision.title, revision.body)  # the same checks as submitting
    data = selectors.speakable_spans(revision.title, revision.body)
    return {"text": text, "source": data["source"], "spans": data["spans"], "warnings": data["warnings"]}


class BulletinSpeakable(BulletinObjectMixin, APIView):
    """What the speech engine reads (or read) for the newest revision."""

    permission_classes = [BulletinReaders]

    @extend_schema(
        responses=SpeakableSerializer,
        description=(
            "What the engine reads for the newest revision (`text`; once its audio exists, the text that "
            "audio was made from), and every token the reading rewrote (`spans`: written text, spoken form, "
            "rule or pronunciation entry, offsets in `source`) so an editor can check each number, code and "
            "abbreviation before submitting. `warnings` lists the guesses (an unknown abbreviation spelled, "
            "a fraction or date decided without context), in Vietnamese. " + LEXICON_ORDER
        ),
    )
    def get(self, request: Request, pk: int) -> Response:
        revision = self.get_bulletin().current_revision
        rendition = revision.rendition
        try:
            data = _speakable(revision)
        except SpeakableTextError as exc:
            return Response({"body": [str(exc)]}, status=400)
        if rendition is not None and rendition.source == AudioRendition.Source.TTS:
            if rendition.speakable_text != data["text"]:
                data["warnings"].insert(0, {
                    "code": "stale_audio", "start": None, "end": None, "source": "",
                    "message": "Âm thanh đã tạo được đọc theo cách đọc cũ (từ điển phát âm đã thay đổi); "
                               "các đoạn bên dưới là cách đọc hiện tại. Gửi duyệt lại để tạo âm thanh mới.",
                })
            data["text"] = rendition.speakable_text
        return Response(data)


def _file_url(request: Request, rendition: AudioRendition) -> str:
    return request.build_absolute_uri(reverse("rendition-file", args=[rendition.pk]))


class BulletinAudio(BulletinObjectMixin, APIView):
    """The audio of the newest revision: status, metrics and a URL to listen to it."""

    permission_classes = [BulletinReaders]

    @extend_schema(responses=AudioSerializer)
    def get(self, request: Request, pk: int) -> Response:
        bulletin = self.get_bulletin()
        rendition = selectors.current_rendition(bulletin)
        if rendition is None:
            empty = dict.fromkeys(AudioSerializer().fields, None)
            return Response({**empty, "status": AudioRendition.Status.PENDING,
                             "revision": bulletin.current_revision.number})
        ready = rendition.status == AudioRendition.Status.READY
        return Response({
            "status": rendition.status,
            "revision": bulletin.current_revision.number,
            "source": rendition.source,
            "engine": rendition.engine_used or rendition.engine,
            "voice": rendition.voice,
            "duration_ms": rendition.duration_ms,
            "sha256": rendition.sha256 or None,
            "size_bytes": rendition.size_bytes,
            "loudness_lufs": rendition.loudness_lufs,
            "url": _file_url(request, rendition) if ready else None,
            "error": rendition.error or None,
        })


class RenditionFile(APIView):
    """The MP3 for staff preview (approvers listen before approving): Range, ETag = sha256."""

    permission_classes = [Readers]

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # Players send Accept: audio/*; the file is not rendered by DRF, so never answer 406.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(responses={(200, "audio/mpeg"): OpenApiTypes.BINARY, (206, "audio/mpeg"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int) -> Any:
        rendition = get_object_or_404(AudioRendition, pk=pk, status=AudioRendition.Status.READY)
        file_path = Path(settings.MEDIA_ROOT) / rendition.file
        if not file_path.is_file():
            raise Http404
        return serve_file(request, file_path, etag=rendition.sha256, filename=f"{rendition.sha256[:16]}.mp3")
