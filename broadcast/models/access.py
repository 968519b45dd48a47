"""Staff API tokens: like station tokens, only a SHA-256 of the token is stored; they expire and can be
revoked."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone


class StaffToken(models.Model):
    """One login of a staff user to the API (`Authorization: Token …`). The raw token is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_tokens", verbose_name="người dùng"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField("tiền tố", max_length=8, help_text="first characters, to tell tokens apart")
    created_at = models.DateTimeField("tạo lúc", default=timezone.now)
    expires_at = models.DateTimeField("hết hạn lúc", db_index=True)
    revoked_at = models.DateTimeField("thu hồi lúc", null=True, blank=True)
    last_used_at = models.DateTimeField("dùng lần cuối", null=True, blank=True)

    class Meta:
        verbose_name = "khóa API của cán bộ"
        verbose_name_plural = "khóa API của cán bộ"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user}:{self.prefix}…"

    def is_live(self, now: dt.datetime | None = None) -> bool:
        return self.revoked_at is None and (now or timezone.now()) < self.expires_at

    def needs_use_stamp(self, now: dt.datetime) -> bool:
        # Recorded at most every few minutes: a write on every request would be wasted work.
        return self.last_used_at is None or now - self.last_used_at > dt.timedelta(minutes=5)
