"""Reads of access control: the staff token behind a raw `Authorization: Token …` value, and what an
operator (district or commune-level units) may see."""

from __future__ import annotations

import hmac
from typing import Any

from django.db.models import QuerySet

from stations.models import AdminUnit, District, Station
from stations.selectors import Scope, hash_token

from ..models import Schedule, StaffToken


def staff_token_for(raw: str) -> StaffToken | None:
    """The stored token for a raw value (revoked or expired included: the caller says which), or None."""
    digest = hash_token(raw)
    token = StaffToken.objects.select_related("user").filter(token_hash=digest).first()
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    return token


def _reaches(targets: dict[str, Any], district_codes: set[str], unit_codes: set[str], station_codes: set[str],
             kinds: set[str]) -> bool:
    """Whether a schedule's target spec (a union) names one of the districts or units, one of their
    stations, or a kind they have."""
    return bool(
        targets.get("all")
        or district_codes.intersection(targets.get("districts") or [])
        or unit_codes.intersection(targets.get("units") or [])
        or station_codes.intersection(targets.get("stations") or [])
        or kinds.intersection(targets.get("kinds") or [])
    )


def schedules_reaching(schedules: QuerySet[Schedule], scope: Scope) -> QuerySet[Schedule]:
    """`schedules` narrowed to those reaching the scope (everything: no narrowing): naming one of its
    districts or units, or the district or unit of one of its stations, one of those stations or a
    kind they have. Stations count whether active or not, so an operator still sees a schedule that
    named a station now paused."""
    if scope.everything:
        return schedules
    stations = list(Station.objects.filter(scope.q()).values_list("code", "kind", "district__code", "unit__code"))
    codes = {code for code, _, _, _ in stations}
    kinds = {kind for _, kind, _, _ in stations}
    district_codes = {d for _, _, d, _ in stations}
    unit_codes = {u for _, _, _, u in stations if u}
    if scope.within is None:
        # A whole district or unit of the scope is reached even before any station stands in it; a part
        # of one (an operator's narrowing) only through its stations.
        district_codes |= set(District.objects.filter(pk__in=scope.district_ids or ()).values_list("code", flat=True))
        unit_codes |= set(AdminUnit.objects.filter(pk__in=scope.unit_ids or (), map=AdminUnit.Map.SINCE_2025)
                          .values_list("code", flat=True))
    if not (codes or district_codes or unit_codes):  # an operator tied to nothing sees nothing
        return schedules.none()
    # Targets are a small JSON union; matching them here keeps one definition for SQLite and PostgreSQL.
    ids = [pk for pk, targets in schedules.order_by().values_list("pk", "targets").iterator()
           if _reaches(targets or {}, district_codes, unit_codes, codes, kinds)]
    return schedules.filter(pk__in=ids)
