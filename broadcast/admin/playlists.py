"""Admin for schedules and playlists (playlists are built by the system: read-only here)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from ..models import Playlist, PlaylistItem, Schedule


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ["id", "bulletin", "start_date", "end_date", "immediate", "target_station_count", "created_by",
                    "created_at", "cancelled_at"]
    list_filter = ["immediate", ("cancelled_at", admin.EmptyFieldListFilter), "start_date"]
    search_fields = ["bulletin__title"]
    raw_id_fields = ["bulletin", "created_by", "cancelled_by"]
    readonly_fields = ["target_station_count", "created_at", "cancelled_at", "cancelled_by"]
    date_hierarchy = "start_date"


class PlaylistItemInline(admin.TabularInline):
    model = PlaylistItem
    extra = 0
    can_delete = False
    ordering = ["position", "key"]
    fields = ["position", "slot", "requested_slot", "starts_at", "bulletin", "revision", "sha256", "duration_ms",
              "priority", "unplaced_reason", "report_status"]
    readonly_fields = fields

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Playlist)
class PlaylistAdmin(admin.ModelAdmin):
    list_display = ["station", "date", "version", "generated_at"]
    list_filter = ["date"]
    search_fields = ["station__code", "station__name"]
    list_select_related = ["station"]
    readonly_fields = ["station", "date", "version", "etag", "content_hash", "generated_at"]
    inlines = [PlaylistItemInline]
    date_hierarchy = "date"

    def has_add_permission(self, request: Any) -> bool:
        return False
