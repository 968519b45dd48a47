"""What a station is: the registry (districts, stations), its credentials and its health."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

# The pseudo-slot of immediate (emergency) plays in a playlist: no station slot may take its name.
EMERGENCY_SLOT = "now"
_SLOT_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

DEFAULT_SLOTS: list[dict[str, str]] = [
    {"name": "morning", "start": "06:00", "end": "06:30"},
    {"name": "evening", "start": "17:00", "end": "17:30"},
]


def default_slots() -> list[dict[str, str]]:
    return [dict(slot) for slot in DEFAULT_SLOTS]


def validate_slots(slots: Any) -> list[dict[str, str]]:
    """Checks a slot list ([{name, start, end}]) and returns it normalized (in time order); raises
    ValueError with a Vietnamese message. The one slot rule of the registry: import, admin and API."""
    if not isinstance(slots, list) or not slots:
        raise ValueError("cần ít nhất một khung giờ")
    seen: set[str] = set()
    cleaned = []
    for slot in slots:
        if not isinstance(slot, dict) or set(slot) != {"name", "start", "end"}:
            raise ValueError("mỗi khung giờ cần đúng các trường name, start, end")
        name, start, end = str(slot["name"]), str(slot["start"]), str(slot["end"])
        if not _SLOT_NAME_RE.match(name):
            raise ValueError(f"tên khung giờ không hợp lệ: {name!r}")
        if name == EMERGENCY_SLOT:
            raise ValueError(f"tên khung giờ {name!r} dành cho bản tin phát ngay")
        if name in seen:
            raise ValueError(f"khung giờ trùng tên: {name}")
        for value in (start, end):
            if not _TIME_RE.match(value):
                raise ValueError(f"giờ không hợp lệ: {value!r} (định dạng HH:MM)")
        if end <= start:
            raise ValueError(f"khung giờ {name}: giờ kết thúc phải sau giờ bắt đầu")
        seen.add(name)
        cleaned.append({"name": name, "start": start, "end": end})
    ordered = sorted(cleaned, key=lambda s: s["start"])
    for previous, current in zip(ordered, ordered[1:], strict=False):
        if current["start"] < previous["end"]:
            raise ValueError(f"khung giờ {previous['name']} và {current['name']} chồng nhau")
    return ordered


class District(models.Model):
    """A district-level unit (quận/huyện/thị xã). `code` is the official mã ĐVHC."""

    code = models.CharField("mã ĐVHC", max_length=16, unique=True)
    name = models.CharField("tên", max_length=200)
    kind = models.CharField("loại đơn vị", max_length=40, blank=True, help_text="quận, huyện, thị xã…")
    province_code = models.CharField("mã tỉnh/thành", max_length=8, blank=True)
    province_name = models.CharField("tỉnh/thành", max_length=200, blank=True)

    class Meta:
        verbose_name = "quận/huyện"
        verbose_name_plural = "quận/huyện"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Station(models.Model):
    class Kind(models.TextChoices):
        COMMUNE = "commune", "Đài xã/phường/thị trấn"
        DISTRICT_CENTER = "district_center", "Trung tâm văn hóa quận/huyện"

    class Status(models.TextChoices):
        NEVER = "never", "Chưa kết nối"
        ONLINE = "online", "Đang hoạt động"
        LATE = "late", "Chậm báo"
        SILENT = "silent", "Mất liên lạc"

    code = models.CharField("mã đài", max_length=32, unique=True)
    name = models.CharField("tên đài", max_length=200)
    kind = models.CharField("loại đài", max_length=20, choices=Kind.choices, default=Kind.COMMUNE)
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="stations", verbose_name="quận/huyện"
    )
    admin_code = models.CharField("mã ĐVHC", max_length=16, blank=True)
    slots = models.JSONField("khung giờ phát", default=default_slots)
    active = models.BooleanField("đang hoạt động", default=True)
    # Registry fields a person changed by hand (of EDITABLE_FIELDS): a re-import keeps them (unless reset).
    edited_fields = models.JSONField("sửa tay", default=list, blank=True, editable=False)
    created_at = models.DateTimeField("tạo lúc", auto_now_add=True)
    updated_at = models.DateTimeField("cập nhật lúc", auto_now=True)

    # Health, the healthchecks way: a stored deadline refreshed by each heartbeat and swept periodically.
    status = models.CharField(
        "trạng thái", max_length=10, choices=Status.choices, default=Status.NEVER, db_index=True
    )
    last_seen_at = models.DateTimeField("lần cuối liên lạc", null=True, blank=True)
    heartbeat_deadline = models.DateTimeField("hạn nhịp tim", null=True, blank=True, db_index=True)
    status_changed_at = models.DateTimeField("đổi trạng thái lúc", null=True, blank=True)
    agent_version = models.CharField("phiên bản thiết bị", max_length=64, blank=True)
    agent_state = models.JSONField("trạng thái thiết bị", default=dict, blank=True)

    class Meta:
        verbose_name = "đài"
        verbose_name_plural = "đài"
        ordering = ["district__code", "kind", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["commune", "district_center"]), name="station_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["never", "online", "late", "silent"]), name="station_status_valid"
            ),
            # A re-import keys on the official unit code, so one unit never gets two stations of a kind.
            models.UniqueConstraint(
                fields=["kind", "admin_code"], condition=~Q(admin_code=""), name="station_unique_admin_code"
            ),
        ]

    # Fields a schedule's targets or the playlist builder depend on: a change rebuilds the station's playlists.
    TARGETING_FIELDS = ("code", "kind", "district", "slots", "active")
    # Fields supervisors edit by hand, kept by a re-import of the registry.
    EDITABLE_FIELDS = ("slots", "active")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        try:
            self.slots = validate_slots(self.slots)
        except ValueError as exc:
            raise ValidationError({"slots": [f"Khung giờ không hợp lệ: {exc}."]}) from None

    def slots_error(self) -> str | None:
        """Why the stored slots break the slot rule (Vietnamese), or None: rows saved before the rule
        existed, or written around it, may hold anything."""
        try:
            validate_slots(self.slots)
        except ValueError as exc:
            return str(exc)
        return None

    @property
    def slot_names(self) -> list[str]:
        return [slot["name"] for slot in self.slots]


class StationStatusChange(models.Model):
    """One row per health status change, so a timeline shows when a station went silent and came back."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=10, choices=Station.Status.choices)
    to_status = models.CharField(max_length=10, choices=Station.Status.choices)
    at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "thay đổi trạng thái"
        verbose_name_plural = "thay đổi trạng thái"
        ordering = ["-at"]
        indexes = [models.Index(fields=["station", "-at"], name="status_change_station_at")]

    def __str__(self) -> str:
        return f"{self.station_id}: {self.from_status} → {self.to_status} @ {self.at:%Y-%m-%d %H:%M}"


class StationCredential(models.Model):
    """A station's API token. Only a SHA-256 of the token is stored; the token is shown once."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="credentials")
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField("tiền tố", max_length=8, help_text="first characters, to tell tokens apart")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "khóa truy cập của đài"
        verbose_name_plural = "khóa truy cập của đài"
        constraints = [
            models.UniqueConstraint(
                fields=["station"], condition=Q(revoked_at__isnull=True), name="one_live_credential_per_station"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.station.code}:{self.prefix}…"


class DistrictOperator(models.Model):
    """Ties a user of the district_operator group to the one district they may see."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="district_operator"
    )
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="operators")

    class Meta:
        verbose_name = "cán bộ quận/huyện"
        verbose_name_plural = "cán bộ quận/huyện"

    def __str__(self) -> str:
        return f"{self.user} → {self.district}"
