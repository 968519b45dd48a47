"""The printable monthly report (/dashboard/report/?month=YYYY-MM, optionally ?unit= or ?district=): the
month's figures per unit, the daily line, the bars per unit and the split by outcome, with a header the
department signs. Printed from the browser (A4 print stylesheet), no PDF library."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe

from broadcast.api.common import MAX_DATE, MIN_DATE
from broadcast.operations.charts import DayPoint, bar_chart, line_chart, split_chart
from broadcast.selectors import coverage as coverage_selectors
from broadcast.selectors.playlists import local_today
from stations.models import AdminUnit, map_in_force
from stations.selectors import user_scope

from .common import MAP_LABELS, asked_scope, filter_choices, reader_required, split_counts, unit_bars

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def asked_month(raw: str | None) -> tuple[dt.date, str]:
    """(first day of the month, error message or ""): this month when nothing is asked; the message
    when the month is malformed or out of range (and this month shown instead)."""
    this_month = local_today().replace(day=1)
    if not raw:
        return this_month, ""
    match = MONTH.match(raw.strip())
    if match:
        year, month = int(match[1]), int(match[2])
        if 1 <= month <= 12 and MIN_DATE.year <= year <= MAX_DATE.year:
            return dt.date(year, month, 1), ""
    return this_month, (f"Tháng «{raw[:20]}» không hợp lệ: hãy chọn tháng dạng NNNN-TT (ví dụ "
                        f"{this_month:%Y-%m}). Đang hiển thị tháng {this_month:%m/%Y}.")


@reader_required
def monthly_report(request: HttpRequest) -> HttpResponse:
    first, error = asked_month(request.GET.get("month"))
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    by_unit = map_in_force(first) == AdminUnit.Map.SINCE_2025
    param, code, narrowed, scope = asked_scope(request, by_unit)
    report, days = coverage_selectors.range_report_and_days(first, last, scope=scope)
    points = [DayPoint(d, c.coverage_pct, c.played, c.expected) for d, c in days]
    where = report.rows[0].name if narrowed is not None and len(report.rows) == 1 else (
        "Toàn thành phố" if user_scope(request.user).everything else "Địa bàn được giao")
    level = "xã/phường" if by_unit else "quận/huyện"
    context: dict[str, Any] = {
        "first": first, "last": last, "month_value": f"{first:%Y-%m}", "error": error,
        "department": settings.DEPARTMENT_NAME,
        "generated_at": timezone.localtime(), "generated_by": request.user.get_full_name() or request.user.username,
        "where": where, "report": report, "map_label": MAP_LABELS[report.map], "by_unit": by_unit,
        "filter_param": param, "filter_choices": filter_choices(request.user, by_unit), "selected": code,
        "sees_everything": user_scope(request.user).everything,
        "days": days,
        "line_svg": mark_safe(line_chart(points, title=f"Độ phủ theo ngày, tháng {first:%m/%Y}")),  # noqa: S308 (escaped by charts)
        "bars_svg": mark_safe(bar_chart(unit_bars(report.rows), key=param,  # noqa: S308
                                        title=f"Độ phủ theo {level}, tháng {first:%m/%Y}")),
        "split_svg": mark_safe(split_chart(split_counts(report.totals),  # noqa: S308
                                           title=f"Kết quả các lượt phát tháng {first:%m/%Y}")),
    }
    return render(request, "operations/coverage/report.html", context, status=400 if error else 200)
