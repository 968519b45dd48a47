"""The dashboard: a day's coverage of the user's scope with its charts (30-day line, bars per unit,
split by outcome) and the table they draw; `?unit=` (or `?district=` before 1 July 2025) drills down to
that unit's stations, each linked to its station page."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any
from urllib.parse import quote, urlencode

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.safestring import mark_safe

from broadcast.operations.charts import Bar, DayPoint, bar_chart, line_chart, split_chart
from broadcast.selectors import coverage as coverage_selectors
from stations.models import AdminUnit, map_in_force
from stations.selectors import user_scope, visible_stations

from .common import (
    MAP_LABELS,
    asked_day,
    asked_scope,
    filter_choices,
    reader_required,
    sort_links,
    sort_order,
    sorted_bars,
    split_counts,
    unit_bars,
)

LINE_DAYS = 30


def station_href(code: str, day: dt.date) -> str:
    return f"/operations/stations/{quote(code)}/?date={day.isoformat()}"


def export_links(day: dt.date, param: str, code: str) -> dict[str, str]:
    """The play log (CSV, the API's export: it takes the signed-in session and the same scope) of the
    day and of its month, and the printable report of the month."""
    first = day.replace(day=1)
    last = day.replace(day=calendar.monthrange(day.year, day.month)[1])
    narrowing = {param: code} if code else {}
    return {
        "day_csv": "/api/v1/reports/export.csv?" + urlencode({"from": day, "to": day, **narrowing}),
        "month_csv": "/api/v1/reports/export.csv?" + urlencode({"from": first, "to": last, **narrowing}),
        "month_report": "/dashboard/report/?" + urlencode({"month": f"{day:%Y-%m}", **narrowing}),
    }


def _station_bars(day: dt.date, scope: Any, user: Any) -> list[Bar]:
    stations = coverage_selectors.stations_in_coverage(day, visible_stations(user), scope=scope).order_by("code")
    stations = list(stations.select_related(None).only("pk", "code", "name"))
    counts = coverage_selectors.coverage_by_station(day, stations)
    return [Bar(s.code, s.name, counts[s.pk].coverage_pct, counts[s.pk].played, counts[s.pk].expected,
                counts[s.pk].pending, station_href(s.code, day)) for s in stations]


@reader_required
def overview(request: HttpRequest) -> HttpResponse:
    day = asked_day(request)
    by_unit = map_in_force(day) == AdminUnit.Map.SINCE_2025
    param, code, narrowed, scope = asked_scope(request, by_unit)
    report = coverage_selectors.coverage_report(day, scope=scope)
    stations = visible_stations(request.user).filter(scope.q())
    attention = coverage_selectors.stations_needing_attention(stations)
    sort, order = sort_order(request)
    base = {"date": day.isoformat(), param: code}
    if narrowed is not None:
        # Drill-down: the unit's stations, each to its station page.
        bars = _station_bars(day, scope, request.user)
        bars_key, bars_title = "station", f"Độ phủ theo đài: {report.rows[0].name if len(report.rows) == 1 else code}"
    else:
        bars = unit_bars(report.rows, lambda row: "?" + urlencode({"date": day.isoformat(), param: row.code}))
        bars_key = param
        bars_title = "Độ phủ theo xã/phường" if by_unit else "Độ phủ theo quận/huyện"
    bars = sorted_bars(bars, sort, order)
    days = coverage_selectors.last_days(day, LINE_DAYS, scope=scope)
    points = [DayPoint(d, c.coverage_pct, c.played, c.expected) for d, c in days]
    context: dict[str, Any] = {
        "day": day, "prev_day": day - dt.timedelta(days=1), "next_day": day + dt.timedelta(days=1),
        "report": report, "attention": attention,
        "status_counts": coverage_selectors.status_counts(stations),
        "map_label": MAP_LABELS[report.map], "by_unit": by_unit, "filter_param": param,
        "filter_choices": filter_choices(request.user, by_unit),
        "selected": code, "drilled": narrowed is not None, "bars_title": bars_title,
        "station_rows": bars if narrowed is not None else [],
        "sees_everything": user_scope(request.user).everything,
        "line_svg": mark_safe(line_chart(points, title=f"Độ phủ theo ngày, {LINE_DAYS} ngày đến {day:%d/%m/%Y}")),  # noqa: S308 (escaped by charts)
        "bars_svg": mark_safe(bar_chart(bars, title=bars_title, key=bars_key)),  # noqa: S308
        "split_svg": mark_safe(split_chart(split_counts(report.totals),  # noqa: S308
                                           title=f"Kết quả các lượt phát ngày {day:%d/%m/%Y}")),
        "sort_links": sort_links(base, sort, order), "exports": export_links(day, param, code),
    }
    return render(request, "operations/coverage/overview.html", context)


@reader_required
def station_redirect(request: HttpRequest, code: str) -> HttpResponse:
    """Old links to a station's day: to the station page, the same day; a station outside the user's
    scope is a 404 here as there."""
    if not visible_stations(request.user).filter(code=code).exists():
        raise Http404("Không tìm thấy đài.")
    day = asked_day(request)
    return HttpResponseRedirect(station_href(code, day))

