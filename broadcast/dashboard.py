"""The supervisors' dashboard: server-rendered pages over the coverage selectors (no JavaScript)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path

from broadcast.api.common import MAX_DATE, MIN_DATE
from broadcast.login import throttled_login
from broadcast.selectors import coverage as coverage_selectors
from broadcast.selectors.playlists import local_today
from stations import roles
from stations.auth import is_staff_user
from stations.models import AdminUnit, District, map_in_force
from stations.selectors import narrowed_scope, user_scope, visible_stations

OUTCOME_LABELS = {"played": "Đã phát", "failed": "Lỗi", "missed": "Bỏ lỡ", "pending": "Chờ phát"}


def _require_reader(request: HttpRequest) -> None:
    if not (is_staff_user(request.user) and roles.has_role(request.user, roles.SUPERVISOR, *roles.OPERATOR_ROLES)):
        raise PermissionDenied("Chỉ giám sát viên và cán bộ quận/huyện, xã/phường được xem trang này.")


def _day(request: HttpRequest) -> dt.date:
    """The asked date, or today when it is malformed or outside the API's bounds (at the calendar's
    ends the previous/next day links would overflow)."""
    raw = request.GET.get("date")
    try:
        day = dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        day = None
    return day if day is not None and MIN_DATE <= day <= MAX_DATE else local_today()


MAP_LABELS = {
    AdminUnit.Map.SINCE_2025: "Theo xã/phường (từ 01/07/2025)",
    AdminUnit.Map.BEFORE_2025: "Theo quận/huyện (trước 01/07/2025)",
}


def _filter_choices(user: Any, by_unit: bool) -> list[tuple[str, str]]:
    """(code, name) of the units a user may pick in the filter for the map in force: every district or
    commune-level unit for those who see everything, a commune operator's own units (when more than
    one), nothing otherwise (a select listing units they cannot see would only lead to a 404)."""
    own = user_scope(user)
    if by_unit:
        units = AdminUnit.objects.filter(map=AdminUnit.Map.SINCE_2025, level=AdminUnit.Level.COMMUNE)
        if not own.everything:
            units = units.filter(pk__in=sorted(own.unit_ids or ()))
            if len(own.unit_ids or ()) < 2:
                return []
        return list(units.order_by("code").values_list("code", "name"))
    if own.everything:
        return list(District.objects.order_by("code").values_list("code", "name"))
    return []


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    day = _day(request)
    by_unit = map_in_force(day) == AdminUnit.Map.SINCE_2025
    param = "unit" if by_unit else "district"
    code = request.GET.get(param) or ""
    narrowed = None
    if code:
        narrowed = (narrowed_scope(request.user, unit_code=code) if by_unit
                    else narrowed_scope(request.user, district_code=code))
    scope = narrowed or user_scope(request.user)
    report = coverage_selectors.coverage_report(day, scope=scope)
    stations = visible_stations(request.user).filter(scope.q())
    attention = coverage_selectors.stations_needing_attention(stations)
    context: dict[str, Any] = {
        "day": day, "prev_day": day - dt.timedelta(days=1), "next_day": day + dt.timedelta(days=1),
        "report": report, "attention": attention,
        "status_counts": coverage_selectors.status_counts(stations),
        "map_label": MAP_LABELS[report.map], "by_unit": by_unit, "filter_param": param,
        "filter_choices": _filter_choices(request.user, by_unit),
        "selected": code if narrowed is not None else "",
        "sees_everything": user_scope(request.user).everything,
    }
    return render(request, "dashboard/overview.html", context)


@login_required
def station_timeline(request: HttpRequest, code: str) -> HttpResponse:
    _require_reader(request)
    station = get_object_or_404(visible_stations(request.user), code=code)
    day = _day(request)
    timeline = coverage_selectors.station_timeline(station, day)
    rows = [(item, timeline.item_outcomes[item.pk], OUTCOME_LABELS[timeline.item_outcomes[item.pk]])
            for item in timeline.items]
    return render(request, "dashboard/station.html", {
        "day": day, "prev_day": day - dt.timedelta(days=1), "next_day": day + dt.timedelta(days=1),
        "station": station, "timeline": timeline, "rows": rows,
    })




class LoginView(auth_views.LoginView):
    template_name = "dashboard/login.html"
    redirect_authenticated_user = True


urlpatterns = [
    path("dashboard/", overview, name="dashboard"),
    path("dashboard/stations/<path:code>/", station_timeline, name="dashboard-station"),  # a code may hold '/'
    path("accounts/login/", throttled_login(LoginView.as_view()), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(next_page="/accounts/login/"), name="logout"),
]
