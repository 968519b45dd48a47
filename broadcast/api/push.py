"""Push delivery over HTTP: a station's acknowledgements from its report queue, and staff following (and
re-ringing) an emergency's deliveries per station.

Thin views: parsing and storing in broadcast/services/push, reads in broadcast/selectors/push.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from broadcast.http import ItemwiseJSONParser
from broadcast.models import EmergencyDelivery
from broadcast.push.messages import ACK_STATES, AckError
from broadcast.selectors import push as selectors
from broadcast.services import push as services
from stations.api import StationAPIView
from stations.auth import HasPerm

from .emergencies import EmergencyReader, visible_or_404
from .reports import PayloadTooLarge

Resender = HasPerm.of("broadcast.add_schedule")  # whoever may send an emergency may ring it again
STATES = list(selectors.DELIVERY_STATE_LABELS)


class AckSerializer(serializers.Serializer):
    command = serializers.CharField(required=False, help_text="Mã lệnh, ví dụ em-123")
    schedule = serializers.IntegerField(help_text="Mã lịch phát khẩn cấp")
    state = serializers.ChoiceField(choices=list(ACK_STATES))
    at = serializers.DateTimeField()
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class AckBatchResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = inline_serializer("RejectedAck", {
        "index": serializers.IntegerField(),
        "errors": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
    }, many=True)


class StationAcks(StationAPIView):
    """A station's acknowledgements of emergencies (the same ones it sends over MQTT), up to 500 at once;
    valid ones are kept, others listed; sending the same one again changes nothing."""

    parser_classes = [ItemwiseJSONParser]

    @extend_schema(request=inline_serializer("AckBatch", {"acks": AckSerializer(many=True)}),
                   responses={200: AckBatchResultSerializer})
    def post(self, request: Request) -> Response:
        data = request.data
        if not isinstance(data, dict) or "acks" not in data:
            raise exceptions.ValidationError({"acks": ["Cần trường acks: danh sách các xác nhận."]})
        try:
            result = services.ingest_acks(request.user.station, data["acks"])
        except AckError as exc:
            raise exceptions.ValidationError(exc.errors) from None
        except services.AckBatchTooLarge as exc:
            raise PayloadTooLarge(str(exc)) from None
        return Response(result.as_dict())


def _delivery_row(row: EmergencyDelivery) -> dict:
    return {
        "code": row.station.code, "name": row.station.name, "state": row.state,
        "state_label": row.get_state_display(), "unreachable": row.unreachable_at is not None,
        "attempts": row.attempts, "first_sent_at": row.first_sent_at, "last_sent_at": row.last_sent_at,
        "received_at": row.received_at, "downloaded_at": row.downloaded_at, "started_at": row.started_at,
        "ended_at": row.ended_at, "reason": row.reason, "unreachable_at": row.unreachable_at,
        "contact_phone": row.station.contact_phone,
    }


class EmergencyDeliveries(APIView):
    """Per station, how far the emergency got: rung (and how often), received, downloaded, started, ended;
    the counts per state on every page. An operator sees their stations only."""

    permission_classes = [EmergencyReader]

    @extend_schema(
        parameters=[OpenApiParameter("state", OpenApiTypes.STR, enum=STATES,
                                     description="Chỉ các đài ở trạng thái này; bỏ trống: mọi đài"),
                    OpenApiParameter("page", OpenApiTypes.INT)],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, pk: int) -> Response:
        schedule, scope = visible_or_404(request, pk)
        state = request.query_params.get("state") or ""
        if state and state not in selectors.DELIVERY_FILTERS:
            raise exceptions.ValidationError({"state": [f"Trạng thái không hợp lệ (một trong: {', '.join(STATES)})."]})
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(selectors.deliveries(schedule.pk, scope, state), request,
                                           view=self)
        return Response({
            "id": schedule.pk, "cancelled_at": schedule.cancelled_at,
            "counts": selectors.delivery_counts(schedule.pk, scope),
            "state": state, "count": paginator.page.paginator.count,
            "next": paginator.get_next_link(), "previous": paginator.get_previous_link(),
            "results": [_delivery_row(row) for row in page],
        })


class ResendEmergency(APIView):
    """Rings again, now, the stations that have not acknowledged "received" (all, or the codes given)."""

    permission_classes = [Resender]

    @extend_schema(request=inline_serializer("Resend", {
        "stations": serializers.ListField(child=serializers.CharField(), required=False,
                                          help_text="Mã các đài; bỏ trống: mọi đài chưa nhận")}),
        responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, pk: int) -> Response:
        schedule, _ = visible_or_404(request, pk)
        if schedule.cancelled_at is not None:
            raise exceptions.ValidationError({"schedule": ["Lần phát khẩn cấp này đã hủy."]})
        codes = request.data.get("stations") if isinstance(request.data, dict) else None
        station_ids = None
        if codes is not None:
            if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                raise exceptions.ValidationError({"stations": ["Cần danh sách mã đài."]})
            station_ids = list(EmergencyDelivery.objects.filter(schedule=schedule, station__code__in=codes)
                               .values_list("station_id", flat=True))
        stats = services.resend(schedule.pk, station_ids, by=request.user.get_username())
        return Response({"rung": stats.deliveries, "published": stats.published, "failed": stats.failed,
                         "error": stats.error})


urlpatterns = [
    path("station/acks/", StationAcks.as_view(), name="station-acks"),
    path("emergencies/<int:pk>/deliveries/", EmergencyDeliveries.as_view(), name="emergency-deliveries"),
    path("emergencies/<int:pk>/deliveries/resend/", ResendEmergency.as_view(), name="emergency-resend"),
]
