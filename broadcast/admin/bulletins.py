"""Admin of the editorial workflow: read-mostly views of bulletins, revisions, audio and the lexicon.

Workflow changes (submit, approve, reject) go through the API/services, which enforce the rules;
the admin shows state and lets staff listen to renditions.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from broadcast.models import (
    AudioRendition,
    Bulletin,
    BulletinRevision,
    BulletinTransition,
    PronunciationEntry,
    Schedule,
)
from broadcast.selectors.access import schedules_reaching
from stations.admin_scope import OperatorScopedMixin
from stations.admin_search import BoundedSearchAdmin


def _player(rendition: AudioRendition | None) -> str:
    if rendition is None or rendition.status != AudioRendition.Status.READY:
        return "—"
    url = reverse("rendition-file", args=[rendition.pk])
    return format_html('<audio controls preload="none" src="{}"></audio>', url)


class RevisionInline(admin.TabularInline):
    model = BulletinRevision
    extra = 0
    can_delete = False
    fields = ["number", "title", "priority", "created_by", "submitted_at", "approved_by", "approved_at",
              "approved_sha256", "audio"]
    readonly_fields = fields
    show_change_link = True

    @admin.display(description="âm thanh")
    def audio(self, obj: BulletinRevision) -> str:
        return _player(obj.rendition)

    def has_add_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


class TransitionInline(admin.TabularInline):
    model = BulletinTransition
    extra = 0
    can_delete = False
    fields = ["at", "from_status", "to_status", "by", "revision", "comment"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


@admin.register(Bulletin)
class BulletinAdmin(OperatorScopedMixin, BoundedSearchAdmin):
    list_display = ["id", "title", "category", "priority", "status", "author", "created_at"]
    list_filter = ["status", "category", "priority"]
    search_fields = ["title", "revisions__body"]

    def scoped(self, queryset, scope):
        # What airs in their district or units, as the API's bulletin list shows them.
        live = Schedule.objects.filter(cancelled_at__isnull=True)
        return queryset.filter(pk__in=schedules_reaching(live, scope).values("bulletin_id"))
    list_select_related = ["author"]
    readonly_fields = ["title", "category", "priority", "voice", "author", "status", "current_revision",
                       "live_revision", "created_at", "updated_at"]
    fields = readonly_fields
    inlines = [RevisionInline, TransitionInline]

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


@admin.register(BulletinRevision)
class BulletinRevisionAdmin(BoundedSearchAdmin):
    list_display = ["bulletin", "number", "title", "submitted_at", "approved_at"]
    list_select_related = ["bulletin"]
    search_fields = ["title", "body"]
    readonly_fields = ["bulletin", "number", "title", "body", "category", "priority", "voice", "created_by",
                       "created_at", "submitted_at", "rendition", "audio", "approved_by", "approved_at",
                       "approved_sha256"]
    fields = readonly_fields

    @admin.display(description="âm thanh")
    def audio(self, obj: BulletinRevision) -> str:
        return _player(obj.rendition)

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


@admin.register(AudioRendition)
class AudioRenditionAdmin(BoundedSearchAdmin):
    list_display = ["id", "source", "status", "engine", "engine_used", "voice", "duration_ms", "size_bytes",
                    "loudness_lufs", "created_at"]
    list_filter = ["status", "source", "engine_used"]
    search_fields = ["sha256", "text_hash", "speakable_text"]
    readonly_fields = [f.name for f in AudioRendition._meta.fields] + ["player"]

    @admin.display(description="nghe")
    def player(self, obj: AudioRendition) -> str:
        return _player(obj)

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False


@admin.register(PronunciationEntry)
class PronunciationEntryAdmin(BoundedSearchAdmin):
    list_display = ["term", "spoken", "updated_at"]
    search_fields = ["term", "spoken"]
    readonly_fields = ["created_by", "updated_at"]

    def save_model(self, request, obj, form, change) -> None:  # noqa: ANN001
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
