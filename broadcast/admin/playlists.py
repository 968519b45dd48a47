"""Admin for schedules and playlists, read-only: schedules are created and cancelled through the
services (validation, then the playlists rebuild), which an admin form would bypass; playlists are
built by the system."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages

from stations.admin_scope import OperatorScopedMixin
from stations.admin_search import BoundedSearchAdmin

from ..models import Playlist, PlaylistItem, Schedule
from ..selectors.access import schedules_reaching
from ..services import schedules as schedule_services


@admin.register(Schedule)
class ScheduleAdmin(OperatorScopedMixin, BoundedSearchAdmin):
    list_display = ["id", "bulletin", "start_date", "end_date", "immediate", "target_station_count", "created_by",
                    "created_at", "cancelled_at"]
    list_filter = ["immediate", ("cancelled_at", admin.EmptyFieldListFilter), "start_date"]

    def scoped(self, queryset, scope):
        return schedules_reaching(queryset, scope)
    list_select_related = ["bulletin", "created_by"]
    search_fields = ["bulletin__title"]
    date_hierarchy = "start_date"
    actions = ["cancel_schedules"]

    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    @admin.action(description="Hủy các lịch phát đã chọn", permissions=["change"])
    def cancel_schedules(self, request: Any, queryset: Any) -> None:
        cancelled = 0
        for schedule in queryset.filter(cancelled_at__isnull=True):
            try:
                schedule_services.cancel_schedule(schedule, request.user)
            except schedule_services.ScheduleConflict:
                continue  # cancelled meanwhile
            cancelled += 1
        self.message_user(request, f"Đã hủy {cancelled} lịch phát.", messages.SUCCESS)


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
class PlaylistAdmin(OperatorScopedMixin, BoundedSearchAdmin):  # by the units it was made under
    list_display = ["station", "date", "version", "generated_at"]
    list_filter = ["date"]
    search_fields = ["station__code", "station__name"]
    list_select_related = ["station"]
    readonly_fields = ["station", "date", "version", "etag", "content_hash", "generated_at"]
    inlines = [PlaylistItemInline]
    date_hierarchy = "date"

    def has_add_permission(self, request: Any) -> bool:
        return False
