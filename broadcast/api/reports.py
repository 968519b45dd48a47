"""Proof-of-play API: station reports and heartbeats; staff coverage and the play-log export.

Thin views: validation of the envelope and query parameters here, rules in services/selectors.
"""

from __future__ import annotations

import codecs
import csv
import json
import logging
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.http import StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from broadcast.http import ItemwiseJSONParser
from broadcast.selectors import coverage as coverage_selectors
from broadcast.selectors import play_log
from broadcast.selectors.playlists import playlist_versions
from broadcast.services import reports as report_services
from stations import health
from stations.agent.credentials import mqtt_username_ok
from stations.api import StationAPIView
from stations.auth import HasPerm
from stations.models import Station

from .common import query_date, query_id, request_scope

logger = logging.getLogger(__name__)
CoverageReader = HasPerm.of("broadcast.view_playbackreport")  # supervisors, operators (their district or units)
MAX_EXPORT_DAYS = 366


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Lô báo cáo quá lớn."
    default_code = "payload_too_large"


# ---------------------------------------------------------------- station-facing


class ReportItemSerializer(serializers.Serializer):
    report_id = serializers.CharField(max_length=64)
    playlist_item = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["played", "failed", "skipped", "interrupted"])
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(required=False, allow_null=True)
    error = serializers.CharField(required=False, allow_blank=True)


class ReportBatchSerializer(serializers.Serializer):
    reports = ReportItemSerializer(many=True)


class ReportBatchResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = inline_serializer(
        "RejectedReport",
        {"index": serializers.IntegerField(), "report_id": serializers.CharField(allow_null=True),
         "errors": serializers.DictField(child=serializers.ListField(child=serializers.CharField()))},
        many=True,
    )


class StationReports(StationAPIView):
    """A station uploads up to REPORTS_MAX_BATCH playback reports; valid ones are kept, others listed."""

    parser_classes = [ItemwiseJSONParser]

    @extend_schema(request=ReportBatchSerializer, responses={200: ReportBatchResultSerializer})
    def post(self, request: Request) -> Response:
        data = request.data
        if not isinstance(data, dict) or "reports" not in data:
            raise exceptions.ValidationError({"reports": ["Cần trường reports: danh sách các báo cáo."]})
        try:
            result = report_services.ingest_reports(request.user.station, data["reports"])
        except report_services.BatchError as exc:
            raise exceptions.ValidationError(exc.errors) from None
        except report_services.BatchTooLarge as exc:
            raise PayloadTooLarge(str(exc)) from None
        return Response(result.as_dict())


class HeartbeatSerializer(serializers.Serializer):
    agent_version = serializers.CharField(max_length=64, error_messages={"required": "Cần phiên bản thiết bị."})
    playlist_version = serializers.IntegerField(required=False, min_value=0, max_value=2**63 - 1, allow_null=True)
    state = serializers.JSONField(required=False)
    disk_free_mb = serializers.FloatField(required=False, min_value=0, allow_null=True)
    volume = serializers.FloatField(required=False, min_value=0, allow_null=True)

    def validate_state(self, value: Any) -> Any:
        # Stored on the station row and read by every dashboard query: a few KB at most.
        limit = settings.STATION_HEARTBEAT_STATE_MAX_BYTES
        if len(json.dumps(value, ensure_ascii=False).encode()) > limit:
            raise serializers.ValidationError(f"Trạng thái thiết bị quá lớn (tối đa {limit // 1024} KB).")
        return value


class HeartbeatReplySerializer(serializers.Serializer):
    server_time = serializers.DateTimeField()
    playlist_versions = serializers.DictField(child=serializers.IntegerField())
    push = inline_serializer("PushAddress", {
        "url": serializers.CharField(help_text="mqtt://máy:cổng hoặc mqtts://…"),
        "username": serializers.CharField(help_text="tên đăng nhập MQTT của đài (mã đài)"),
        "prefix": serializers.CharField(help_text="tiền tố chủ đề: <prefix>/st/<mã đài>/cmd"),
    }, required=False, help_text="Chỉ có khi máy chủ bật đẩy tin MQTT; không có thì đài chỉ hỏi định kỳ.")


def push_address(station: Station) -> dict[str, str] | None:
    """Where the station's doorbell rings, when the server has a broker for stations."""
    if not settings.MQTT_PUBLIC_URL or not mqtt_username_ok(station.code):
        return None
    return {"url": settings.MQTT_PUBLIC_URL, "username": station.code, "prefix": settings.MQTT_TOPIC_PREFIX}


class StationHeartbeat(StationAPIView):
    """A station says it is alive; the reply lists the playlist versions it should hold."""

    @extend_schema(request=HeartbeatSerializer, responses={200: HeartbeatReplySerializer})
    def post(self, request: Request) -> Response:
        serializer = HeartbeatSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        agent_version = data.pop("agent_version")
        state = {k: v for k, v in data.items() if v is not None}
        now = timezone.now()
        station = request.user.station
        health.record_heartbeat(station, agent_version=agent_version, state=state, now=now)
        reply = {"server_time": timezone.localtime(now).isoformat(), "playlist_versions": playlist_versions(station)}
        if (push := push_address(station)) is not None:
            reply["push"] = push
        return Response(reply)


# ---------------------------------------------------------------- staff: coverage


def count_fields() -> dict[str, serializers.Field]:
    """Fresh fields each time: DRF's serializer metaclass pops the fields out of the dict it is given,
    so one shared dict left every component after the first without its counts."""
    return {
        "expected": serializers.IntegerField(), "played": serializers.IntegerField(),
        "failed": serializers.IntegerField(), "missed": serializers.IntegerField(),
        "pending": serializers.IntegerField(), "coverage_pct": serializers.FloatField(allow_null=True),
        "played_of_expected": serializers.CharField(help_text='Đã phát / kế hoạch, ví dụ "1 / 556"'),
    }


def coverage_schema() -> PolymorphicProxySerializer:
    """The two shapes of a day's coverage: by district (days before 1 July 2025) or by commune-level
    unit of the two-level map (days since), told apart by `grouping`."""
    totals = type(inline_serializer("CoverageTotals", count_fields()))  # one component for both shapes

    def shape(name: str, grouping: str, the_map: str, key: str, row: str, row_help: str) -> serializers.Serializer:
        return inline_serializer(name, {
            "date": serializers.DateField(),
            "map": serializers.ChoiceField(choices=[the_map], help_text="Bản đồ hành chính áp dụng cho ngày này"),
            "grouping": serializers.ChoiceField(choices=[grouping]),
            "totals": totals(),
            key: inline_serializer(row, {
                "code": serializers.CharField(help_text=row_help), "name": serializers.CharField(),
                **count_fields(), "silent_stations": serializers.IntegerField()}, many=True),
        })

    return PolymorphicProxySerializer(
        component_name="Coverage",
        serializers={
            "district": shape("CoverageByDistrict", "district", "before_2025", "districts", "DistrictCoverage",
                              "Mã quận/huyện"),
            "unit": shape("CoverageByUnit", "unit", "since_2025", "units", "UnitCoverage",
                          'Mã xã/phường (bản đồ từ 01/07/2025); "" cho các lượt của đài chưa gán xã/phường'),
        },
        resource_type_field_name="grouping",
    )


class CoverageView(APIView):
    permission_classes = [CoverageReader]

    @extend_schema(
        parameters=[
            OpenApiParameter("date", OpenApiTypes.DATE, description=(
                "Ngày (mặc định hôm nay). Trước 01/07/2025: theo quận/huyện; từ 01/07/2025: theo xã/phường")),
            OpenApiParameter("district", OpenApiTypes.STR, description="Mã quận/huyện (bản đồ trước 01/07/2025)"),
            OpenApiParameter("unit", OpenApiTypes.STR, description="Mã xã/phường (bản đồ từ 01/07/2025)"),
            OpenApiParameter("bulletin", OpenApiTypes.INT, description="Mã bản tin"),
        ],
        responses={200: coverage_schema()},
    )
    def get(self, request: Request) -> Response:
        day = query_date(request.query_params)
        scope = request_scope(request.user, request.query_params)
        report = coverage_selectors.coverage_report(
            day, scope=scope, bulletin_id=query_id(request.query_params, "bulletin")
        )
        return Response(report.as_dict())


class StationCoverageView(APIView):
    permission_classes = [CoverageReader]

    @extend_schema(
        parameters=[
            OpenApiParameter("date", OpenApiTypes.DATE, description="Ngày (mặc định hôm nay)"),
            OpenApiParameter("district", OpenApiTypes.STR, description="Mã quận/huyện (bản đồ trước 01/07/2025)"),
            OpenApiParameter("unit", OpenApiTypes.STR, description="Mã xã/phường (bản đồ từ 01/07/2025)"),
            OpenApiParameter("status", OpenApiTypes.STR, enum=Station.Status.values,
                             description="Trạng thái liên lạc của đài"),
            OpenApiParameter("bulletin", OpenApiTypes.INT, description="Mã bản tin"),
            OpenApiParameter("page", OpenApiTypes.INT),
        ],
        responses={200: inline_serializer("PaginatedStationCoverage", {
            "count": serializers.IntegerField(), "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": inline_serializer("StationCoverage", {
                "code": serializers.CharField(), "name": serializers.CharField(),
                "district": serializers.CharField(), "district_name": serializers.CharField(),
                "unit": serializers.CharField(allow_null=True, help_text=(
                    "Mã xã/phường (bản đồ từ 01/07/2025) mà danh sách phát ngày đó được lập theo; "
                    "không có danh sách phát: nơi đài đứng hiện nay; null: chưa gán")),
                "unit_name": serializers.CharField(allow_null=True),
                "status": serializers.CharField(), "last_seen_at": serializers.DateTimeField(allow_null=True),
                **count_fields()}, many=True),
        })},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        day = query_date(params)
        scope = request_scope(request.user, params)
        stations = coverage_selectors.stations_in_coverage(day, Station.objects.all(), scope=scope)
        wanted = params.get("status")
        if wanted:
            if wanted not in Station.Status.values:
                raise exceptions.ValidationError(
                    {"status": [f"Trạng thái không hợp lệ (một trong: {', '.join(Station.Status.values)})."]}
                )
            stations = stations.filter(status=wanted)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            stations.select_related("district", "unit").order_by("district__code", "code"), request, view=self)
        counts = coverage_selectors.coverage_by_station(day, page, bulletin_id=query_id(params, "bulletin"))
        places = coverage_selectors.station_places(day, page)
        rows = [
            {"code": s.code, "name": s.name, **places[s.pk].as_dict(),
             "status": s.status, "last_seen_at": s.last_seen_at, **counts[s.pk].as_dict()}
            for s in page
        ]
        return paginator.get_paginated_response(rows)


class _Echo:
    def write(self, value: str) -> str:
        return value


EXPORT_INCOMPLETE = ("LỖI: xuất nhật ký bị gián đoạn do lỗi máy chủ, tệp này KHÔNG đầy đủ. "
                     "Vui lòng xuất lại hoặc báo quản trị viên.")
CSV_SEPARATORS = {"comma": ",", "semicolon": ";"}
# A cell starting with one of these is a formula to Excel/LibreOffice (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def excel_cell(value: str, *, code: bool = False) -> str:
    """A cell Excel shows as written: an all-digit code as the text formula ="00001" (keeps its leading
    zeros, never scientific notation), anything else starting like a formula behind an apostrophe."""
    if code and value.isascii() and value.isdigit():
        return f'="{value}"'
    if value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def stream_csv(rows: Iterator[list[str]], header: list[str], *, delimiter: str = ",",
               code_columns: frozenset[str] = frozenset()) -> Iterator[bytes]:
    """UTF-8 with a BOM (so Excel reads Vietnamese), one encoded line at a time, every cell Excel-safe.

    The status line is long gone when a row fails, so a failure is written as a last row saying the
    file is incomplete: an export never ends silently short.
    """
    writer = csv.writer(_Echo(), delimiter=delimiter)
    codes = [name in code_columns for name in header]
    yield codecs.BOM_UTF8
    yield writer.writerow(header).encode()
    try:
        for row in rows:
            yield writer.writerow([excel_cell(v, code=c) for v, c in zip(row, codes, strict=True)]).encode()
    except Exception:
        logger.exception("play-log export interrupted")
        yield writer.writerow([EXPORT_INCOMPLETE]).encode()


class CSVRenderer(BaseRenderer):
    """Lets `Accept: text/csv` through content negotiation; errors are still written as JSON."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return json.dumps(data, ensure_ascii=False).encode()


class PlayLogExport(APIView):
    """The legal play log as CSV, streamed: every planned play with its outcome, and every report."""

    permission_classes = [CoverageReader]
    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="Từ ngày (mặc định hôm nay)"),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Đến ngày (mặc định bằng từ ngày)"),
            OpenApiParameter("district", OpenApiTypes.STR, description="Mã quận/huyện (bản đồ trước 01/07/2025)"),
            OpenApiParameter("unit", OpenApiTypes.STR, description="Mã xã/phường (bản đồ từ 01/07/2025)"),
            OpenApiParameter("sep", OpenApiTypes.STR, enum=list(CSV_SEPARATORS),
                             description="Dấu phân cách: comma (mặc định) hoặc semicolon (Excel cài đặt vùng Việt Nam)"),
        ],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        params = request.query_params
        date_from = query_date(params, "from")
        date_to = query_date(params, "to", date_from)
        if date_to < date_from:
            raise exceptions.ValidationError({"to": ["Ngày kết thúc phải không trước ngày bắt đầu."]})
        if (date_to - date_from).days >= MAX_EXPORT_DAYS:
            raise exceptions.ValidationError({"to": [f"Chỉ xuất tối đa {MAX_EXPORT_DAYS} ngày mỗi lần."]})
        sep = params.get("sep") or "comma"
        if sep not in CSV_SEPARATORS:
            raise exceptions.ValidationError({"sep": ["Dấu phân cách phải là comma (dấu phẩy) hoặc semicolon (dấu chấm phẩy)."]})
        rows = play_log.play_log_rows(date_from, date_to, scope=request_scope(request.user, params))
        response = StreamingHttpResponse(
            stream_csv(rows, play_log.PLAY_LOG_COLUMNS, delimiter=CSV_SEPARATORS[sep],
                       code_columns=play_log.CODE_COLUMNS),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="nhat-ky-phat-{date_from}-{date_to}.csv"'
        return response


urlpatterns = [
    path("station/reports/", StationReports.as_view(), name="station-reports"),
    path("station/heartbeat/", StationHeartbeat.as_view(), name="station-heartbeat"),
    path("coverage/", CoverageView.as_view(), name="coverage"),
    path("coverage/stations/", StationCoverageView.as_view(), name="coverage-stations"),
    path("reports/export.csv", PlayLogExport.as_view(), name="reports-export"),
]
