"""What the newsroom tells a person: a bulletin waits for their approval, theirs was approved or sent back."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from .bulletins import Bulletin, BulletinTransition


class Notification(models.Model):
    """One message to one person about one step of a bulletin's workflow (shown in the newsroom, e-mailed)."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", "Chờ duyệt"
        APPROVED = "approved", "Đã duyệt"
        REJECTED = "rejected", "Bị trả lại"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name="người nhận"
    )
    bulletin = models.ForeignKey(
        Bulletin, on_delete=models.CASCADE, related_name="notifications", verbose_name="bản tin"
    )
    # The workflow step it tells of: its comment (the reason a bulletin was sent back), and what makes
    # a notification unique, so a task run twice adds nothing.
    transition = models.ForeignKey(
        BulletinTransition, on_delete=models.CASCADE, related_name="notifications", verbose_name="bước"
    )
    kind = models.CharField("loại", max_length=10, choices=Kind.choices)
    created_at = models.DateTimeField("tạo lúc", auto_now_add=True)
    read_at = models.DateTimeField("đã xem lúc", null=True, blank=True)
    emailed_at = models.DateTimeField("gửi thư lúc", null=True, blank=True)

    class Meta:
        verbose_name = "thông báo"
        verbose_name_plural = "thông báo"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["transition", "recipient"], name="notification_once_per_step"),
            models.CheckConstraint(
                condition=Q(kind__in=["submitted", "approved", "rejected"]), name="notification_kind_valid"
            ),
        ]
        indexes = [
            # The count in the navigation, on every page: unread ones of one person.
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id}: {self.kind} {self.bulletin_id}"
