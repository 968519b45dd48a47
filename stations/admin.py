from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import Count

from . import roles, selectors, services
from .admin_scope import OperatorScopedMixin
from .admin_search import BoundedSearchAdmin, FoldedUnitSearchMixin, bound_registered_searches
from .models import (
    AdminUnit,
    CommuneOperator,
    District,
    DistrictOperator,
    Station,
    StationCredential,
    StationOperator,
    StationStatusChange,
)


@admin.register(District)
class DistrictAdmin(OperatorScopedMixin, BoundedSearchAdmin):
    list_display = ["code", "name", "kind", "province_name", "station_total"]
    search_fields = ["code", "name"]
    list_filter = ["kind", "province_name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(station_count=Count("stations"))  # one query, not one per row

    def scoped(self, queryset, scope):
        # Their district, or the districts their units' stations stood in before the map changed.
        return queryset.filter(pk__in=Station.objects.filter(scope.q()).values("district_id"))

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


@admin.register(AdminUnit)
class AdminUnitAdmin(FoldedUnitSearchMixin, BoundedSearchAdmin):
    """Geography from the package (import_registry, remap_units): read only."""

    list_display = ["code", "name", "division_type", "map", "level", "province_code", "parent", "district",
                    "valid_from", "valid_until"]
    list_filter = ["map", "level", "province_code"]
    search_fields = ["code", "name"]
    list_select_related = ["parent", "district"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class NeedsUnitDecisionFilter(admin.SimpleListFilter):
    title = "Cần xác nhận xã/phường"
    parameter_name = "needs_unit_decision"

    def lookups(self, request, model_admin):
        return [("yes", "Cần xác nhận"), ("no", "Không cần")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(selectors.needs_unit_decision_q())
        if self.value() == "no":
            return queryset.exclude(selectors.needs_unit_decision_q())
        return queryset


@admin.register(Station)
class StationAdmin(OperatorScopedMixin, BoundedSearchAdmin):
    list_display = ["code", "name", "kind", "district", "unit", "unit_decided", "active", "status", "last_seen_at"]
    list_filter = [NeedsUnitDecisionFilter, "kind", "active", "status", "district"]
    search_fields = ["code", "name", "admin_code", "district__name", "unit__name", "unit__code"]
    list_select_related = ["district", "unit"]
    autocomplete_fields = ["unit"]  # the field's limit_choices_to keeps it to the two-level map's communes
    readonly_fields = ["unit_choices_shown", "status", "last_seen_at", "heartbeat_deadline", "status_changed_at",
                       "agent_version", "agent_state", "created_at", "updated_at"]
    inlines = [CredentialInline, StatusChangeInline]
    actions = ["confirm_current_unit"]

    @admin.display(description="đã xác nhận", boolean=True)
    def unit_decided(self, obj: Station) -> bool | None:
        if obj.needs_unit_decision():
            return False
        return True if obj.unit_confirmed else None

    @admin.display(description="xã/phường có thể thuộc (bảng chuyển đổi)")
    def unit_choices_shown(self, obj: Station) -> str:
        names = selectors.unit_names(set(obj.unit_choices or []))
        return "; ".join(f"{code} {names.get(code, '')}".strip() for code in obj.unit_choices or []) or "—"

    @admin.action(description="Xác nhận xã/phường đang gán", permissions=["change"])
    def confirm_current_unit(self, request, queryset) -> None:
        done, missing = services.confirm_units(queryset.select_related("unit"))
        self.message_user(request, f"Đã xác nhận xã/phường của {done} đài.", messages.SUCCESS)
        if missing:
            self.message_user(request, f"{missing} đài chưa được gán xã/phường nào: hãy chọn xã/phường cho các đài đó.",
                              messages.WARNING)

    def save_model(self, request, obj: Station, form, change: bool) -> None:
        # The form has run Station.clean (the registry's slot rule); the service remembers the hand
        # edits and rebuilds the station's playlists when targeting changed.
        services.save_station_edit(obj, form.changed_data)


@admin.register(CommuneOperator)
class CommuneOperatorAdmin(BoundedSearchAdmin):
    list_display = ["user", "unit_list"]
    search_fields = ["user__username"]
    autocomplete_fields = ["user", "units"]  # units: the field's limit_choices_to, two-level map's communes

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user").prefetch_related("units")

    @admin.display(description="xã/phường")
    def unit_list(self, obj: CommuneOperator) -> str:
        return ", ".join(unit.name for unit in obj.units.all())


@admin.register(DistrictOperator)
class DistrictOperatorAdmin(BoundedSearchAdmin):
    list_display = ["user", "district"]
    autocomplete_fields = ["district"]


@admin.register(StationOperator)
class StationOperatorAdmin(BoundedSearchAdmin):
    """Who runs which station by hand (their page: /my-station/). The person also needs the
    «Nhân viên đài» role (group station_operator)."""

    list_display = ["user", "station"]
    search_fields = ["user__username", "station__code", "station__name"]
    list_select_related = ["user", "station"]
    autocomplete_fields = ["station"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Only holders of the role: a plain list (a supervisor may not browse users for an autocomplete).
        if db_field.name == "user":
            kwargs["queryset"] = (get_user_model().objects.filter(groups__name=roles.STATION_OPERATOR)
                                  .order_by("username"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# Django's own admins (users, groups) and the periodic tasks' are registered before this app's.
bound_registered_searches()
