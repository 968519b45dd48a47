"""Station tokens: issued once, stored as a hash, revoked."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from ..models import Station, StationCredential
from ..selectors import hash_token


@transaction.atomic
def issue_station_token(station: Station, *, issued_by: Any = None) -> str:
    """Revokes any live token of the station and returns a new one; only its hash is kept."""
    Station.objects.select_for_update().filter(pk=station.pk).first()
    StationCredential.objects.filter(station=station, revoked_at__isnull=True).update(revoked_at=timezone.now())
    raw = secrets.token_urlsafe(32)
    StationCredential.objects.create(
        station=station,
        token_hash=hash_token(raw),
        prefix=raw[:6],
        created_by=issued_by if getattr(issued_by, "pk", None) else None,
    )
    return raw


def revoke_station_tokens(station: Station) -> int:
    return StationCredential.objects.filter(station=station, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
