"""Reads of access control: the staff token behind a raw `Authorization: Token …` value."""

from __future__ import annotations

import hmac

from stations.selectors import hash_token

from ..models import StaffToken


def staff_token_for(raw: str) -> StaffToken | None:
    """The stored token for a raw value (revoked or expired included: the caller says which), or None."""
    digest = hash_token(raw)
    token = StaffToken.objects.select_related("user").filter(token_hash=digest).first()
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    return token
