"""Admin for proof of play: the play log is append-only, so reports are read-only here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from broadcast.models import PlaybackReport
from stations.admin_scope import OperatorScopedMixin
from stations.admin_search import BoundedSearchAdmin


@admin.register(PlaybackReport)
class PlaybackReportAdmin(OperatorScopedMixin, BoundedSearchAdmin):  # by the units it was made under
    list_display = ["report_id", "station", "playlist_date", "slot", "bulletin_title", "status", "started_at",
                    "received_at"]
    list_filter = ["status", "playlist_date", "station__district"]
    search_fields = ["report_id", "station__code", "station__name", "bulletin_title", "sha256"]
    date_hierarchy = "playlist_date"
    list_select_related = ["station"]
    show_full_result_count = False

    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
