"""Push delivery of an emergency: per station, what was sent and what the station acknowledged.

The broker only rings the bell; these rows are the record a supervisor answers for: every send and re-send
(PushAttempt) and each acknowledgement's time, whichever way it came (MQTT or the station's report queue).
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q

from stations.models import Station

from ..push.messages import ACK_STATES
from .schedules import Schedule


class EmergencyDelivery(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Chưa gửi"
        SENT = "sent", "Đã gửi, chưa nhận"
        RECEIVED = "received", "Đã nhận"
        DOWNLOADED = "downloaded", "Đã tải"
        STARTED = "started", "Đang phát"
        COMPLETED = "completed", "Đã phát xong"
        FAILED = "failed", "Lỗi"
        INTERRUPTED = "interrupted", "Bị ngắt"

    # Acknowledged states in the order a play goes through them; the three last ones all end it.
    ACK_STATES = ACK_STATES
    ENDED = ("completed", "failed", "interrupted")
    # Rung (or about to be) and nothing heard yet: what the re-send and the unreachable list look at.
    AWAITING_RECEIPT = ("pending", "sent")
    RANK = {"pending": 0, "sent": 1, "received": 2, "downloaded": 3, "started": 4,
            "completed": 5, "failed": 5, "interrupted": 5}

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="deliveries")
    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="emergency_deliveries")
    item_id = models.BigIntegerField("mã mục phát", null=True, blank=True)
    state = models.CharField("trạng thái", max_length=12, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField("hết hạn")
    first_sent_at = models.DateTimeField("gửi lần đầu", null=True, blank=True)
    last_sent_at = models.DateTimeField("gửi lần cuối", null=True, blank=True)
    attempts = models.PositiveIntegerField("số lần gửi", default=0)
    received_at = models.DateTimeField("đã nhận lúc", null=True, blank=True)
    downloaded_at = models.DateTimeField("đã tải lúc", null=True, blank=True)
    started_at = models.DateTimeField("bắt đầu phát lúc", null=True, blank=True)
    ended_at = models.DateTimeField("kết thúc lúc", null=True, blank=True)
    reason = models.CharField("lý do", max_length=500, blank=True)
    # Set by the escalation sweep when nothing was received in time; cleared by any acknowledgement.
    unreachable_at = models.DateTimeField("không liên lạc được từ", null=True, blank=True)

    class Meta:
        verbose_name = "gửi khẩn cấp tới đài"
        verbose_name_plural = "gửi khẩn cấp tới đài"
        constraints = [
            models.UniqueConstraint(fields=["schedule", "station"], name="delivery_unique_schedule_station"),
            models.CheckConstraint(
                condition=Q(state__in=["pending", "sent", "received", "downloaded", "started", "completed",
                                       "failed", "interrupted"]),
                name="delivery_state_valid",
            ),
        ]
        indexes = [
            # The escalation sweep: deliveries not yet received, oldest send first.
            models.Index(fields=["state", "last_sent_at"], name="delivery_state_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.schedule_id}→{self.station_id}: {self.state}"

    def apply_ack(self, state: str, at: dt.datetime, reason: str = "") -> list[str]:
        """Records one acknowledgement; states only move forward, a late lower one only fills its time.
        Returns the fields changed (empty: a duplicate)."""
        changed: list[str] = []
        time_field = "ended_at" if state in self.ENDED else f"{state}_at"
        if getattr(self, time_field) is None:
            setattr(self, time_field, at)
            changed.append(time_field)
        if self.RANK[state] > self.RANK[self.state]:
            self.state = state
            changed.append("state")
            if state in ("failed", "interrupted") and reason:
                self.reason = reason[:500]
                changed.append("reason")
        if changed and self.unreachable_at is not None:
            self.unreachable_at = None
            changed.append("unreachable_at")
        return changed


class PushAttempt(models.Model):
    """One command published (or tried) to one station."""

    class Kind(models.TextChoices):
        SEND = "send", "Gửi"
        RESEND = "resend", "Gửi lại"
        CANCEL = "cancel", "Hủy"

    class Outcome(models.TextChoices):
        PUBLISHED = "published", "Đã chuyển tới máy chủ tin"
        FAILED = "failed", "Không gửi được"

    delivery = models.ForeignKey(EmergencyDelivery, on_delete=models.CASCADE, related_name="push_attempts")
    kind = models.CharField("loại", max_length=8, choices=Kind.choices)
    outcome = models.CharField("kết quả", max_length=10, choices=Outcome.choices)
    at = models.DateTimeField("lúc")
    error = models.CharField("lỗi", max_length=300, blank=True)
    by = models.CharField("người gửi lại", max_length=150, blank=True)  # a manual re-send names its sender

    class Meta:
        verbose_name = "lần gửi khẩn cấp"
        verbose_name_plural = "lần gửi khẩn cấp"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.delivery_id}: {self.kind} {self.outcome}"
