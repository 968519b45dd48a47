"""Serializers of the bulletin API: bulletins, transitions, audio, the speakable reading, the lexicon."""

from __future__ import annotations

from rest_framework import serializers

from broadcast.models import Bulletin, BulletinTransition, PronunciationEntry
from broadcast.selectors import bulletins as selectors


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


class ApproveSerializer(CommentSerializer):
    sha256 = serializers.RegexField(
        r"^[0-9a-fA-F]{64}$", required=False,
        help_text="sha256 of the audio the approver listened to (`audio.sha256`); when given and no longer "
                  "the revision's audio, the approval is refused with 409 `audio_changed`.",
        error_messages={"invalid": "sha256 phải gồm 64 ký tự thập lục phân.",
                        "blank": "sha256 phải gồm 64 ký tự thập lục phân."},
    )


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
