"""The stations registry pages: which stations a person sees (filters, search without diacritics, sort),
the figures of a page of them (health, today's plays in one grouped query), one station's token and
history of health changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from broadcast.selectors.bulletins import folded_pattern
from broadcast.selectors.coverage import Counts, coverage_by_station
from stations.models import AdminUnit, District, Station, StationCredential, StationStatusChange
from stations.selectors import Scope, narrowed_scope, user_scope, visible_stations

# Silent first: the list is read to find who to phone.
HEALTH_ORDER = Case(
    When(status=Station.Status.SILENT, then=Value(0)), When(status=Station.Status.LATE, then=Value(1)),
    When(status=Station.Status.NEVER, then=Value(2)), default=Value(3), output_field=IntegerField(),
)
SORTS: dict[str, tuple[str, tuple[Any, ...]]] = {
    "code": ("Mã đài", ("code",)),
    "name": ("Tên đài", ("name", "code")),
    "health": ("Tình trạng (mất liên lạc trước)",
               (HEALTH_ORDER.asc(), F("last_seen_at").asc(nulls_first=True), "code")),
    "unheard": ("Lâu chưa liên lạc nhất", (F("last_seen_at").asc(nulls_first=True), "code")),
    "recent": ("Mới liên lạc nhất", (F("last_seen_at").desc(nulls_last=True), "code")),
}
DEFAULT_SORT = "code"
MAX_TERMS = 5


class OutOfScope(Exception):
    """The asked unit or district does not exist or has nothing the person may see."""


def registry_scope(user: Any, *, unit_code: str = "", district_code: str = "") -> Scope:
    """The user's scope, narrowed to the unit or district they picked (OutOfScope when not theirs)."""
    if not unit_code and not district_code:
        return user_scope(user)
    if district_code and not user_scope(user).everything:
        raise OutOfScope(district_code)  # the old districts are offered to who sees everything only
    scope = narrowed_scope(user, unit_code=unit_code or None, district_code=None if unit_code else district_code)
    if scope is None:
        raise OutOfScope(unit_code or district_code)
    return scope


def registry_stations(
    user: Any, *, scope: Scope | None = None, query: str = "", status: str = "", sort: str = DEFAULT_SORT,
) -> QuerySet[Station]:
    """Visible stations in `scope`, with every word of `query` in the name or code (case and diacritics
    ignored: "ba dinh" finds "Ba Đình"), of one health `status` when given, in the order `sort` names."""
    stations = visible_stations(user)
    if scope is not None:
        stations = stations.filter(scope.q())
    for term in query.split()[:MAX_TERMS]:
        pattern = folded_pattern(term)
        stations = stations.filter(Q(name__regex=pattern) | Q(code__regex=pattern))
    if status:
        stations = stations.filter(status=status)
    return stations.order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT])[1])


def health_counts(stations: QuerySet[Station]) -> dict[str, int]:
    """How many of `stations` are in each health status (deactivated ones too: the table lists them)."""
    counts = dict(stations.order_by().values("status").annotate(n=Count("id")).values_list("status", "n"))
    return {status: counts.get(status, 0) for status in Station.Status.values}


def unit_choices(user: Any) -> list[tuple[str, str]]:
    """(code, name) of the commune-level units (two-level map) where stations the user sees stand."""
    units = AdminUnit.objects.filter(map=AdminUnit.Map.SINCE_2025, level=AdminUnit.Level.COMMUNE,
                                     pk__in=visible_stations(user).order_by().values("unit_id"))
    return list(units.order_by("code").values_list("code", "name"))


def district_choices(user: Any) -> list[tuple[str, str]]:
    """(code, name) of the old districts, offered only to who sees everything."""
    if not user_scope(user).everything:
        return []
    return list(District.objects.filter(stations__isnull=False).distinct().order_by("code")
                .values_list("code", "name"))


# Health statuses in the order a person reads them: what needs a phone call first.
STATUS_ORDER = (Station.Status.SILENT, Station.Status.LATE, Station.Status.NEVER, Station.Status.ONLINE)


def status_choices() -> list[tuple[str, str]]:
    return [(status.value, status.label) for status in STATUS_ORDER]


@dataclass
class RegistryRow:
    station: Station
    today: Counts
    seen_ago: str

    @property
    def disk_free_mb(self) -> float | None:
        return disk_free_mb(self.station)


def disk_free_mb(station: Station) -> float | None:
    """Free disk space the station's last heartbeat reported (MB), or None."""
    value = (station.agent_state or {}).get("disk_free_mb") if isinstance(station.agent_state, dict) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def registry_rows(stations: list[Station], day: date, *, now: datetime | None = None) -> list[RegistryRow]:
    """A page of stations with their plays of `day`: one grouped query for the page, not one per row."""
    now = now or timezone.now()
    counts = coverage_by_station(day, stations, now=now)
    return [RegistryRow(station, counts[station.pk], ago(station.last_seen_at, now)) for station in stations]


def station_for(user: Any, code: str) -> Station | None:
    """The station of `code` if the user may see it."""
    return visible_stations(user).filter(code=code).first()


def live_credential(station: Station) -> StationCredential | None:
    """The station's token in use (at most one), or None."""
    return StationCredential.objects.filter(station=station, revoked_at__isnull=True).select_related(
        "created_by").first()


def status_history(station: Station) -> QuerySet[StationStatusChange]:
    """The station's health changes, newest first."""
    return StationStatusChange.objects.filter(station=station).order_by("-at", "-id")


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """'vừa xong', '5 phút trước', '3 giờ trước', '2 ngày trước'; 'chưa bao giờ' when never."""
    if moment is None:
        return "chưa bao giờ"
    seconds = int(((now or timezone.now()) - moment).total_seconds())
    if seconds < 60:
        return "vừa xong"
    if seconds < 3600:
        return f"{seconds // 60} phút trước"
    if seconds < 86400:
        return f"{seconds // 3600} giờ trước"
    return f"{seconds // 86400} ngày trước"
