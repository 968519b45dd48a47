"""Reads of the station registry."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from . import roles
from .models import AdminUnit, District, Station, StationCredential


def hash_token(raw: str) -> str:
    # Tokens are 256-bit random values, so a fast hash is enough; no salt needed against guessing.
    return hashlib.sha256(raw.encode()).hexdigest()


def credential_for_token(raw: str) -> StationCredential | None:
    digest = hash_token(raw)
    credential = (
        StationCredential.objects.select_related("station", "station__district")
        .filter(token_hash=digest, revoked_at__isnull=True)
        .first()
    )
    if credential is None or not hmac.compare_digest(credential.token_hash, digest):
        return None
    now = timezone.now()
    # Record use at most every few minutes: a write per request would slow the hot polling path.
    if credential.last_used_at is None or now - credential.last_used_at > timedelta(minutes=5):
        StationCredential.objects.filter(pk=credential.pk).update(last_used_at=now)
    return credential


def stations_with_invalid_slots() -> list[tuple[Station, str]]:
    """Stations whose stored slots break the slot rule, each with the reason, in code order (rows saved
    before the rule existed or written around it; `check_registry` lists and repairs them)."""
    found = []
    for station in Station.objects.select_related("district").order_by("code").iterator(chunk_size=500):
        error = station.slots_error()
        if error:
            found.append((station, error))
    return found


def districts_with_counts() -> QuerySet[District]:
    return District.objects.annotate(station_count=Count("stations", filter=Q(stations__active=True)))


@dataclass(frozen=True)
class Scope:
    """The part of the registry a staff user sees or asked for: everything (both None), or the stations
    of some districts (map before 1 July 2025) and/or some commune-level units (two-level map): a
    union, cut down to `within` when set (an operator narrowing to a district or unit that is only
    partly theirs). `q` applies it to a station by where it stands now (prefix ""), or to a playlist or
    report by the units it was made under (their own `district`/`unit` columns; "playlist__" from an item)."""

    district_ids: frozenset[int] | None = None
    unit_ids: frozenset[int] | None = None
    within: Scope | None = None

    @property
    def everything(self) -> bool:
        return self.district_ids is None and self.unit_ids is None and self.within is None

    def q(self, prefix: str = "") -> Q:
        if self.everything:
            return Q()
        q = Q(**{f"{prefix}district_id__in": []})  # an operator tied to nothing sees nothing
        if self.district_ids:
            q |= Q(**{f"{prefix}district_id__in": sorted(self.district_ids)})
        if self.unit_ids:
            q |= Q(**{f"{prefix}unit_id__in": sorted(self.unit_ids)})
        if self.within is not None:
            q &= self.within.q(prefix)
        return q

    def allows_district(self, district_id: int) -> bool:
        """Whether the whole district is in the scope."""
        return self.everything or (self.within is None and district_id in (self.district_ids or ()))

    def allows_unit(self, unit_id: int) -> bool:
        """Whether the whole commune-level unit is in the scope."""
        return self.everything or (self.within is None and unit_id in (self.unit_ids or ()))


EVERYTHING = Scope()
NOTHING = Scope(frozenset(), frozenset())


def user_scope(user: Any) -> Scope:
    """What a staff user may see: superusers, supervisors, editors and approvers everything; a district
    operator their district, a commune operator their units of the two-level map (both roles: the
    union); an operator tied to nothing, or anyone else, nothing. Kept on the user object for the request,
    as its roles are (`roles.user_roles`): a page asks several times."""
    cached = getattr(user, "_loa_scope", None)
    if cached is None:
        cached = _scope_of(user)
        if hasattr(user, "pk"):
            user._loa_scope = cached
    return cached


def _scope_of(user: Any) -> Scope:
    if getattr(user, "is_superuser", False) or roles.has_role(user, roles.SUPERVISOR, roles.EDITOR, roles.APPROVER):
        return EVERYTHING
    district_ids: frozenset[int] = frozenset()
    unit_ids: frozenset[int] = frozenset()
    if roles.has_role(user, roles.DISTRICT_OPERATOR):
        district_id = operator_district_id(user)
        if district_id is not None and district_id > 0:
            district_ids = frozenset({district_id})
    if roles.has_role(user, roles.COMMUNE_OPERATOR):
        try:
            units = user.commune_operator.units
        except ObjectDoesNotExist:
            pass
        else:
            # Codes repeat across maps (00004 is Phúc Xá before, Ba Đình since): a unit of the old map
            # tied by mistake must not open the new unit of the same code.
            unit_ids = frozenset(units.filter(map=AdminUnit.Map.SINCE_2025, level=AdminUnit.Level.COMMUNE)
                                 .values_list("pk", flat=True))
    return Scope(district_ids, unit_ids)


def narrowed_scope(user: Any, *, district_code: str | None = None, unit_code: str | None = None) -> Scope | None:
    """The user's scope narrowed to one district or one commune-level unit (two-level map) they asked
    for by code (not both: ValueError): the whole unit when it is theirs (or they see everything), its
    part that is theirs when some station of it stands in their scope (a district operator asking for a
    new unit reaching into their district, a commune operator for the old district of their stations);
    None when the unit does not exist or has nothing of theirs."""
    own = user_scope(user)
    if district_code and unit_code:
        raise ValueError("Chỉ lọc theo quận/huyện hoặc theo xã/phường, không cả hai.")
    if district_code:
        district_id = District.objects.filter(code=district_code).values_list("pk", flat=True).first()
        if district_id is None:
            return None
        asked = Scope(district_ids=frozenset({district_id}))
        if own.allows_district(district_id):
            return asked
    elif unit_code:
        unit_id = (AdminUnit.objects.filter(map=AdminUnit.Map.SINCE_2025, level=AdminUnit.Level.COMMUNE,
                                            code=unit_code).values_list("pk", flat=True).first())
        if unit_id is None:
            return None
        asked = Scope(unit_ids=frozenset({unit_id}))
        if own.allows_unit(unit_id):
            return asked
    else:
        return own
    part = Scope(asked.district_ids, asked.unit_ids, within=own)
    return part if Station.objects.filter(part.q()).exists() else None


def visible_stations(user: Any) -> QuerySet[Station]:
    """Stations a staff user may see (operators: those standing in their district or units now)."""
    return Station.objects.select_related("district", "unit").filter(user_scope(user).q())


def operator_district_id(user: Any) -> int | None:
    """The district a district operator is tied to, or None for everyone else."""
    if not roles.has_role(user, roles.DISTRICT_OPERATOR) or getattr(user, "is_superuser", False):
        return None
    try:
        return user.district_operator.district_id
    except ObjectDoesNotExist:
        return -1  # an operator tied to no district sees nothing


def needs_unit_decision_q() -> Q:
    """Stations whose old commune was split across several new units and whose unit nobody confirmed
    (`Station.needs_unit_decision` as a query: the second candidate exists, "unit" is not in edited_fields)."""
    return Q(unit_choices__1__isnull=False) & ~Q(edited_fields__icontains='"unit"')


def stations_needing_unit_decision(codes: list[str] | None = None) -> list[Station]:
    """Those stations (of `codes`, or all), in code order, with their unit."""
    qs = Station.objects.select_related("unit").filter(needs_unit_decision_q())
    if codes is not None:
        qs = qs.filter(code__in=codes)
    return list(qs.order_by("code"))


def unit_names(codes: set[str]) -> dict[str, str]:
    """Names of the two-level map's commune-level units by code."""
    return dict(AdminUnit.objects.filter(map=AdminUnit.Map.SINCE_2025, level=AdminUnit.Level.COMMUNE,
                                         code__in=sorted(codes)).values_list("code", "name"))
