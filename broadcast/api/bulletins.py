"""Bulletins, their workflow actions, audio preview and the pronunciation lexicon (thin views)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import django_filters
from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from broadcast.audio.errors import SpeakableTextError
from broadcast.http import serve_file
from broadcast.models import AudioRendition, Bulletin, BulletinTransition, PronunciationEntry
from broadcast.selectors import bulletins as selectors
from broadcast.services import bulletins as services
from broadcast.services import rendering
from stations import roles
from stations.auth import HasPerm, HasRole

# Writes need the permission the role grants (stations/roles.py); the workflow service adds the rules
# about the object (only the author edits and submits; nobody approves their own bulletin).
Readers = HasRole.of(*selectors.READER_ROLES)
# A bulletin reached through selectors.bulletins_for (operators: only what airs in their district).
BulletinReaders = HasPerm.of("broadcast.view_bulletin")
Authors = HasPerm.of("broadcast.add_bulletin")
Editors = HasPerm.of("broadcast.change_bulletin")
Approvers = HasPerm.of("broadcast.approve_bulletin")
Archivers = HasPerm.of("broadcast.archive_bulletin")
LexiconEditors = HasRole.of(roles.EDITOR)


# ------------------------------------------------------------------------------------------- serializers


class BulletinSerializer(serializers.ModelSerializer):
    """The detail view. Text fields show the newest revision (what is being written or reviewed);
    `live_revision` is the one that airs."""

    title = serializers.SerializerMethodField()
    body = serializers.CharField(source="current_revision.body", read_only=True)
    category = serializers.SerializerMethodField()
    priority = serializers.SerializerMethodField()
    voice = serializers.SerializerMethodField()
    revision = serializers.IntegerField(source="current_revision.number", read_only=True)
    author = serializers.CharField(source="author.username", read_only=True)
    submitted_at = serializers.DateTimeField(source="current_revision.submitted_at", read_only=True, allow_null=True)
    live_revision = serializers.IntegerField(source="live_revision.number", read_only=True, allow_null=True)
    approved_sha256 = serializers.CharField(source="live_revision.approved_sha256", read_only=True, allow_null=True)
    audio_status = serializers.SerializerMethodField()

    class Meta:
        model = Bulletin
        fields = [
            "id", "title", "body", "category", "priority", "voice", "status", "revision", "author",
            "created_at", "updated_at", "submitted_at", "live_revision", "approved_sha256", "audio_status",
        ]
        read_only_fields = fields

    def _rev(self, obj: Bulletin, field: str) -> str:
        value = getattr(obj.current_revision, field, "") if obj.current_revision else ""
        return value or getattr(obj, field)

    def get_title(self, obj: Bulletin) -> str:
        return self._rev(obj, "title")

    def get_category(self, obj: Bulletin) -> str:
        return self._rev(obj, "category")

    def get_priority(self, obj: Bulletin) -> str:
        return self._rev(obj, "priority")

    def get_voice(self, obj: Bulletin) -> str:
        return self._rev(obj, "voice")

    def get_audio_status(self, obj: Bulletin) -> str | None:
        rendition = selectors.current_rendition(obj)
        return rendition.status if rendition else None


class BulletinWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300)
    body = serializers.CharField(trim_whitespace=False)
    category = serializers.ChoiceField(choices=Bulletin.Category.choices, default=Bulletin.Category.OTHER)
    priority = serializers.ChoiceField(choices=Bulletin.Priority.choices, default=Bulletin.Priority.NORMAL)
    voice = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class BulletinPatchSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300, required=False)
    body = serializers.CharField(trim_whitespace=False, required=False)
    category = serializers.ChoiceField(choices=Bulletin.Category.choices, required=False)
    priority = serializers.ChoiceField(choices=Bulletin.Priority.choices, required=False)
    voice = serializers.CharField(max_length=64, required=False, allow_blank=True)


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class RejectSerializer(serializers.Serializer):
    comment = serializers.CharField(error_messages={"required": "Cần ghi lý do từ chối.",
                                                    "blank": "Cần ghi lý do từ chối."})


class TransitionSerializer(serializers.ModelSerializer):
    by = serializers.CharField(source="by.username", read_only=True)
    revision = serializers.IntegerField(source="revision.number", read_only=True)

    class Meta:
        model = BulletinTransition
        fields = ["from_status", "to_status", "by", "at", "comment", "revision"]


class AudioSerializer(serializers.Serializer):
    status = serializers.CharField()
    revision = serializers.IntegerField(allow_null=True)
    source = serializers.CharField(allow_null=True)
    engine = serializers.CharField(allow_null=True)
    voice = serializers.CharField(allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)
    sha256 = serializers.CharField(allow_null=True)
    size_bytes = serializers.IntegerField(allow_null=True)
    loudness_lufs = serializers.FloatField(allow_null=True)
    url = serializers.URLField(allow_null=True)
    error = serializers.CharField(allow_null=True)


class RecordingSerializer(serializers.Serializer):
    file = serializers.FileField()


class PronunciationSerializer(serializers.ModelSerializer):
    class Meta:
        model = PronunciationEntry
        fields = ["id", "term", "spoken", "updated_at"]
        read_only_fields = ["id", "updated_at"]
        extra_kwargs = {"term": {"max_length": 100}, "spoken": {"max_length": 300}}

    def validate_term(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError("Từ viết không được để trống.")
        return value

    def validate_spoken(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError("Cách đọc không được để trống.")
        return value


# ------------------------------------------------------------------------------------------------ views


class WorkflowErrors:
    """Maps service WorkflowErrors to 400 (field-level) / 403 / 409 / 413 responses."""

    may_conflict = True  # OpenAPI: writes document 409 (broadcast/api/openapi.py)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, services.WorkflowError):
            if exc.status_code == 400 and exc.field:
                data: dict[str, Any] = {exc.field: [exc.message]}
            else:
                data = {"detail": exc.message, "code": exc.code}
            return Response(data, status=exc.status_code)
        return super().handle_exception(exc)  # type: ignore[misc]


class BulletinFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Bulletin.Status.choices)
    category = django_filters.ChoiceFilter(choices=Bulletin.Category.choices)
    priority = django_filters.ChoiceFilter(choices=Bulletin.Priority.choices)

    class Meta:
        model = Bulletin
        fields = ["status", "category", "priority"]


class BulletinObjectMixin(WorkflowErrors):
    def get_bulletin(self) -> Bulletin:
        return get_object_or_404(selectors.bulletins_for(self.request.user), pk=self.kwargs["pk"])

    def detail(self, bulletin: Bulletin, status: int = 200) -> Response:
        bulletin = selectors.bulletins_for(self.request.user).get(pk=bulletin.pk)
        return Response(BulletinSerializer(bulletin, context={"request": self.request}).data, status=status)


class BulletinListCreate(BulletinObjectMixin, generics.ListAPIView):
    serializer_class = BulletinSerializer
    filterset_class = BulletinFilter
    search_fields = ["title", "current_revision__title", "current_revision__body"]
    ordering_fields = ["created_at", "updated_at", "priority", "status"]

    def get_permissions(self) -> list[BasePermission]:
        return [Authors()] if self.request.method == "POST" else [BulletinReaders()]

    def get_queryset(self):
        return selectors.bulletins_for(self.request.user)

    @extend_schema(request=BulletinWriteSerializer, responses={201: BulletinSerializer})
    def post(self, request: Request) -> Response:
        data = BulletinWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        bulletin = services.create_bulletin(request.user, **data.validated_data)
        return self.detail(bulletin, status=201)


class BulletinDetail(BulletinObjectMixin, APIView):
    def get_permissions(self) -> list[BasePermission]:
        return [Editors()] if self.request.method in ("PATCH", "DELETE") else [BulletinReaders()]

    @extend_schema(responses=BulletinSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return self.detail(self.get_bulletin())

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        """The author deletes a draft never submitted (403 for others, 409 once submitted)."""
        services.delete_draft(self.get_bulletin(), request.user)
        return Response(status=204)

    @extend_schema(request=BulletinPatchSerializer, responses=BulletinSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        bulletin = self.get_bulletin()
        data = BulletinPatchSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        bulletin = services.edit_bulletin(bulletin, request.user, **data.validated_data)
        return self.detail(bulletin)


class _Action(BulletinObjectMixin, APIView):
    input_serializer: type[serializers.Serializer] | None = None

    def act(self, bulletin: Bulletin, user: Any, data: dict[str, Any]) -> Bulletin:
        raise NotImplementedError

    def post(self, request: Request, pk: int) -> Response:
        bulletin = self.get_bulletin()
        data: dict[str, Any] = {}
        if self.input_serializer is not None:
            ser = self.input_serializer(data=request.data)
            ser.is_valid(raise_exception=True)
            data = ser.validated_data
        return self.detail(self.act(bulletin, request.user, data))


@extend_schema(request=None, responses=BulletinSerializer)
class BulletinSubmit(_Action):
    """draft → in_review; rendering of this revision's audio starts."""

    permission_classes = [Editors]

    def act(self, bulletin: Bulletin, user: Any, data: dict[str, Any]) -> Bulletin:
        return services.submit(bulletin, user)


@extend_schema(request=CommentSerializer, responses=BulletinSerializer)
class BulletinApprove(_Action):
    """in_review → approved; binds the ready audio (409 when it is not ready)."""

    permission_classes = [Approvers]
    input_serializer = CommentSerializer

    def act(self, bulletin: Bulletin, user: Any, data: dict[str, Any]) -> Bulletin:
        return services.approve(bulletin, user, data.get("comment", ""))


@extend_schema(request=RejectSerializer, responses=BulletinSerializer)
class BulletinReject(_Action):
    permission_classes = [Approvers]
    input_serializer = RejectSerializer

    def act(self, bulletin: Bulletin, user: Any, data: dict[str, Any]) -> Bulletin:
        return services.reject(bulletin, user, data["comment"])


@extend_schema(request=CommentSerializer, responses=BulletinSerializer)
class BulletinWithdraw(_Action):
    """in_review → draft: the author takes the bulletin back before an approver decides."""

    permission_classes = [Editors]
    input_serializer = CommentSerializer

    def act(self, bulletin: Bulletin, user: Any, data: dict[str, Any]) -> Bulletin:
        return services.withdraw(bulletin, user, data.get("comment", ""))


@extend_schema(request=CommentSerializer, responses=BulletinSerializer)
class BulletinArchive(_Action):
    """→ archived: stops airing."""

    permission_classes = [Archivers]
    input_serializer = CommentSerializer

    def act(self, bulletin: Bulletin, user: Any, data: dict[str, Any]) -> Bulletin:
        return services.archive(bulletin, user, data.get("comment", ""))


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


class BulletinHistory(BulletinObjectMixin, generics.ListAPIView):
    """The full audit trail as a plain array, as API.md fixes it (a bulletin has few transitions)."""

    permission_classes = [BulletinReaders]
    serializer_class = TransitionSerializer
    filter_backends: list = []
    pagination_class = None

    def get_queryset(self):
        return selectors.bulletin_history(self.get_bulletin())


LEXICON_ORDER = (
    "Order of the reading rules: (1) built-in rules read structured tokens first: web and e-mail "
    "addresses, document codes (15/QĐ-TTg), account, ID and telephone numbers, times, dates and "
    "fractions, amounts and units (50.000đ/người, km/h); (2) the editors' pronunciation entries, on whole "
    "words only (case-sensitive, longest first), override the built-in abbreviation table and never "
    "apply inside a unit, code or address a built-in rule has read; (3) the built-in abbreviation table "
    "(UBND, BQL, SĐT…); (4) letter-digit codes, ranges and plain numbers; (5) an upper-case abbreviation "
    "found nowhere is spelled letter by letter and warned about. One text reads one token one way."
)


class SpeakableSpanSerializer(serializers.Serializer):
    start = serializers.IntegerField(help_text="Offset (characters) of the rewritten text in `source`.")
    end = serializers.IntegerField(help_text="Offset just past it: `source[start:end]` is the written text.")
    source = serializers.CharField(help_text="The written text.")
    spoken = serializers.CharField(help_text="What the engine says instead.")
    rule = serializers.CharField(
        help_text="The rule that read it: address, document_code, chainage, identifier, phone, time, date, "
                  "fraction, range, amount, unit, per_unit, lexicon, abbreviation, code, ordinal, roman, "
                  "number, spelled."
    )
    entry = serializers.IntegerField(allow_null=True,
                                     help_text="The pronunciation entry's id when `rule` is `lexicon`.")


class SpeakableWarningSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="unknown_abbreviation, ambiguous_fraction, ambiguous_date, or stale_audio (the audio was "
                  "made from an older reading)."
    )
    message = serializers.CharField(help_text="What to check, in Vietnamese.")
    start = serializers.IntegerField(allow_null=True)
    end = serializers.IntegerField(allow_null=True)
    source = serializers.CharField(allow_blank=True)


class SpeakableSerializer(serializers.Serializer):
    text = serializers.CharField(help_text="What the engine reads (or read, once the audio exists).")
    source = serializers.CharField(
        help_text="The text the offsets refer to: the title, '.', a blank line, then the body (Unicode NFC)."
    )
    spans = SpeakableSpanSerializer(many=True)
    warnings = SpeakableWarningSerializer(many=True)

    class Meta:
        ref_name = "Speakable"


def _speakable(revision: Any) -> dict[str, Any]:
    """The reading of a revision with the current lexicon, spans and warnings (raises SpeakableTextError)."""
    from broadcast.audio.normalize import read_text

    text = rendering.speakable_for(revision.title, revision.body)  # the same checks as submitting
    source = f"{revision.title.strip()}.\n\n{revision.body}" if revision.title.strip() else revision.body
    reading = read_text(source, selectors.lexicon_overrides())
    terms = {span.term for span in reading.spans if span.term}
    entries = dict(PronunciationEntry.objects.filter(term__in=terms).values_list("term", "id")) if terms else {}
    spans = [{"start": s.start, "end": s.end, "source": s.source, "spoken": s.spoken, "rule": s.rule,
              "entry": entries.get(s.term) if s.term else None} for s in reading.spans]
    warnings = [{"code": w.code, "message": w.message, "start": w.start, "end": w.end, "source": w.source}
                for w in reading.warnings]
    return {"text": text, "source": reading.source, "spans": spans, "warnings": warnings}


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


@extend_schema_view(
    get=extend_schema(description="The editors' pronunciation entries. " + LEXICON_ORDER),
    post=extend_schema(description="Add an entry: a term read, as a whole word, the way `spoken` says. "
                                   + LEXICON_ORDER),
)
class PronunciationList(generics.ListCreateAPIView):
    serializer_class = PronunciationSerializer
    search_fields = ["term", "spoken"]
    ordering_fields = ["term", "updated_at"]
    queryset = PronunciationEntry.objects.all()

    def get_permissions(self) -> list[BasePermission]:
        return [LexiconEditors()] if self.request.method == "POST" else [Readers()]

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.save(created_by=self.request.user)


@extend_schema_view(
    get=extend_schema(description="One pronunciation entry. " + LEXICON_ORDER),
    patch=extend_schema(description="Change an entry (whole words only). " + LEXICON_ORDER),
)
class PronunciationDetail(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = PronunciationSerializer
    queryset = PronunciationEntry.objects.all()
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_permissions(self) -> list[BasePermission]:
        return [Readers()] if self.request.method in ("GET", "HEAD", "OPTIONS") else [LexiconEditors()]


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
