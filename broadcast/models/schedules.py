"""What airs where and when: an approved bulletin, a date range, slots and target stations."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from .bulletins import Bulletin

# Days of the week as people read them, in `Schedule.days_of_week` order (Monday=0 … Sunday=6).
WEEKDAY_NAMES = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")


class Schedule(models.Model):
    bulletin = models.ForeignKey(Bulletin, on_delete=models.PROTECT, related_name="schedules")
    start_date = models.DateField("từ ngày")
    end_date = models.DateField("đến ngày")
    # Monday=0 … Sunday=6; empty means every day.
    days_of_week = models.JSONField("thứ trong tuần", default=list, blank=True)
    slots = models.JSONField("khung giờ", default=list, blank=True)
    plays_per_slot = models.PositiveSmallIntegerField("số lần mỗi khung", default=1)
    # {"all": bool, "districts": [code], "units": [code], "stations": [code], "kinds": [kind]}: the union of
    # these; districts name where stations stood before 1 July 2025, units where they stand now.
    targets = models.JSONField("đối tượng", default=dict)
    immediate = models.BooleanField("phát ngay", default=False)
    is_demo = models.BooleanField("dữ liệu mẫu", default=False, editable=False)  # made by `seed_demo`
    target_station_count = models.PositiveIntegerField("số đài nhận", default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("tạo lúc", auto_now_add=True)
    cancelled_at = models.DateTimeField("hủy lúc", null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "lịch phát"
        verbose_name_plural = "lịch phát"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["start_date", "end_date"], name="schedule_dates")]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="schedule_end_after_start"),
            models.CheckConstraint(
                condition=Q(plays_per_slot__gte=1) & Q(plays_per_slot__lte=20), name="schedule_plays_per_slot_range"
            ),
        ]

    def __str__(self) -> str:
        return f"Lịch #{self.pk}: {self.bulletin} ({self.start_date} → {self.end_date})"

    def airs_on(self, day: dt.date) -> bool:
        """Whether its plays belong on the local `day`: a day of its range and of its days of the week,
        or, for an immediate schedule, the day it was made (not yet saved: no such day)."""
        in_range = self.start_date <= day <= self.end_date and (
            not self.days_of_week or day.weekday() in self.days_of_week)
        return in_range or (self.immediate and self.created_at is not None
                            and timezone.localdate(self.created_at, timezone.get_default_timezone()) == day)
