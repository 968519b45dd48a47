"""Materialized daily playlists, one per station per day, versioned for cheap polling."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from stations.models import AdminUnit, District, Station

from .audio import AudioRendition
from .bulletins import Bulletin, BulletinRevision
from .schedules import Schedule


class Playlist(models.Model):
    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="playlists")
    date = models.DateField("ngày", db_index=True)
    version = models.PositiveIntegerField("phiên bản", default=1)
    etag = models.CharField(max_length=80, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    generated_at = models.DateTimeField("tạo lúc")
    # Where the station stood when the playlist was built (both maps): coverage and the play log group
    # and scope by these, so moving a station later never rewrites a past day.
    district = models.ForeignKey(District, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 verbose_name="quận/huyện khi dựng")
    unit = models.ForeignKey(AdminUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             verbose_name="xã/phường khi dựng")

    class Meta:
        verbose_name = "danh sách phát"
        verbose_name_plural = "danh sách phát"
        ordering = ["-date", "station__code"]
        constraints = [models.UniqueConstraint(fields=["station", "date"], name="playlist_unique_station_date")]

    def __str__(self) -> str:
        return f"{self.station.code} {self.date} v{self.version}"

    def save(self, *args, **kwargs) -> None:
        # Made now, under the units the station stands in now (the builder writes these in bulk itself).
        if self._state.adding and self.district_id is None and self.unit_id is None:
            self.district_id, self.unit_id = Station.objects.filter(pk=self.station_id).values_list(
                "district_id", "unit_id").get()
        super().save(*args, **kwargs)


class PlaylistItem(models.Model):
    """One planned play. `key` is stable across rebuilds, so report references survive a rebuild.

    Unplaced items (did not fit any slot that day) have no position and carry `unplaced_reason`.
    """

    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="items")
    key = models.CharField(max_length=120)
    position = models.PositiveIntegerField("thứ tự", null=True, blank=True)
    slot = models.CharField("khung giờ", max_length=32)
    requested_slot = models.CharField("khung giờ yêu cầu", max_length=32, blank=True)
    starts_at = models.DateTimeField("giờ phát dự kiến", null=True, blank=True)
    ends_at = models.DateTimeField("giờ kết thúc dự kiến", null=True, blank=True)
    schedule = models.ForeignKey(Schedule, null=True, blank=True, on_delete=models.SET_NULL, related_name="items")
    bulletin = models.ForeignKey(Bulletin, on_delete=models.PROTECT, related_name="+")
    revision = models.ForeignKey(BulletinRevision, on_delete=models.PROTECT, related_name="+")
    rendition = models.ForeignKey(AudioRendition, on_delete=models.PROTECT, related_name="+")
    sha256 = models.CharField(max_length=64)
    duration_ms = models.PositiveIntegerField()
    priority = models.CharField(max_length=10, choices=Bulletin.Priority.choices)
    unplaced_reason = models.CharField("lý do chưa xếp", max_length=300, blank=True)
    # Proof of play, folded in from reports so coverage is one aggregate over items.
    report_status = models.CharField("kết quả phát", max_length=12, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "mục phát"
        verbose_name_plural = "mục phát"
        ordering = ["playlist", "position"]
        # The station audio lookup: is this sha256 in this station's playlist of that date.
        indexes = [models.Index(fields=["playlist", "sha256"], name="playlist_item_sha256")]
        constraints = [
            models.UniqueConstraint(fields=["playlist", "key"], name="playlist_item_unique_key"),
            models.UniqueConstraint(
                fields=["playlist", "position"], condition=Q(position__isnull=False),
                name="playlist_item_unique_position",
            ),
            models.CheckConstraint(
                condition=Q(position__isnull=False) | ~Q(unplaced_reason=""), name="playlist_item_unplaced_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.playlist} #{self.position} {self.slot}"
