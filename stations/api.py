"""Registry API: districts, stations, station tokens (the staff token login is broadcast/api/access.py)."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors, services
from .auth import HasPerm, IsStaffReader, IsStation, StationThrottle, StationTokenAuthentication
from .models import District, Station


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


class StationSerializer(serializers.ModelSerializer):
    district = serializers.CharField(source="district.code", read_only=True)
    district_name = serializers.CharField(source="district.name", read_only=True)
    slots = serializers.SerializerMethodField()
    slots_valid = serializers.SerializerMethodField(
        help_text="false: khung giờ đang lưu không hợp lệ (hiện là danh sách rỗng); sửa bằng PATCH hoặc "
                  "manage.py check_registry --reset-slots")

    class Meta:
        model = Station
        fields = [
            "code", "name", "kind", "district", "district_name", "admin_code", "slots", "slots_valid", "active",
            "last_seen_at", "status",
        ]

    @extend_schema_field(SlotSerializer(many=True))
    def get_slots(self, station: Station) -> list[dict[str, str]]:
        # A row stored before the slot rule existed may hold anything: shown empty and flagged, not a 500.
        return [] if station.slots_error() else SlotSerializer(station.slots, many=True).data

    def get_slots_valid(self, station: Station) -> bool:
        return station.slots_error() is None


class StationEditSerializer(serializers.Serializer):
    slots = serializers.JSONField(
        required=False,
        help_text='[{"name": "morning", "start": "06:00", "end": "06:30"}, …]: tên chữ thường (không được là '
                  '"now"), giờ HH:MM, kết thúc sau bắt đầu, không chồng nhau.')
    active = serializers.BooleanField(required=False)


class StationFilter(django_filters.FilterSet):
    district = django_filters.CharFilter(field_name="district__code")
    kind = django_filters.ChoiceFilter(choices=Station.Kind.choices)
    active = django_filters.BooleanFilter()
    status = django_filters.ChoiceFilter(choices=Station.Status.choices)

    class Meta:
        model = Station
        fields = ["district", "kind", "active", "status"]


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
        return selectors.visible_stations(self.request.user).order_by("district__code", "kind", "code")


class StationDetail(generics.RetrieveAPIView):
    """GET a station; PATCH (supervisors) its slots and active flag: kept by a re-import of the registry,
    and the station's coming playlists are rebuilt."""

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
        try:
            services.edit_station(station, dict(edit.validated_data))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return Response(StationSerializer(station).data)


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
    # A code is free text and may hold a slash ('TTVH/01'): `path`, the token route tried first.
    path("stations/<path:code>/token/", StationTokenIssue.as_view(), name="station-token"),
    path("stations/<path:code>/", StationDetail.as_view(), name="station-detail"),
]
