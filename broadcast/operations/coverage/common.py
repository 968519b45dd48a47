"""What the coverage pages share: who may read them, the asked day and unit, the charts' bars."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest

from broadcast.api.common import MAX_DATE, MIN_DATE
from broadcast.newsroom.access import role_required
from broadcast.operations.charts import Bar
from broadcast.selectors.coverage import UnitCoverage
from broadcast.selectors.playlists import local_today
from stations import roles
from stations.models import AdminUnit, District
from stations.selectors import Scope, narrowed_scope, user_scope

READERS = (roles.SUPERVISOR, *roles.OPERATOR_ROLES)
reader_required: Callable[..., Any] = role_required(
    *READERS, message="Chỉ giám sát viên và cán bộ quận/huyện, xã/phường được xem trang này.")

MAP_LABELS = {
    AdminUnit.Map.SINCE_2025: "Theo xã/phường (từ 01/07/2025)",
    AdminUnit.Map.BEFORE_2025: "Theo quận/huyện (trước 01/07/2025)",
}
SORTS = {"code": "Mã", "name": "Tên", "coverage": "Độ phủ"}
ORDERS = {"asc": "tăng dần", "desc": "giảm dần"}


def asked_day(request: HttpRequest) -> dt.date:
    """The asked date, or today when it is malformed or outside the API's bounds (at the calendar's
    ends the previous/next day links would overflow)."""
    raw = request.GET.get("date")
    try:
        day = dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        day = None
    return day if day is not None and MIN_DATE <= day <= MAX_DATE else local_today()


def asked_scope(request: HttpRequest, by_unit: bool) -> tuple[str, str, Scope | None, Scope]:
    """(parameter, code, narrowed scope or None, scope to show): `?unit=` on the two-level map,
    `?district=` before it; a code outside the user's scope (or unknown) shows their whole scope."""
    param = "unit" if by_unit else "district"
    code = request.GET.get(param) or ""
    narrowed = None
    if code:
        try:
            narrowed = (narrowed_scope(request.user, unit_code=code) if by_unit
                        else narrowed_scope(request.user, district_code=code))
        except ValueError:
            narrowed = None
    return param, (code if narrowed is not None else ""), narrowed, narrowed or user_scope(request.user)


def filter_choices(user: Any, by_unit: bool) -> list[tuple[str, str]]:
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


def sort_order(request: HttpRequest) -> tuple[str, str]:
    sort = request.GET.get("sort") or "code"
    order = request.GET.get("order") or "asc"
    return (sort if sort in SORTS else "code"), (order if order in ORDERS else "asc")


def sorted_bars(bars: Iterable[Bar], sort: str, order: str) -> list[Bar]:
    """By code, name (Vietnamese letters after their base letter is close enough here: casefold) or
    coverage; bars with nothing due always last."""
    bars = list(bars)
    if sort == "coverage":
        known = sorted((b for b in bars if b.value is not None), key=lambda b: (b.value, b.code),
                       reverse=order == "desc")
        return known + [b for b in bars if b.value is None]
    key = (lambda b: (b.name.casefold(), b.code)) if sort == "name" else (lambda b: b.code)
    return sorted(bars, key=key, reverse=order == "desc")


def sort_links(base: dict[str, str], sort: str, order: str) -> list[dict[str, Any]]:
    """The links that re-sort the bars, keeping the other parameters."""
    links = []
    for key, label in SORTS.items():
        for direction, words in ORDERS.items():
            query = urlencode({**{k: v for k, v in base.items() if v}, "sort": key, "order": direction})
            links.append({"href": f"?{query}", "label": f"{label} {'↑' if direction == 'asc' else '↓'}",
                          "title": f"Sắp xếp theo {label.lower()}, {words}",
                          "current": (key, direction) == (sort, order)})
    return links


def unit_bars(rows: Iterable[UnitCoverage], href: Callable[[UnitCoverage], str] | None = None) -> list[Bar]:
    return [Bar(row.code, row.name, row.counts.coverage_pct, row.counts.played, row.counts.expected,
                row.counts.pending, href(row) if href and row.code else "") for row in rows]


def split_counts(counts: Any) -> dict[str, int]:
    return {"played": counts.played, "failed": counts.failed, "missed": counts.missed, "pending": counts.pending}
