"""Bearer authentication for station devices, and the DRF permission classes built on roles."""

from __future__ import annotations

import threading
from typing import Any

from rest_framework import authentication, exceptions, permissions
from rest_framework.throttling import SimpleRateThrottle

from . import health, roles
from .models import Station, StationCredential


class StationPrincipal:
    """request.user for a station: authenticated, but never a staff user, so staff endpoints refuse it."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, station: Station, credential: StationCredential) -> None:
        self.station = station
        self.credential = credential

    def __str__(self) -> str:
        return f"station:{self.station.code}"

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return False

    def has_perms(self, perms: Any, obj: Any = None) -> bool:
        return False

    def has_module_perms(self, app_label: str) -> bool:
        return False


class StationTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[StationPrincipal, StationCredential] | None:
        from .selectors import credential_for_token

        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Tiêu đề Authorization không hợp lệ.")
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Khóa truy cập không hợp lệ.") from None
        credential = credential_for_token(raw)
        if credential is None:
            raise exceptions.AuthenticationFailed("Khóa truy cập không hợp lệ hoặc đã bị thu hồi.")
        if not credential.station.active:
            raise exceptions.AuthenticationFailed("Đài đang bị tạm ngừng.")
        health.touch_last_seen(credential.station.pk, credential.station.last_seen_at)
        return StationPrincipal(credential.station, credential), credential

    def authenticate_header(self, request: Any) -> str:
        return f'{self.keyword} realm="station"'


def is_station(user: Any) -> bool:
    return isinstance(user, StationPrincipal)


def is_staff_user(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and not is_station(user)


class IsStation(permissions.BasePermission):
    message = "Chỉ thiết bị của đài được dùng địa chỉ này."

    def has_permission(self, request: Any, view: Any) -> bool:
        return is_station(request.user)


class HasRole(permissions.BasePermission):
    """Staff users in any of `roles` (superusers always). Subclass or use `HasRole.of(...)`."""

    roles: tuple[str, ...] = ()
    message = "Bạn không có quyền thực hiện thao tác này."

    def has_permission(self, request: Any, view: Any) -> bool:
        return is_staff_user(request.user) and roles.has_role(request.user, *self.roles)

    @classmethod
    def of(cls, *role_names: str) -> type[HasRole]:
        return type(f"HasRole_{'_'.join(role_names)}", (cls,), {"roles": role_names})


class HasPerm(permissions.BasePermission):
    """Staff users holding all of `perms` ("app_label.codename"), through their role groups (the grants of
    roles.ROLE_GRANTS) or directly; superusers always. Use `HasPerm.of(...)`."""

    perms: tuple[str, ...] = ()
    message = "Bạn không có quyền thực hiện thao tác này."

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return is_staff_user(user) and user.is_active and user.has_perms(self.perms)

    @classmethod
    def of(cls, *perm_names: str) -> type[HasPerm]:
        return type(f"HasPerm_{'_'.join(p.replace('.', '_') for p in perm_names)}", (cls,), {"perms": perm_names})


class IsStaffReader(HasRole):
    """Any staff role of the API may read the registry."""

    roles = roles.STAFF_API_ROLES


class StationThrottle(SimpleRateThrottle):
    """Rate limit per station (STATION_THROTTLE_RATE), counted in the shared cache (CACHE_URL).

    A counter per fixed window of the rate's period rather than DRF's list of timestamps (read and
    rewritten whole on every request, its cost growing with the rate): one atomic increment per request,
    so concurrent requests on several web workers are all counted. The 304 poll, answered before DRF
    runs, counts through allow_poll."""

    scope = "station"
    # The 304 poll's counts in this process: {station id: polls} for the window _poll_window.
    _polls: dict[int, int] = {}
    _poll_window: int | None = None
    _poll_lock = threading.Lock()

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        station = getattr(request.user, "station", None)
        return self.station_key(station.pk) if station else None

    def station_key(self, station_id: int) -> str:
        return self.cache_format % {"scope": self.scope, "ident": station_id}

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        return True if key is None else self._count(key)

    def allow_poll(self, station_id: int) -> bool:
        """Counts one 304 poll. The poll is the cheapest and most frequent request, so its count stays in
        this process and goes to the shared counter a batch at a time (a tenth of the rate, at most 10):
        a device polling at a sane pace never costs a cache round trip, and one polling in a loop is
        refused once the shared count, short by less than a batch per web worker, passes the rate."""
        if self.rate is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        batch = min(10, max(1, self.num_requests // 10))
        cls = type(self)
        with cls._poll_lock:
            if cls._poll_window != window:
                cls._polls, cls._poll_window = {}, window
            polls = cls._polls[station_id] = cls._polls.get(station_id, 0) + 1
        if polls > self.num_requests:
            return False
        return True if polls % batch else self._count(self.station_key(station_id), batch)

    def _count(self, key: str, by: int = 1) -> bool:
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_ends = (window + 1) * self.duration
        self.key = f"{key}:{window}"
        try:
            count = self.cache.incr(self.key, by)
        except ValueError:  # first request of the window (or its key just expired)
            count = by if self.cache.add(self.key, by, self.duration + 1) else self.cache.incr(self.key, by)
        return count <= self.num_requests

    def wait(self) -> float:
        return max(0.0, self.window_ends - self.now)
