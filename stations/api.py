"""Registry API: districts, stations, station tokens (the staff token login is broadcast/api/access.py)."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors, services
from .admin_search import MAX_SEARCH_TERMS
from .auth import HasPerm, IsStaffReader, IsStation, StationThrottle, StationTokenAuthentication
from .models import AdminUnit, District, Station
from .names import matches_search


class StationAPIView(APIView):
    """Base of every station-facing endpoint: Bearer token only, station principals only, per-station rate.

    (Not in auth.py: DRF imports that module while building APIView's defaults.)"""

    authentication_classes = [StationTokenAuthentication]
    permission_classes = [IsStation]
    throttle_classes = [StationThrottle]


class SlotSerializer(serializers.Serializer):
    name = serializers.CharField()
    start = serializers.CharField()
    end = serializers.CharField()


class DistrictSerializer(serializers.ModelSerializer):
    station_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = District
        fields = ["code", "name", "kind", "station_count"]


class UnitRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class StationSerializer(serializers.ModelSerializer):
    district = serializers.CharField(source="district.code", read_only=True)
    district_name = serializers.CharField(source="district.name", read_only=True)
    slots = serializers.SerializerMethodField()
    slots_valid = serializers.SerializerMethodField(
        help_text="false: khung giờ đang lưu không hợp lệ (hiện là danh sách rỗng); sửa bằng PATCH hoặc "
                  "manage.py check_registry --reset-slots")
    unit = serializers.SerializerMethodField(
        help_text="xã/phường của bản đồ từ 01/07/2025 nơi đài đứng (null: chưa gán)")
    unit_choices = serializers.SerializerMethodField(
        help_text="các xã/phường mới mà xã/phường cũ của đài có thể thuộc theo bảng chuyển đổi, mặc định trước; "
                  "nhiều hơn một: xã cũ bị chia, cần người quyết định")
    unit_confirmed = serializers.BooleanField(
        read_only=True, help_text="true: người đã chọn hoặc xác nhận xã/phường (nhập lại danh sách giữ nguyên)")
    needs_unit_decision = serializers.SerializerMethodField(
        help_text="true: xã/phường cũ bị chia và chưa ai xác nhận xã/phường đang gán")

    class Meta:
        model = Station
        fields = [
            "code", "name", "kind", "district", "district_name", "admin_code", "slots", "slots_valid", "active",
            "last_seen_at", "status", "unit", "unit_choices", "unit_confirmed", "needs_unit_decision",
        ]

    @extend_schema_field(SlotSerializer(many=True))
    def get_slots(self, station: Station) -> list[dict[str, str]]:
        # A row stored before the slot rule existed may hold anything: shown empty and flagged, not a 500.
        return [] if station.slots_error() else SlotSerializer(station.slots, many=True).data

    def get_slots_valid(self, station: Station) -> bool:
        return station.slots_error() is None

    @extend_schema_field(UnitRefSerializer(allow_null=True))
    def get_unit(self, station: Station) -> dict[str, str] | None:
        return {"code": station.unit.code, "name": station.unit.name} if station.unit else None

    @extend_schema_field(UnitRefSerializer(many=True))
    def get_unit_choices(self, station: Station) -> list[dict[str, str]]:
        names = self._unit_names()
        return [{"code": code, "name": names.get(code, "")} for code in station.unit_choices or []]

    def get_needs_unit_decision(self, station: Station) -> bool:
        return station.needs_unit_decision()

    def _unit_names(self) -> dict[str, str]:
        # One query for the whole page: the codes of every station serialized with this one.
        if "_unit_names" not in self.context:
            root = self.root.instance
            stations = root if hasattr(root, "__iter__") else [root]  # a page, or one station
            codes = {code for s in stations for code in (s.unit_choices or [])}
            self.context["_unit_names"] = selectors.unit_names(codes)
        return self.context["_unit_names"]


class StationEditSerializer(serializers.Serializer):
    slots = serializers.JSONField(
        required=False,
        help_text='[{"name": "morning", "start": "06:00", "end": "06:30"}, …]: tên chữ thường (không được là '
                  '"now"), giờ HH:MM, kết thúc sau bắt đầu, không chồng nhau.')
    active = serializers.BooleanField(required=False)
    unit = serializers.SlugRelatedField(
        slug_field="code", required=False,
        queryset=AdminUnit.objects.filter(map=AdminUnit.Map.SINCE_2025, level=AdminUnit.Level.COMMUNE),
        error_messages={"does_not_exist": "Không có xã/phường mã {value} trên bản đồ từ 01/07/2025.",
                        "invalid": "Mã xã/phường không hợp lệ."},
        help_text="mã xã/phường của bản đồ từ 01/07/2025: chuyển đài sang đơn vị đó (quyết định của người, nhập "
                  "lại danh sách giữ nguyên)")
    unit_confirmed = serializers.BooleanField(
        required=False,
        help_text="true: xác nhận xã/phường đang gán (hoặc gửi kèm unit) là quyết định của người; chỉ nhận true")

    def validate_unit_confirmed(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError("Chỉ nhận true (xác nhận); để đổi xã/phường hãy gửi unit.")
        return value


class StationFilter(django_filters.FilterSet):
    district = django_filters.CharFilter(field_name="district__code")
    kind = django_filters.ChoiceFilter(choices=Station.Kind.choices)
    active = django_filters.BooleanFilter()
    status = django_filters.ChoiceFilter(choices=Station.Status.choices)
    unit = django_filters.CharFilter(field_name="unit__code", help_text="mã xã/phường (bản đồ từ 01/07/2025)")
    needs_unit_decision = django_filters.BooleanFilter(
        method="filter_needs_unit_decision", help_text="true: các đài cần người xác nhận xã/phường")

    class Meta:
        model = Station
        fields = ["district", "kind", "active", "status", "unit", "needs_unit_decision"]

    def filter_needs_unit_decision(self, queryset, name, value):
        q = selectors.needs_unit_decision_q()
        return queryset.filter(q) if value else queryset.exclude(q)


class DistrictList(generics.ListAPIView):
    serializer_class = DistrictSerializer
    permission_classes = [IsStaffReader]
    search_fields = ["name", "code"]
    ordering_fields = ["code", "name"]

    def get_queryset(self):
        qs = selectors.districts_with_counts().order_by("code")
        scope = selectors.user_scope(self.request.user)
        if scope.everything:
            return qs
        # Operators: their district, or the districts their units' stations stood in before the map changed.
        in_scope = Station.objects.filter(scope.q()).values("district_id")
        return qs.filter(Q(pk__in=sorted(scope.district_ids or ())) | Q(pk__in=in_scope))


class StationList(generics.ListAPIView):
    serializer_class = StationSerializer
    permission_classes = [IsStaffReader]
    filterset_class = StationFilter
    search_fields = ["name", "code", "admin_code"]
    ordering_fields = ["code", "name", "last_seen_at"]

    def get_queryset(self):
        params = self.request.query_params
        if params.get("district") or params.get("unit"):
            # A district or unit outside what the user sees is 404, as on the other staff endpoints.
            try:
                scope = selectors.narrowed_scope(self.request.user, district_code=params.get("district") or None,
                                                 unit_code=params.get("unit") or None)
            except ValueError as exc:
                raise serializers.ValidationError({"unit": [str(exc)]}) from None
            if scope is None:
                raise NotFound("Không tìm thấy đơn vị hành chính.")
        return selectors.visible_stations(self.request.user).order_by("district__code", "kind", "code")


class StationDetail(generics.RetrieveAPIView):
    """GET a station; PATCH (supervisors) its slots, active flag and unit of the two-level map (or
    `unit_confirmed: true` to confirm the current one): kept by a re-import of the registry, and the
    station's coming playlists are rebuilt."""

    serializer_class = StationSerializer
    lookup_field = "code"

    def get_permissions(self):
        if self.request.method == "PATCH":
            return [HasPerm.of("stations.change_station")()]
        return [IsStaffReader()]

    def get_queryset(self):
        return selectors.visible_stations(self.request.user)

    @extend_schema(request=StationEditSerializer, responses={200: StationSerializer})
    def patch(self, request: Request, code: str) -> Response:
        station = self.get_object()
        edit = StationEditSerializer(data=request.data)
        edit.is_valid(raise_exception=True)
        changes = dict(edit.validated_data)
        # Naming a unit is a person's decision even when it is the current one.
        confirm = changes.pop("unit_confirmed", False) or "unit" in changes
        try:
            services.edit_station(station, changes, confirm_unit=confirm)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return Response(StationSerializer(station).data)


class UnitSerializer(serializers.ModelSerializer):
    parent = serializers.CharField(source="parent.code", read_only=True, allow_null=True, default=None)
    district = serializers.CharField(source="district.code", read_only=True, allow_null=True, default=None)
    station_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = AdminUnit
        fields = ["map", "level", "code", "name", "division_type", "province_code", "parent", "district",
                  "valid_from", "valid_until", "station_count"]


class UnitFilter(django_filters.FilterSet):
    map = django_filters.ChoiceFilter(choices=AdminUnit.Map.choices)
    level = django_filters.ChoiceFilter(choices=AdminUnit.Level.choices)
    province = django_filters.CharFilter(field_name="province_code", help_text="mã tỉnh/thành, ví dụ 01")
    search = django_filters.CharFilter(method="filter_search",
                                       help_text="tìm theo tên (không cần dấu) hoặc mã; tối đa 20 từ")

    class Meta:
        model = AdminUnit
        fields = ["map", "level", "province", "search"]

    def filter_search(self, queryset, name, value):
        words = value.split()
        if len(words) > MAX_SEARCH_TERMS:
            raise serializers.ValidationError({"search": [f"Chỉ tìm được tối đa {MAX_SEARCH_TERMS} từ mỗi lần."]})
        # Unit names are few (a province's hundreds): folded in Python, so "ba dinh" finds "Ba Đình".
        found = [pk for pk, unit_name, code in queryset.values_list("pk", "name", "code")
                 if matches_search(unit_name, code, value)]
        return queryset.filter(pk__in=found)


class UnitList(generics.ListAPIView):
    """Administrative units of both maps (public geography): provinces and commune-level units, with the
    dates they were in force and how many stations stand in each (two-level map's communes)."""

    serializer_class = UnitSerializer
    permission_classes = [IsStaffReader]
    filterset_class = UnitFilter
    ordering_fields = ["code", "name"]

    def get_queryset(self):
        # Units are public geography; the stations counted are those the user may see.
        visible = selectors.user_scope(self.request.user).q("stations__")
        return (AdminUnit.objects.select_related("parent", "district")
                .annotate(station_count=Count("stations", filter=visible)).order_by("map", "level", "code"))


class StationTokenIssue(APIView):
    """POST issues a new token for a station (the old one stops working; the token is shown only here).
    DELETE revokes it."""

    can_issue = HasPerm.of("stations.add_stationcredential")
    can_revoke = HasPerm.of("stations.change_stationcredential")

    def get_permissions(self) -> list[HasPerm]:
        return [self.can_revoke() if self.request.method == "DELETE" else self.can_issue()]

    @extend_schema(
        request=None,
        responses={201: inline_serializer("StationToken", {"station": serializers.CharField(),
                                                            "token": serializers.CharField()})},
    )
    def post(self, request: Request, code: str) -> Response:
        station = get_object_or_404(Station, code=code)
        token = services.issue_station_token(station, issued_by=request.user)
        return Response({"station": station.code, "token": token}, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, code: str) -> Response:
        """Revokes the station's token without issuing another: the device gets 401 until a new one."""
        station = get_object_or_404(Station, code=code)
        services.revoke_station_tokens(station)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("districts/", DistrictList.as_view(), name="district-list"),
    path("stations/", StationList.as_view(), name="station-list"),
    path("units/", UnitList.as_view(), name="unit-list"),
    # A code is free text and may hold a slash ('TTVH/01'): `path`, the token route tried first.
    path("stations/<path:code>/token/", StationTokenIssue.as_view(), name="station-token"),
    path("stations/<path:code>/", StationDetail.as_view(), name="station-detail"),
]
