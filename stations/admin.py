from django.contrib import admin
from django.db.models import Count

from . import services
from .admin_search import BoundedSearchAdmin, bound_registered_searches
from .models import District, DistrictOperator, Station, StationCredential, StationStatusChange


@admin.register(District)
class DistrictAdmin(BoundedSearchAdmin):
    list_display = ["code", "name", "kind", "province_name", "station_total"]
    search_fields = ["code", "name"]
    list_filter = ["kind", "province_name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(station_count=Count("stations"))  # one query, not one per row

    @admin.display(description="số đài", ordering="station_count")
    def station_total(self, obj: District) -> int:
        return obj.station_count

    def save_model(self, request, obj: District, form, change: bool) -> None:
        services.save_district_edit(obj, form.changed_data)


class StatusChangeInline(admin.TabularInline):
    model = StationStatusChange
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "at"]
    ordering = ["-at"]
    max_num = 0


class CredentialInline(admin.TabularInline):
    model = StationCredential
    extra = 0
    can_delete = False
    fields = ["prefix", "created_at", "created_by", "revoked_at", "last_used_at"]
    readonly_fields = fields
    max_num = 0


@admin.register(Station)
class StationAdmin(BoundedSearchAdmin):
    list_display = ["code", "name", "kind", "district", "active", "status", "last_seen_at"]
    list_filter = ["kind", "active", "status", "district"]
    search_fields = ["code", "name", "admin_code", "district__name"]
    list_select_related = ["district"]
    readonly_fields = ["status", "last_seen_at", "heartbeat_deadline", "status_changed_at", "agent_version",
                       "agent_state", "created_at", "updated_at"]
    inlines = [CredentialInline, StatusChangeInline]

    def save_model(self, request, obj: Station, form, change: bool) -> None:
        # The form has run Station.clean (the registry's slot rule); the service remembers the hand
        # edits and rebuilds the station's playlists when targeting changed.
        services.save_station_edit(obj, form.changed_data)


@admin.register(DistrictOperator)
class DistrictOperatorAdmin(BoundedSearchAdmin):
    list_display = ["user", "district"]
    autocomplete_fields = ["district"]


# Django's own admins (users, groups) and the periodic tasks' are registered before this app's.
bound_registered_searches()
