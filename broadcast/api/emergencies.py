"""Staff follow an emergency through the API: its confirmation counts and its stations in one state, a
page at a time, scoped like the live page (an operator sees their stations; any other emergency is 404).

Thin view: the reads are broadcast/selectors/emergency.py, the same as the live page's.
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

from broadcast.models import Schedule
from broadcast.selectors import emergency as selectors
from stations.auth import HasPerm
from stations.models import Station
from stations.selectors import Scope, user_scope

# Whoever may read coverage (supervisors, district and commune operators) may follow an emergency.
EmergencyReader = HasPerm.of("broadcast.view_playbackreport")
STATES = list(selectors.STATE_LABELS)
STATE_HELP = ("Chỉ các đài có kết quả: to_call (chưa phát xong: cần gọi điện, theo thứ tự nên gọi), "
              "confirmed (đã phát), trouble (bắt đầu/lỗi), waiting (chưa xác nhận); bỏ trống: mọi đài")


def answer_schema() -> serializers.Serializer:
    return inline_serializer("Emergency", {
        "id": serializers.IntegerField(help_text="Mã lịch phát ngay (lần phát khẩn cấp)"),
        "bulletin": serializers.IntegerField(), "title": serializers.CharField(),
        "created_at": serializers.DateTimeField(), "cancelled_at": serializers.DateTimeField(allow_null=True),
        "finished": serializers.BooleanField(help_text=(
            "Không còn gì để chờ: mọi đài đã xác nhận, đã hủy, hoặc đã qua ngày phát")),
        "whole": serializers.BooleanField(help_text="false: chỉ các đài thuộc địa bàn của người xem"),
        "counts": inline_serializer("EmergencyCounts", {
            "targeted": serializers.IntegerField(help_text="Số đài nhận"),
            "delivered": serializers.IntegerField(help_text="Số đài đã có lượt phát trong danh sách phát"),
            "confirmed": serializers.IntegerField(), "trouble": serializers.IntegerField(),
            "waiting": serializers.IntegerField(), "percent": serializers.IntegerField()}),
        "state": serializers.CharField(help_text="Trạng thái đã lọc; rỗng: mọi đài"),
        "count": serializers.IntegerField(help_text="Số đài trong danh sách (mọi trang)"),
        "next": serializers.URLField(allow_null=True), "previous": serializers.URLField(allow_null=True),
        "results": inline_serializer("EmergencyStation", {
            "code": serializers.CharField(), "name": serializers.CharField(), "place": serializers.CharField(),
            "status": serializers.ChoiceField(choices=Station.Status.values,
                                              help_text="Trạng thái liên lạc của đài"),
            "last_seen_at": serializers.DateTimeField(allow_null=True),
            "outcome": serializers.ChoiceField(choices=[selectors.CONFIRMED, selectors.TROUBLE,
                                                        selectors.WAITING]),
            "report_status": serializers.CharField(help_text="played, failed, interrupted, skipped; rỗng: chưa báo"),
            "reported_at": serializers.DateTimeField(allow_null=True),
            "contact_name": serializers.CharField(), "contact_phone": serializers.CharField(),
            "push_state": serializers.CharField(help_text=(
                "Chuông báo MQTT: pending, sent, received, downloaded, started, completed, failed, "
                "interrupted; rỗng: chưa gửi")),
            "push_unreachable": serializers.BooleanField(help_text="Không báo đã nhận sau thời hạn: cần gọi điện"),
        }, many=True),
    })


def visible_or_404(request: Request, pk: int) -> tuple[Schedule, Scope]:
    """The emergency and the viewer's scope; 404 for an emergency the viewer may not see (see
    selectors.visible_emergency), so nothing tells an operator another area's emergency exists."""
    scope = user_scope(request.user)
    schedule = selectors.visible_emergency(pk, scope)
    if schedule is None:
        raise exceptions.NotFound("Không tìm thấy lần phát khẩn cấp này.")
    return schedule, scope


class EmergencyView(APIView):
    permission_classes = [EmergencyReader]

    @extend_schema(
        parameters=[
            OpenApiParameter("state", OpenApiTypes.STR, enum=STATES, description=STATE_HELP),
            OpenApiParameter("page", OpenApiTypes.INT),
        ],
        responses={200: answer_schema()},
    )
    def get(self, request: Request, pk: int) -> Response:
        schedule, scope = visible_or_404(request, pk)
        state = request.query_params.get("state") or ""
        if state and state not in selectors.STATE_LABELS:
            raise exceptions.ValidationError({"state": [f"Trạng thái không hợp lệ (một trong: {', '.join(STATES)})."]})
        counts = selectors.counts(schedule, scope)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(selectors.station_items(schedule, scope, state), request, view=self)
        return Response({
            "id": schedule.pk, "bulletin": schedule.bulletin_id,
            "title": schedule.bulletin.live_revision.title if schedule.bulletin.live_revision else schedule.bulletin.title,
            "created_at": schedule.created_at, "cancelled_at": schedule.cancelled_at,
            "finished": selectors.is_finished(schedule, counts), "whole": scope.everything,
            "counts": {"targeted": counts.targeted, "delivered": counts.delivered, "confirmed": counts.confirmed,
                       "trouble": counts.trouble, "waiting": counts.waiting, "percent": counts.percent},
            "state": state, "count": paginator.page.paginator.count,
            "next": paginator.get_next_link(), "previous": paginator.get_previous_link(),
            "results": [{
                "code": r.code, "name": r.name, "place": r.place, "status": r.status, "last_seen_at": r.last_seen_at,
                "outcome": r.outcome, "report_status": r.report_status, "reported_at": r.reported_at,
                "contact_name": r.contact_name, "contact_phone": r.contact_phone,
                "push_state": r.push_state, "push_unreachable": r.push_unreachable,
            } for r in selectors.rows(page)],
        })


urlpatterns = [
    path("emergencies/<int:pk>/", EmergencyView.as_view(), name="emergency-detail"),
]
