"""Reads of the station registry."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from . import roles
from .models import District, Station, StationCredential


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


def visible_stations(user: Any) -> QuerySet[Station]:
    """Stations a staff user may see: district operators only their own district."""
    qs = Station.objects.select_related("district")
    if roles.has_role(user, roles.SUPERVISOR, roles.EDITOR, roles.APPROVER):
        return qs
    district_id = operator_district_id(user)
    if district_id is not None:
        return qs.filter(district_id=district_id)
    return qs.none()


def operator_district_id(user: Any) -> int | None:
    """The district a district operator is tied to, or None for everyone else."""
    if not roles.has_role(user, roles.DISTRICT_OPERATOR) or getattr(user, "is_superuser", False):
        return None
    try:
        return user.district_operator.district_id
    except ObjectDoesNotExist:
        return -1  # an operator tied to no district sees nothing
