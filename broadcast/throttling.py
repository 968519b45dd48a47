"""Throttles whose 429 answers speak Vietnamese (DRF's default message is only partly translated)."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.throttling import AnonRateThrottle


class Throttled(exceptions.Throttled):
    default_detail = "Quá nhiều yêu cầu."
    extra_detail_singular = "Vui lòng thử lại sau {wait} giây."
    extra_detail_plural = "Vui lòng thử lại sau {wait} giây."


class LoginThrottled(Throttled):
    default_detail = "Quá nhiều lần đăng nhập sai."


class AnonThrottle(AnonRateThrottle):
    """ANON_THROTTLE_RATE per client address for requests without credentials."""

    def allow_request(self, request: Any, view: Any) -> bool:
        if super().allow_request(request, view):
            return True
        wait = self.wait()
        # Raised here rather than returned as False so the answer carries the Vietnamese message.
        raise Throttled(wait=None if wait is None else max(1, round(wait)))
