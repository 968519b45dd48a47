"""Station tokens: issued once, stored as a hash, revoked. The token also yields the station's MQTT
password (stations/agent/credentials.py), of which only Mosquitto's hash is kept; the broker's password
file follows every issue and revocation after the commit."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from .. import broker
from ..agent.credentials import mqtt_password, mqtt_username_ok
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
        # A code with '+', '#', '/' … is no MQTT user name (pattern ACLs): that station only polls.
        mqtt_password_hash=broker.hash_password(mqtt_password(raw)) if mqtt_username_ok(station.code) else "",
    )
    broker.sync_after_commit()
    return raw


def revoke_station_tokens(station: Station) -> int:
    revoked = StationCredential.objects.filter(station=station, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if revoked:
        broker.sync_after_commit()
    return revoked
