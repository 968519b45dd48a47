"""Reads of access control: the staff token behind a raw `Authorization: Token …` value, and what a
district operator may see."""

from __future__ import annotations

import hmac
from typing import Any

from django.db.models import QuerySet

from stations.models import District, Station
from stations.selectors import hash_token

from ..models import Schedule, StaffToken


def staff_token_for(raw: str) -> StaffToken | None:
    """The stored token for a raw value (revoked or expired included: the caller says which), or None."""
    digest = hash_token(raw)
    token = StaffToken.objects.select_related("user").filter(token_hash=digest).first()
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    return token


def _reaches(targets: dict[str, Any], district_code: str, station_codes: set[str], kinds: set[str]) -> bool:
    """Whether a schedule's target spec (a union) names the district, one of its stations, or a kind it has."""
    return bool(
        targets.get("all")
        or district_code in (targets.get("districts") or [])
        or station_codes.intersection(targets.get("stations") or [])
        or kinds.intersection(targets.get("kinds") or [])
    )


def schedules_reaching(schedules: QuerySet[Schedule], district_id: int | None) -> QuerySet[Schedule]:
    """`schedules` narrowed to those reaching the district (None: no narrowing). Stations of the district
    count whether active or not, so an operator still sees a schedule that named a station now paused."""
    if district_id is None:
        return schedules
    district = District.objects.filter(pk=district_id).first()
    if district is None:  # an operator tied to no district sees nothing
        return schedules.none()
    stations = list(Station.objects.filter(district_id=district_id).values_list("code", "kind"))
    codes, kinds = {code for code, _ in stations}, {kind for _, kind in stations}
    # Targets are a small JSON union; matching them here keeps one definition for SQLite and PostgreSQL.
    ids = [pk for pk, targets in schedules.order_by().values_list("pk", "targets").iterator()
           if _reaches(targets or {}, district.code, codes, kinds)]
    return schedules.filter(pk__in=ids)
