"""Staff API for schedules and the staff view of playlists (thin: rules live in services/selectors)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from stations.auth import HasPerm, IsStaffReader
from stations.models import Station
from stations.selectors import user_scope

from ..models import Bulletin, Playlist, PlaylistItem, Schedule
from ..selectors import playlists as selectors
from ..selectors.access import schedules_reaching
from ..services import schedules as services
from .common import IdFilter, check_date_range, query_date, request_scope

# Scheduling and cancelling are the supervisor's (the grants of stations/roles.py).
CAN_SCHEDULE = HasPerm.of("broadcast.add_schedule")
CAN_CANCEL = HasPerm.of("broadcast.change_schedule")
CAN_READ = HasPerm.of("broadcast.view_schedule")


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Xung đột trạng thái."
    default_code = "conflict"


class TargetsSerializer(serializers.Serializer):
    """A union of receivers. `districts` name places on the map before 1 July 2025 (a station's district
    never changes, so such a schedule keeps its stations when the map changes); `units` name commune-level
    units of the two-level map and reach the stations standing in them now (a station moved to another
    unit leaves and joins accordingly)."""

    all = serializers.BooleanField(required=False, default=False)
    districts = serializers.ListField(child=serializers.CharField(), required=False, default=list,
                                      help_text="Mã quận/huyện (bản đồ trước 01/07/2025).")
    units = serializers.ListField(child=serializers.CharField(), required=False, default=list,
                                  help_text="Mã xã/phường/đặc khu của bản đồ hai cấp (từ 01/07/2025), ví dụ "
                                            "\"00004\": các đài đang thuộc đơn vị đó.")
    stations = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=Station.Kind.choices), required=False, default=list
    )


class ScheduleCreateSerializer(serializers.Serializer):
    bulletin = serializers.PrimaryKeyRelatedField(
        queryset=Bulletin.objects.select_related("live_revision", "live_revision__rendition")
    )
    start_date = serializers.DateField(required=False, allow_null=True, default=None, validators=[check_date_range],
                                       help_text="Bắt buộc, trừ khi immediate (mặc định hôm nay).")
    end_date = serializers.DateField(required=False, allow_null=True, default=None, validators=[check_date_range])
    days_of_week = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6), required=False, default=list,
        help_text="0 = thứ Hai … 6 = Chủ nhật; trống = mọi ngày.",
    )
    slots = serializers.ListField(child=serializers.CharField(max_length=32), required=False, default=list)
    targets = TargetsSerializer()
    plays_per_slot = serializers.IntegerField(min_value=1, max_value=services.MAX_PLAYS_PER_SLOT, default=1)
    immediate = serializers.BooleanField(default=False)


class ScheduleSerializer(serializers.ModelSerializer):
    bulletin_title = serializers.CharField(source="bulletin.title", read_only=True)
    priority = serializers.CharField(source="bulletin.priority", read_only=True)
    status = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    cancelled_by = serializers.CharField(source="cancelled_by.username", read_only=True, default=None, allow_null=True)
    targets = TargetsSerializer(read_only=True)
    days_of_week = serializers.ListField(child=serializers.IntegerField(), read_only=True)
    slots = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Schedule
        fields = [
            "id", "bulletin", "bulletin_title", "priority", "start_date", "end_date", "days_of_week", "slots",
            "plays_per_slot", "targets", "immediate", "target_station_count", "status", "created_by",
            "created_at", "cancelled_at", "cancelled_by",
        ]
        read_only_fields = fields

    def get_status(self, obj: Schedule) -> str:
        return "cancelled" if obj.cancelled_at else "active"


class PlacementReasonSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=["slot_started", "slot_full", "slot_missing"],
        help_text="slot_started: khung giờ đã bắt đầu khi lên lịch; slot_full: không đủ thời lượng trong khung "
                  "giờ và các khung sau trong ngày; slot_missing: đài không có khung giờ này.")
    count = serializers.IntegerField(help_text="Số lượt phát chưa xếp vì lý do này.")
    message = serializers.CharField(help_text="Lý do, bằng tiếng Việt.")


class PlacementSerializer(serializers.Serializer):
    """What the playlist build does with the new schedule's plays (the builder's own planner)."""

    dates = serializers.ListField(
        child=serializers.DateField(),
        help_text="Ngày đã tính: các ngày của lịch trong số ngày đang dựng danh sách phát (hôm nay và "
                  "PLAYLIST_DAYS_AHEAD ngày tới); lịch bắt đầu muộn hơn: những ngày đầu của nó.")
    planned = serializers.IntegerField(help_text="Số lượt phát dự kiến (đài × ngày × khung × số lần) = placed + unplaced.")
    placed = serializers.IntegerField(help_text="Số lượt đã xếp được vào danh sách phát (gồm cả carried).")
    carried = serializers.IntegerField(help_text="Trong số placed: số lượt dời sang khung giờ sau vì khung yêu cầu đã đầy.")
    unplaced = serializers.IntegerField(help_text="Số lượt không xếp được (có trong danh sách phát với lý do, không gửi tới đài).")
    reasons = PlacementReasonSerializer(many=True, source="reason_list",
                                        help_text="Vì sao các lượt chưa xếp, theo lý do (nhiều nhất trước).")


class ScheduleCreatedSerializer(ScheduleSerializer):
    plan = PlacementSerializer(source="placement", read_only=True,
                               help_text="Kết quả xếp lịch. Lịch không xếp được lượt nào bị từ chối (400).")

    class Meta(ScheduleSerializer.Meta):
        fields = [*ScheduleSerializer.Meta.fields, "plan"]
        read_only_fields = fields


class SlotLoadSerializer(serializers.Serializer):
    date = serializers.DateField()
    slot = serializers.CharField(source="name")
    times = serializers.SerializerMethodField(help_text="Giờ của khung (HH:MM–HH:MM), một hoặc nhiều nếu các đài khác nhau.")
    station_slots = serializers.IntegerField(help_text="Số đài có khung giờ này trong ngày.")
    used_ms = serializers.IntegerField(help_text="Thời lượng đã dùng, cộng trên các đài (gồm khoảng nghỉ giữa các lượt).")
    capacity_ms = serializers.IntegerField(help_text="Độ dài khung, cộng trên các đài.")
    percent = serializers.IntegerField(help_text="used_ms / capacity_ms, phần trăm.")
    plays = serializers.IntegerField(help_text="Số lượt đã xếp vào khung (mọi lịch).")
    schedule_plays = serializers.IntegerField(help_text="Trong đó: lượt của lịch này.")
    overfull = serializers.IntegerField(help_text="Số đài có khung này bị quá thời lượng.")

    def get_times(self, obj: Any) -> list[str]:
        return [f"{start}–{end}" for start, end in sorted(obj.times)]


class PreviewPlacementSerializer(PlacementSerializer):
    fill = SlotLoadSerializer(many=True, source="fill_list", help_text="Độ đầy của từng khung giờ theo ngày.")


class SchedulePreviewSerializer(serializers.Serializer):
    """What saving would do (nothing is saved): the builder's planner run on the request."""

    station_count = serializers.IntegerField(help_text="Số đài đang hoạt động nhận lịch này.")
    plan = PreviewPlacementSerializer(source="placement")
    overfull_slots = serializers.IntegerField(help_text="Số khung giờ (ngày × khung) có đài bị quá thời lượng.")
    refused = serializers.CharField(help_text="Khác rỗng: lý do việc lưu sẽ bị từ chối (không xếp được lượt nào).")


class ScheduleEditSerializer(ScheduleCreateSerializer):
    """An edit: the schedule's bulletin and kind (immediate or not) stay; everything else is given again."""

    bulletin = None
    immediate = None


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except services.ScheduleConflict as exc:
        raise Conflict(str(exc)) from None
    except services.ScheduleValidationError as exc:
        raise exceptions.ValidationError(exc.errors) from None


def _edit_fields(v: dict[str, Any]) -> dict[str, Any]:
    return {"start_date": v["start_date"], "end_date": v["end_date"], "slots": v["slots"],
            "targets": dict(v["targets"]), "days_of_week": v["days_of_week"], "plays_per_slot": v["plays_per_slot"]}


class ScheduleFilter(django_filters.FilterSet):
    bulletin = IdFilter(field_name="bulletin_id")
    date = django_filters.DateFilter(method="filter_date", label="Ngày phát (YYYY-MM-DD)")
    active = django_filters.BooleanFilter(field_name="cancelled_at", lookup_expr="isnull")

    class Meta:
        model = Schedule
        fields = ["bulletin", "date", "active"]

    def filter_date(self, queryset: Any, name: str, value: dt.date) -> Any:
        check_date_range(value, name)
        return queryset.filter(start_date__lte=value, end_date__gte=value)


class ScheduleListCreate(generics.ListAPIView):
    """GET: schedules (filter by bulletin, date, active). POST: schedule an approved bulletin."""

    may_conflict = True  # OpenAPI: writes document 409 (broadcast/api/openapi.py)
    serializer_class = ScheduleSerializer
    filterset_class = ScheduleFilter
    ordering_fields = ["created_at", "start_date"]

    def get_permissions(self) -> list[Any]:
        return [CAN_SCHEDULE()] if self.request.method == "POST" else [CAN_READ()]

    @extend_schema(parameters=[
        OpenApiParameter("district", OpenApiTypes.STR, description=(
            "Mã quận/huyện (bản đồ trước 01/07/2025): chỉ các lịch đến được các đài của quận/huyện đó. "
            "Ngoài phạm vi được xem: 404.")),
        OpenApiParameter("unit", OpenApiTypes.STR, description=(
            "Mã xã/phường của bản đồ hai cấp (từ 01/07/2025): chỉ các lịch đến được đơn vị đó (nêu tên "
            "đơn vị, hoặc một đài, quận/huyện hay loại đài của nó). Ngoài phạm vi được xem: 404; "
            "không dùng cùng district (400).")),
    ])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        # Operators: only schedules reaching their district or units; anyone may narrow with ?district=
        # or ?unit= within what they see.
        scope = request_scope(self.request.user, self.request.query_params)
        return schedules_reaching(selectors.schedule_list(), scope).order_by("-created_at", "-id")

    @extend_schema(request=ScheduleCreateSerializer, responses={201: ScheduleCreatedSerializer})
    def post(self, request: Request) -> Response:
        data = ScheduleCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        schedule = _call(services.create_schedule, v["bulletin"], by=request.user, immediate=v["immediate"],
                         **_edit_fields(v))
        return Response(ScheduleCreatedSerializer(schedule).data, status=status.HTTP_201_CREATED)


class SchedulePreview(generics.GenericAPIView):
    """What POST /schedules/ would do with this body, without saving anything: stations reached, plays
    placed, carried and unplaced (why), and how full each slot gets, by the builder's own planner."""

    may_conflict = True
    serializer_class = SchedulePreviewSerializer
    permission_classes = [CAN_SCHEDULE]
    filter_backends: list = []
    pagination_class = None

    @extend_schema(request=ScheduleCreateSerializer, responses={200: SchedulePreviewSerializer})
    def post(self, request: Request) -> Response:
        data = ScheduleCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        preview = _call(services.preview_schedule, v["bulletin"], by=request.user, immediate=v["immediate"],
                        **_edit_fields(v))
        return Response(SchedulePreviewSerializer(preview).data)


class ScheduleEditPreview(generics.GenericAPIView):
    """What PATCH /schedules/<id>/ would do with this body, without saving anything."""

    may_conflict = True
    serializer_class = SchedulePreviewSerializer
    permission_classes = [CAN_CANCEL]
    filter_backends: list = []
    pagination_class = None

    def get_queryset(self) -> Any:
        return selectors.schedule_list()

    @extend_schema(operation_id="v1_schedules_edit_preview", request=ScheduleEditSerializer,
                   responses={200: SchedulePreviewSerializer})
    def post(self, request: Request, pk: int) -> Response:
        schedule = self.get_object()
        data = ScheduleEditSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        preview = _call(services.preview_update, schedule, **_edit_fields(data.validated_data))
        return Response(SchedulePreviewSerializer(preview).data)


class ScheduleDetail(generics.RetrieveAPIView):
    """GET a schedule; PATCH edits it (dates, days, slots, plays per slot, targets: all given again; the
    stations it reached before or reaches now rebuild, plays in slots that have started stay); DELETE
    cancels it (plays in slots still to come are removed, past ones stay)."""

    may_conflict = True
    serializer_class = ScheduleSerializer

    def get_permissions(self) -> list[Any]:
        return [CAN_CANCEL()] if self.request.method in ("DELETE", "PATCH") else [CAN_READ()]

    @extend_schema(request=ScheduleEditSerializer, responses={200: ScheduleCreatedSerializer})
    def patch(self, request: Request, pk: int) -> Response:
        schedule = get_object_or_404(Schedule.objects.select_related("bulletin"), pk=pk)
        data = ScheduleEditSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        schedule = _call(services.update_schedule, schedule, **_edit_fields(data.validated_data))
        return Response(ScheduleCreatedSerializer(schedule).data)

    def get_queryset(self) -> Any:
        return schedules_reaching(selectors.schedule_list(), user_scope(self.request.user))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        schedule = get_object_or_404(Schedule, pk=pk)
        try:
            services.cancel_schedule(schedule, request.user)
        except services.ScheduleConflict as exc:
            raise Conflict(str(exc)) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class StaffBulletinRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="bulletin_id")
    title = serializers.CharField(source="revision.title")
    priority = serializers.CharField()


class StaffPlaylistItemSerializer(serializers.ModelSerializer):
    bulletin = StaffBulletinRefSerializer(source="*")
    revision = serializers.IntegerField(source="revision.number")
    placed = serializers.SerializerMethodField()

    class Meta:
        model = PlaylistItem
        fields = [
            "id", "key", "position", "placed", "slot", "requested_slot", "starts_at", "ends_at", "schedule",
            "bulletin", "revision", "sha256", "duration_ms", "unplaced_reason", "report_status",
        ]

    def get_placed(self, obj: PlaylistItem) -> bool:
        return obj.position is not None


class StaffPlaylistSerializer(serializers.ModelSerializer):
    station = serializers.CharField(source="station.code")
    station_name = serializers.CharField(source="station.name")
    district = serializers.CharField(source="station.district.code")
    items = serializers.SerializerMethodField()
    unplaced_count = serializers.SerializerMethodField()

    class Meta:
        model = Playlist
        fields = ["id", "station", "station_name", "district", "date", "version", "etag", "generated_at",
                  "unplaced_count", "items"]

    def _items(self, obj: Playlist) -> list[PlaylistItem]:
        # Placed items in order, then the unplaced ones (position is null), by key.
        return sorted(obj.items.all(), key=lambda i: (i.position is None, i.position or 0, i.key))

    @extend_schema_field(StaffPlaylistItemSerializer(many=True))
    def get_items(self, obj: Playlist) -> list[dict[str, Any]]:
        return StaffPlaylistItemSerializer(self._items(obj), many=True).data

    def get_unplaced_count(self, obj: Playlist) -> int:
        return sum(1 for i in obj.items.all() if i.position is None)


class PlaylistList(generics.ListAPIView):
    """What each station gets on a date (default today), unplaced items included with their reason."""

    serializer_class = StaffPlaylistSerializer
    permission_classes = [IsStaffReader]
    filter_backends: list = []

    @extend_schema(parameters=[
        OpenApiParameter("date", OpenApiTypes.DATE, description="YYYY-MM-DD (mặc định hôm nay)"),
        OpenApiParameter("station", OpenApiTypes.STR, description="Mã đài"),
    ])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        return selectors.staff_playlists(self.request.user, date=query_date(self.request.query_params),
                                         station_code=self.request.query_params.get("station") or None)


urlpatterns = [
    path("schedules/", ScheduleListCreate.as_view(), name="schedule-list"),
    path("schedules/preview/", SchedulePreview.as_view(), name="schedule-preview"),
    path("schedules/<int:pk>/", ScheduleDetail.as_view(), name="schedule-detail"),
    path("schedules/<int:pk>/preview/", ScheduleEditPreview.as_view(), name="schedule-edit-preview"),
    path("playlists/", PlaylistList.as_view(), name="playlist-list"),
]
