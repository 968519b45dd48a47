"""Admin of staff API tokens: read-only (a token is issued only at login, shown once), revocable."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages

from stations.admin_search import BoundedSearchAdmin

from ..models import StaffToken
from ..services import access as services


@admin.register(StaffToken)
class StaffTokenAdmin(BoundedSearchAdmin):
    list_display = ["user", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "expires_at"]
    list_select_related = ["user"]
    search_fields = ["user__username", "prefix"]
    actions = ["revoke_tokens"]

    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False  # revoked tokens stay, as the record of who held access

    @admin.action(description="Thu hồi các khóa đã chọn", permissions=["change"])
    def revoke_tokens(self, request: Any, queryset: Any) -> None:
        revoked = sum(services.revoke_staff_token(token) for token in queryset.filter(revoked_at__isnull=True))
        self.message_user(request, f"Đã thu hồi {revoked} khóa.", messages.SUCCESS)
