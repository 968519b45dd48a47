"""Proof of play: what a station says it played. Append-only, idempotent per (station, report_id)."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from stations.models import AdminUnit, District, Station

from .playlists import PlaylistItem


class PlaybackReport(models.Model):
    class Status(models.TextChoices):
        PLAYED = "played", "Đã phát"
        FAILED = "failed", "Lỗi phát"
        SKIPPED = "skipped", "Bỏ qua"
        INTERRUPTED = "interrupted", "Bị ngắt"

    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="playback_reports")
    report_id = models.CharField("mã báo cáo của đài", max_length=64)
    playlist_item = models.ForeignKey(
        PlaylistItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    status = models.CharField("kết quả", max_length=12, choices=Status.choices)
    started_at = models.DateTimeField("bắt đầu")
    ended_at = models.DateTimeField("kết thúc", null=True, blank=True)
    error = models.TextField("lỗi", blank=True)
    received_at = models.DateTimeField("nhận lúc", auto_now_add=True)
    # Snapshot of what was planned, so later edits or deletions never change the legal play log.
    playlist_date = models.DateField("ngày phát", db_index=True)
    bulletin_id_snapshot = models.BigIntegerField("mã bản tin")
    bulletin_title = models.CharField("tiêu đề bản tin", max_length=300)
    revision_number = models.PositiveIntegerField("phiên bản")
    sha256 = models.CharField(max_length=64)
    slot = models.CharField("khung giờ", max_length=32)
    planned_start = models.DateTimeField("giờ phát dự kiến", null=True, blank=True)
    # The units the play was made under (the playlist's, else where the station stood when reported).
    district = models.ForeignKey(District, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 verbose_name="quận/huyện khi phát")
    unit = models.ForeignKey(AdminUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             verbose_name="xã/phường khi phát")

    class Meta:
        verbose_name = "báo cáo phát"
        verbose_name_plural = "báo cáo phát"
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["playlist_date", "station"], name="report_date_station")]
        constraints = [
            models.UniqueConstraint(fields=["station", "report_id"], name="report_unique_station_report_id"),
            models.CheckConstraint(
                condition=Q(status__in=["played", "failed", "skipped", "interrupted"]), name="report_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")), name="report_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.station_id}:{self.report_id} {self.status}"

    @staticmethod
    def plausible_start_window(
        day: dt.date, slot_start: dt.datetime | None, planned_start: dt.datetime | None, *, skew: dt.timedelta,
    ) -> tuple[dt.datetime, dt.datetime]:
        """When a play of an item planned on local `day` may have started, as (earliest, latest): from
        its slot's start (or its own planned start if earlier, or if it has no slot of the station) to
        the end of its day, each widened by the tolerated clock `skew`."""
        day_start = dt.datetime.combine(day, dt.time.min, timezone.get_default_timezone())
        begins = [t for t in (slot_start, planned_start) if t is not None]
        earliest = min(begins) if begins else day_start
        return earliest - skew, day_start + dt.timedelta(days=1) + skew


class StationInactivity(models.Model):
    """A span during which a station was deactivated (`until` is null while it still is): plays planned
    to start within it are neither expected nor missed. Recorded from the registry's change signal."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="inactivities")
    since = models.DateTimeField("ngừng hoạt động từ")
    until = models.DateTimeField("hoạt động lại lúc", null=True, blank=True)

    class Meta:
        verbose_name = "thời gian ngừng hoạt động"
        verbose_name_plural = "thời gian ngừng hoạt động"
        ordering = ["station", "since"]
        indexes = [models.Index(fields=["station", "since"], name="inactivity_station_since")]
        constraints = [
            models.UniqueConstraint(fields=["station"], condition=Q(until__isnull=True),
                                    name="inactivity_one_open_per_station"),
        ]

    def __str__(self) -> str:
        return f"{self.station_id}: {self.since:%Y-%m-%d %H:%M} → {self.until or '…'}"

    def covers(self, moment: dt.datetime) -> bool:
        return self.since <= moment and (self.until is None or moment < self.until)
