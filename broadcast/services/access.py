"""Writes of access control: staff API tokens (issue, revoke) and the login throttle's counters.

Login throttle: failed logins are counted per user name and per client address in the Django cache
(CACHE_URL, Redis in production, so every web worker shares the counts). Past the limit, further logins
for that name or from that address wait until the window ends, even with the right password. Each
attempt is counted before its password is checked (`begin_login`), so parallel attempts cannot overshoot.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from rest_framework.throttling import BaseThrottle

from stations.selectors import hash_token

from ..models import StaffToken

__all__ = [
    "IssuedToken",
    "LoginAttempt",
    "begin_login",
    "client_address",
    "issue_staff_token",
    "record_login_success",
    "revoke_staff_token",
    "revoke_staff_tokens",
]


# ---------------------------------------------------------------- staff tokens


@dataclass(frozen=True)
class IssuedToken:
    raw: str  # shown once to the user, never stored
    token: StaffToken


def issue_staff_token(user: Any) -> IssuedToken:
    """A new API token for the user, valid STAFF_TOKEN_TTL_DAYS; only its hash is stored."""
    raw = secrets.token_urlsafe(32)
    now = timezone.now()
    token = StaffToken.objects.create(
        user=user, token_hash=hash_token(raw), prefix=raw[:6], created_at=now,
        expires_at=now + timedelta(days=settings.STAFF_TOKEN_TTL_DAYS),
    )
    return IssuedToken(raw=raw, token=token)


def revoke_staff_token(token: StaffToken) -> bool:
    """Revokes one token; False when it was already revoked."""
    now = timezone.now()
    changed = StaffToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    if changed:
        token.revoked_at = now
    return bool(changed)


@transaction.atomic
def revoke_staff_tokens(user: Any) -> int:
    """Revokes every live token of the user (log out everywhere); returns how many."""
    return StaffToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


# ---------------------------------------------------------------- login throttle


def client_address(request: Any) -> str:
    """The client's address as DRF's throttles see it (REMOTE_ADDR, or X-Forwarded-For behind NUM_PROXIES)."""
    return BaseThrottle().get_ident(request) or "unknown"


def _key(kind: str, value: str) -> str:
    # Hashed so any user name makes a valid, bounded cache key.
    return f"loa:login:{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


def _keys(username: str, address: str) -> list[tuple[str, int]]:
    # NFKC as Django's login form reads the name: 'ｑｕａｎｔｒｉ' signs in as 'quantri', so it shares its count.
    # (Cut first: a page login's name is any length, and no account's name is over 150 characters.)
    name = unicodedata.normalize("NFKC", (username or "")[:300]).strip().casefold()
    return [(_key("user", name), settings.LOGIN_MAX_FAILURES_PER_USER),
            (_key("addr", address), settings.LOGIN_MAX_FAILURES_PER_ADDRESS)]


def _wait(keys: list[str]) -> int:
    """Seconds until the latest of these counts' windows ends."""
    starts = cache.get_many([f"{k}:start" for k in keys])
    window, now = settings.LOGIN_LOCKOUT_SECONDS, time.time()
    return max(max(1, math.ceil(starts.get(f"{key}:start", now) + window - now)) for key in keys)


def _reserve(key: str) -> int:
    """Counts one attempt atomically (add, else incr: both atomic in Redis and locmem); the new count."""
    window = settings.LOGIN_LOCKOUT_SECONDS
    cache.add(f"{key}:start", time.time(), window)
    if cache.add(key, 1, window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        return 1


def _give_back(keys: list[str]) -> None:
    for key in keys:
        try:
            cache.decr(key)
        except ValueError:  # the window ended meanwhile: nothing left to give back
            pass


@dataclass
class LoginAttempt:
    """One login, counted as a failure before its password is checked, so parallel attempts (one per web
    worker) cannot all pass the check and overshoot the limit. Past the limit it is not allowed (`wait`
    seconds) and counts for nothing; once checked, `failed()` keeps the count, `succeeded()` clears the
    name's count and gives the address's back, `abandoned()` (neither outcome) gives both back."""

    username: str
    allowed: bool
    wait: int | None
    _reserved: list[str]

    def failed(self) -> None:
        self._reserved = []

    def succeeded(self) -> None:
        user_key, _ = _keys(self.username, "")[0]
        _give_back([key for key in self._reserved if key != user_key])
        self._reserved = []
        record_login_success(self.username)

    def abandoned(self) -> None:
        _give_back(self._reserved)
        self._reserved = []


def begin_login(username: str, address: str) -> LoginAttempt:
    """Reserves this attempt's place in the name's and the address's failure counts; refused (and the
    reservation given back) when either count would pass its limit."""
    keys = _keys(username, address)
    reserved = [key for key, _ in keys]
    over = [key for key, limit in keys if _reserve(key) > limit]
    if over:
        _give_back(reserved)
        return LoginAttempt(username, allowed=False, wait=_wait(over), _reserved=[])
    return LoginAttempt(username, allowed=True, wait=None, _reserved=reserved)


def record_login_success(username: str) -> None:
    """The right password clears the name's count (not the address's: one address may try many names)."""
    key, _ = _keys(username, "")[0]
    cache.delete_many([key, f"{key}:start"])
