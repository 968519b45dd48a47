"""Rendered audio and the pronunciation lexicon."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q


class AudioRendition(models.Model):
    """One rendered MP3. Keyed so that the same input is never rendered twice.

    For speech: key = sha256 of the speakable text; for a recording: sha256 of the uploaded bytes.
    """

    class Source(models.TextChoices):
        TTS = "tts", "Tổng hợp giọng nói"
        RECORDING = "recording", "Bản ghi âm"

    class Status(models.TextChoices):
        PENDING = "pending", "Đang chờ"
        RENDERING = "rendering", "Đang xử lý"
        READY = "ready", "Sẵn sàng"
        FAILED = "failed", "Lỗi"

    source = models.CharField("nguồn", max_length=12, choices=Source.choices, default=Source.TTS)
    text_hash = models.CharField("mã băm nội dung", max_length=64)
    engine = models.CharField("bộ đọc yêu cầu", max_length=64)
    voice = models.CharField("giọng", max_length=64)
    settings_key = models.CharField("mã thiết lập xử lý", max_length=64)
    speakable_text = models.TextField("văn bản đọc", blank=True)

    status = models.CharField(
        "trạng thái", max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    file = models.CharField("tệp", max_length=300, blank=True, help_text="relative to MEDIA_ROOT")
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    duration_ms = models.PositiveIntegerField("thời lượng (ms)", null=True, blank=True)
    size_bytes = models.PositiveBigIntegerField("dung lượng (byte)", null=True, blank=True)
    loudness_lufs = models.FloatField("độ to (LUFS)", null=True, blank=True)
    true_peak_dbtp = models.FloatField("đỉnh thực (dBTP)", null=True, blank=True)
    engine_used = models.CharField("bộ đọc đã dùng", max_length=64, blank=True)
    engine_attempts = models.JSONField("các lần thử", default=list, blank=True)
    error = models.TextField("lỗi", blank=True)
    # Peaks of the final MP3 (broadcast/audio/render/waveform.py): ~200 integers 0–100, stored once at
    # render so a page draws the picture without decoding audio. Empty: made before it was stored.
    waveform = models.JSONField("hình sóng", default=list, blank=True)
    render_attempts = models.PositiveIntegerField("số lần xử lý", default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The claim of a render in progress: "<worker node name>/<task id>" and when that worker last said it
    # is alive. A claim whose heartbeat stopped, whose task is redelivered, or whose worker starts again
    # (so it died) may be taken over.
    claimed_by = models.CharField("tác vụ đang xử lý", max_length=255, blank=True)
    heartbeat_at = models.DateTimeField("xử lý còn chạy lúc", null=True, blank=True)
    # When its task was last queued to run (for a back-off: when the retry is due); the sweep re-queues
    # a pending rendition only long after this, so a waiting retry is not doubled.
    queued_at = models.DateTimeField("xếp hàng lúc", null=True, blank=True)

    class Meta:
        verbose_name = "bản âm thanh"
        verbose_name_plural = "bản âm thanh"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "text_hash", "engine", "voice", "settings_key"], name="rendition_unique_input"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "rendering", "ready", "failed"]), name="rendition_status_valid"
            ),
            models.CheckConstraint(condition=Q(source__in=["tts", "recording"]), name="rendition_source_valid"),
            # A ready rendition always has its file and checksum.
            models.CheckConstraint(
                condition=~Q(status="ready") | (~Q(file="") & ~Q(sha256="")), name="rendition_ready_has_file"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.text_hash[:10]} [{self.status}]"

    # --- what a page shows of it ---

    @property
    def duration_label(self) -> str:
        """mm:ss (h:mm:ss past an hour), "" when unknown; whole seconds cut down, as players show them."""
        if self.duration_ms is None:
            return ""
        seconds = max(self.duration_ms // 1000, 1 if self.duration_ms else 0)
        hours, rest = divmod(seconds, 3600)
        minutes, secs = divmod(rest, 60)
        return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"

    @property
    def waveform_path(self) -> str:
        """The stored peaks as one SVG path of bars, in a viewBox "0 0 <len(waveform)> 100" (centred on 50)."""
        bars = []
        for x, peak in enumerate(self.waveform or []):
            height = max(1, min(100, int(peak)))
            bars.append(f"M{x} {50 - height / 2:g}h0.8v{height}h-0.8z")
        return "".join(bars)

    # --- claims: who renders it, and whether that worker is still alive ---

    @staticmethod
    def abandoned_claims(now: datetime) -> Q:
        """Renditions `rendering` whose worker stopped refreshing its claim (it died)."""
        before = now - timedelta(seconds=settings.BULLETIN_RENDER_CLAIM_TIMEOUT_SECONDS)
        return Q(status=AudioRendition.Status.RENDERING) & (
            Q(heartbeat_at__lt=before) | Q(heartbeat_at__isnull=True, started_at__lt=before)
            | Q(heartbeat_at__isnull=True, started_at__isnull=True)
        )

    @staticmethod
    def claim_owner(worker: str, task_id: str) -> str:
        return f"{worker or 'local'}/{task_id}"

    @classmethod
    def claimable(cls, now: datetime, task_id: str = "") -> Q:
        """What a render task may claim: pending or failed, an abandoned claim, or its own claim (the broker
        redelivers the message of a killed worker under the same task id, to any worker)."""
        q = Q(status__in=[cls.Status.PENDING, cls.Status.FAILED]) | cls.abandoned_claims(now)
        if task_id:
            q |= Q(status=cls.Status.RENDERING, claimed_by__endswith=f"/{task_id}")
        return q

    @classmethod
    def claimed_by_worker(cls, worker: str) -> Q:
        return Q(status=cls.Status.RENDERING, claimed_by__startswith=f"{worker}/")

    def claim_abandoned(self, now: datetime) -> bool:
        if self.status != self.Status.RENDERING:
            return False
        last_seen = self.heartbeat_at or self.started_at
        return last_seen is None or last_seen < now - timedelta(seconds=settings.BULLETIN_RENDER_CLAIM_TIMEOUT_SECONDS)

    def past_expected_time(self, now: datetime) -> bool:
        return (self.status == self.Status.RENDERING and self.started_at is not None
                and self.started_at < now - timedelta(seconds=settings.BULLETIN_RENDER_STUCK_SECONDS))

    def can_retry(self, now: datetime) -> bool:
        """Failed, or stuck in rendering: its worker died, or it runs well past its expected time."""
        return self.status == self.Status.FAILED or self.claim_abandoned(now) or self.past_expected_time(now)


class PronunciationEntry(models.Model):
    """A lexicon entry: how a term (case-sensitive) is read aloud, e.g. UBND → Ủy ban nhân dân."""

    term = models.CharField("từ viết", max_length=100, unique=True)
    spoken = models.CharField("cách đọc", max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "cách đọc"
        verbose_name_plural = "từ điển cách đọc"
        ordering = ["term"]
        constraints = [
            models.CheckConstraint(condition=~Q(term="") & ~Q(spoken=""), name="pronunciation_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.term} → {self.spoken}"
