"""The week view: for a commune-level unit or a station, seven days × slots — planned plays, how full
each slot is, unplaced plays, emergencies. Supervisors see everything; district and commune operators
their area (anything else: 404)."""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from broadcast.newsroom.access import role_required
from broadcast.selectors import week as selectors
from broadcast.selectors.playlists import local_today
from stations import roles
from stations.selectors import narrowed_scope, user_scope, visible_stations

WEEK_ROLES = (roles.SUPERVISOR, roles.DISTRICT_OPERATOR, roles.COMMUNE_OPERATOR)


def _start(value: str | None) -> tuple[dt.date, str]:
    if not value:
        return selectors.monday_of(local_today()), ""
    try:
        return selectors.monday_of(dt.date.fromisoformat(value)), ""
    except ValueError:
        return selectors.monday_of(local_today()), "Ngày không hợp lệ (định dạng YYYY-MM-DD): hiện tuần này."


@role_required(*WEEK_ROLES)
@require_GET
def week_view(request: HttpRequest) -> HttpResponse:
    start, error = _start(request.GET.get("start"))
    unit_code = (request.GET.get("unit") or "").strip()
    station_code = (request.GET.get("station") or "").strip()
    context: dict = {"start": start, "error": error, "unit_code": unit_code, "station_code": station_code,
                     "units": selectors.units_for(user_scope(request.user))}
    if station_code:
        station = visible_stations(request.user).filter(code=station_code).first()
        if station is None:
            raise Http404("Không tìm thấy đài trong phạm vi của bạn.")
        context.update(subject=f"{station.name} ({station.code})", station=station, query=f"station={station.code}",
                       week=selectors.week_of(visible_stations(request.user).filter(pk=station.pk), start,
                                              per_station=True))
    elif unit_code:
        unit = selectors.unit_for_week(unit_code)
        scope = narrowed_scope(request.user, unit_code=unit_code) if unit is not None else None
        if scope is None:
            raise Http404("Không tìm thấy xã/phường trong phạm vi của bạn.")
        context.update(subject=f"{unit.name} ({unit.code})", unit=unit, query=f"unit={unit.code}",
                       week=selectors.week_of(visible_stations(request.user).filter(scope.q()), start,
                                              per_station=False))
    return render(request, "operations/week/week.html", context, status=400 if error else 200)


urlpatterns = [path("operations/week/", week_view, name="operations-week")]
