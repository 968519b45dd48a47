"""`Authorization: Token …` for staff API clients, checked against hashed, expiring, revocable StaffTokens.

(Its own module: DRF imports authentication classes while building APIView's defaults, so this must
not import any view.)"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import authentication, exceptions

from .models import StaffToken
from .selectors.access import staff_token_for

MSG_BAD_HEADER = "Tiêu đề Authorization không hợp lệ."
MSG_BAD_TOKEN = "Khóa API không hợp lệ hoặc đã bị thu hồi."
MSG_EXPIRED = "Khóa API đã hết hạn, vui lòng đăng nhập lại."
MSG_INACTIVE = "Tài khoản đã bị khóa."


class StaffTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request: Any) -> tuple[Any, StaffToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(MSG_BAD_HEADER)
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(MSG_BAD_TOKEN) from None
        token = staff_token_for(raw)
        now = timezone.now()
        if token is None or token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(MSG_BAD_TOKEN)
        if not token.is_live(now):
            raise exceptions.AuthenticationFailed(MSG_EXPIRED)
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(MSG_INACTIVE)
        if token.needs_use_stamp(now):
            StaffToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request: Any) -> str:
        return f'{self.keyword} realm="api"'
